"""wss:// with a certificate from a test CA (trustme), for every command that takes --cafile."""

from __future__ import annotations

from pathlib import Path

import pytest
import trustme

from wsprobe.server import BackgroundServer, ServerConfig

from .conftest import Wsprobe

SCENARIO = """\
name: tls
actors:
  alice: {}
steps:
  - connect: alice
  - send: {actor: alice, frame: {type: new-user-add, userId: alice}}
  - expect: {actor: alice, type: get-users, where: {data: {contains: alice}}}
"""
COMMANDS = {
    "fuzz": ["fuzz", "{url}", "--max-cases", "20", "--group", "frames/control", "--no-progress"],
    "run": ["run", "scenario.yaml", "{url}", "--no-progress"],
    "verify": ["verify", "{url}", "--check", "P3", "--timeout", "1"],
}


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A test CA's certificate, and a server certificate for 127.0.0.1 (key and chain)."""
    folder = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    ca.cert_pem.write_to_path(folder / "ca.pem")
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(folder / "server.pem")
    return folder / "ca.pem", folder / "server.pem"


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize(("trust", "code"), [("cafile", 0), ("insecure", 0), ("none", 3)],
                         ids=["test-ca", "insecure", "untrusted"])
def test_wss_with_a_test_ca(*, wsprobe: Wsprobe, tmp_path: Path, tls: tuple[Path, Path],
                            command: str, trust: str, code: int) -> None:
    """Trusted through --cafile or --insecure the run passes; an unknown CA is exit 3, no traceback."""
    ca, pem = tls
    (tmp_path / "scenario.yaml").write_text(SCENARIO)
    extra = {"cafile": ["--cafile", str(ca)], "insecure": ["--insecure"], "none": []}[trust]
    with BackgroundServer(ServerConfig(port=0, certfile=pem)) as url:
        assert url.startswith("wss://")
        done = wsprobe(*[a.replace("{url}", url) for a in COMMANDS[command]], *extra,
                       timeout=60)
    output = done.stdout + done.stderr
    assert "Traceback" not in output
    assert done.returncode == code, output[-2000:]
    if code == 3:
        assert "certificate" in output.lower()
