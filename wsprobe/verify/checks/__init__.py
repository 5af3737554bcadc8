"""wsprobe's own checks, one module per part of protocol.md; importing this registers them all."""

from wsprobe.verify.checks import (
    chat,
    conformance,
    presence,
    robustness,
    security,
    signals,
    transport,
)

__all__ = ["chat", "conformance", "presence", "robustness", "security", "signals", "transport"]
