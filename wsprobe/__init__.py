"""wsprobe: conformance, scenario and fan-out load testing for /ws/ws WebSocket backends."""

__version__ = "0.1.0"

__all__ = ["__version__"]
