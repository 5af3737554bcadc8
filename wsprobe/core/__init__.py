"""wsprobe's core: frames to messages to problems, with no I/O: no sockets, clocks or prints."""

from wsprobe.core.messages import Decoded, Direction, Message, MessageType, Problem, decode
from wsprobe.core.schemas import BASE_URI, SchemaLoadError, SchemaSet, load_schemas

__all__ = [
    "BASE_URI",
    "Decoded",
    "Direction",
    "Message",
    "MessageType",
    "Problem",
    "SchemaLoadError",
    "SchemaSet",
    "decode",
    "load_schemas",
]
