"""The sans-I/O pieces of verify: predicates on get-users, selection, exit codes, no heavy imports."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from wsprobe.scenario.events import Status
from wsprobe.verify.context import DELIVERY, Either, UsersListed, fields, user_ids
from wsprobe.verify.registry import Level
from wsprobe.verify.result import CheckResult
from wsprobe.verify.runner import _exit_code


@pytest.mark.parametrize(("data", "ids"), [
    (["a", "b"], ["a", "b"]),
    ([{"userId": "a"}, {"userId": "b", "name": "B"}], ["a", "b"]),
    ([{"name": "x"}, ""], [None, ""]),
    ({"a": 1}, []),
    (None, []),
], ids=["strings", "objects", "broken-items", "object-not-list", "missing"])
def test_user_ids_reads_both_forms_of_get_users(data: Any, ids: list[Any]):
    """get-users data may list strings or {"userId"} objects; anything else lists nothing."""
    assert user_ids(data) == ids


def test_users_listed_and_omitted():
    """UsersListed holds when every id is (or, with present=False, none is) in the list."""
    frame = {"type": "get-users", "data": [{"userId": "a"}, "b"]}
    assert UsersListed(("a", "b")).test(frame)
    assert not UsersListed(("a", "c")).test(frame)
    assert UsersListed(("c",), present=False).test(frame)
    assert not UsersListed(("a",), present=False).test(frame)
    assert 'expected data lists "a", "c"' in UsersListed(("a", "c")).explain(frame)


def test_delivery_accepts_both_spellings_and_either_combines():
    """Chat checks take receive-message or recieve-message; Either holds if any branch does."""
    good = {"type": "receive-message", "data": {"text": "hi"}}
    typo = {"type": "recieve-message", "data": {"text": "hi"}}
    other = {"type": "agora-signal", "data": {"text": "hi"}}
    assert DELIVERY.test(good) and DELIVERY.test(typo) and not DELIVERY.test(other)
    either = Either((fields({"data.text": "hi"}, DELIVERY), tuple(fields({"type": "error"}))))
    assert either.test(typo) and either.test({"type": "error"}) and not either.test(other)


def _result(status: Status, stopped: bool = False) -> CheckResult:
    return CheckResult("c", "P1", Level.MUST, "t", status, server_stopped=stopped)


@pytest.mark.parametrize(("statuses", "strict", "code"), [
    ([Status.PASSED, Status.SKIPPED], False, 0),
    ([Status.PASSED, Status.WARNING], False, 0),
    ([Status.PASSED, Status.WARNING], True, 1),
    ([Status.FAILED, Status.PASSED], False, 1),
    ([Status.ERROR, Status.PASSED], False, 2),
    ([Status.SKIPPED, Status.SKIPPED], False, 2),
], ids=["passed", "warning", "warning-strict", "failed", "tool-error", "nothing-tested"])
def test_exit_codes(statuses: list[Status], strict: bool, code: int):
    """0 passed, 1 a MUST failed (or a warning under --strict), 2 tool error or nothing tested."""
    assert _exit_code([_result(s) for s in statuses], strict) == code


def test_importing_verify_pulls_in_no_load_or_report_stack():
    """wsprobe.verify never imports locust, gevent or pandas (nor the reference server)."""
    code = ("import sys, wsprobe.verify, wsprobe.cli.verify; "
            "print(sorted(m for m in ('locust', 'gevent', 'pandas', 'wsprobe.server') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "[]"


def test_public_surface_is_pinned():
    """wsprobe.verify exports exactly its documented names, sorted."""
    import wsprobe.verify

    expected = ["DELIVERY", "ENTRY_POINT_GROUP", "REGISTRY", "CheckContext", "CheckName",
                "CheckResult", "CheckSpec", "Either", "Level", "Needs", "RegisterForm",
                "Registry", "TypeIs", "UsersListed", "VerifyConfig", "VerifyResult", "check",
                "fields", "load_plugins", "select_checks", "verify", "verify_async"]
    assert wsprobe.verify.__all__ == expected
    assert all(hasattr(wsprobe.verify, name) for name in expected)
