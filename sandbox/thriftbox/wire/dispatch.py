"""From decoded arguments to reply bytes: argument checks against the IDL and reply encoding.

Apache servers answer a broken call with an EXCEPTION message carrying a ``TApplicationException``; these
helpers build those, with messages that name the method, the argument and the types involved.
"""

from __future__ import annotations

from typing import Any

from thriftpy2.thrift import TApplicationException, TMessageType, TType

from thriftbox.wire.app import AppError, Binding, Raise, Reply, Success
from thriftbox.wire.codec import TYPE_NAMES, Codec, same_wire_type

UNKNOWN_METHOD = TApplicationException.UNKNOWN_METHOD
INVALID_MESSAGE_TYPE = TApplicationException.INVALID_MESSAGE_TYPE
INTERNAL_ERROR = TApplicationException.INTERNAL_ERROR
PROTOCOL_ERROR = TApplicationException.PROTOCOL_ERROR
CALL, REPLY, EXCEPTION, ONEWAY = (
    TMessageType.CALL,
    TMessageType.REPLY,
    TMessageType.EXCEPTION,
    TMessageType.ONEWAY,
)


class ReplyError(Exception):
    """A reply that cannot be sent as asked (it becomes an INTERNAL_ERROR)."""


def type_name(spec: tuple[Any, ...]) -> str:
    """The declared type of a ``thrift_spec`` entry, for messages: ``i32``, ``list``, ``User``."""
    if spec[0] == TType.STRUCT and len(spec) > 3:
        return str(spec[2].__name__)
    return TYPE_NAMES.get(spec[0], f"type {spec[0]}")


def check_args(method: str, args: Any, binding: Binding, codec: Codec, payload: Any) -> str | None:
    """Why ``args`` break the IDL (a required argument missing, an argument sent with the wrong wire type),
    or ``None``. thriftpy2 skips a field whose wire type does not match, so an argument that decoded as
    ``None`` is looked up in the payload as sent."""
    spec = binding.args_cls.thrift_spec  # type: ignore[attr-defined]
    sent: dict[int, int] | None = None
    for fid, field in spec.items():
        name = field[1]
        if getattr(args, name) is not None:
            continue
        if sent is None:
            sent = codec.wire_types(payload)
        wire = sent.get(fid)
        if wire is not None and not same_wire_type(wire, field[0]):
            got = TYPE_NAMES.get(wire, f"type {wire}")
            return f"{method}: argument '{name}' (field {fid}) must be {type_name(field)}, got {got}"
        if wire is None and name in binding.required:
            return f"{method}: required argument '{name}' (field {fid}) is missing"
    return None


def app_error(codec: Codec, name: str, seqid: int, kind: int, message: str) -> bytes:
    """An EXCEPTION message carrying ``TApplicationException(kind, message)``."""
    return codec.encode(name, EXCEPTION, seqid, TApplicationException(kind, message))


def encode_reply(codec: Codec, method: str, seqid: int, binding: Binding, reply: Reply) -> bytes:
    """The bytes for a :class:`Success`, :class:`Raise` or :class:`AppError` reply.

    Raises :class:`ReplyError` for a reply that does not fit the method, and whatever the encoder raises
    for values that do not fit their declared types."""
    if isinstance(reply, Success):
        result = binding.result_cls()
        if 0 in binding.result_cls.thrift_spec:  # type: ignore[attr-defined]
            result.success = reply.value
        return codec.encode(method, REPLY, seqid, result)
    if isinstance(reply, Raise):
        fields = {f[1] for fid, f in binding.result_cls.thrift_spec.items() if fid != 0}  # type: ignore[attr-defined]
        if reply.field_name not in fields:
            declared = ", ".join(sorted(fields)) or "none"
            raise ReplyError(
                f"{method} declares no exception field {reply.field_name!r} (declared: {declared})"
            )
        result = binding.result_cls()
        setattr(result, reply.field_name, reply.exc)
        return codec.encode(method, REPLY, seqid, result)
    if isinstance(reply, AppError):
        return app_error(codec, method, seqid, reply.type, reply.message)
    raise ReplyError(f"{method}: handler returned {reply!r}, not a Reply")
