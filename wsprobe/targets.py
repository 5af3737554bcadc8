"""What every command needs to know about a target URL: is it on this machine, how to trust it.

A leaf module (stdlib and :mod:`wsprobe.errors` only) so that the CLI, the scenario engine, verify,
fuzz and load share one answer.
"""

from __future__ import annotations

import ipaddress
import ssl
from pathlib import Path
from urllib.parse import urlsplit

from wsprobe.errors import InputError

__all__ = ["client_ssl_context", "is_loopback"]


def is_loopback(url: str) -> bool:
    """True when ``url``'s host is ``localhost``, 127.0.0.0/8 or ``::1``."""
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def client_ssl_context(cafile: Path | str | None, insecure: bool) -> ssl.SSLContext | None:
    """TLS for a ``wss://`` client: the system's CAs plus ``cafile``'s, or none checked
    (``insecure``); ``None`` when neither is given (the library's default context applies)."""
    if cafile is None and not insecure:
        return None
    context = ssl.create_default_context()
    if cafile is not None:
        try:
            context.load_verify_locations(cafile)
        except (OSError, ssl.SSLError) as exc:
            raise InputError(f"--cafile {cafile}: cannot read a CA certificate: {exc}") from None
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
