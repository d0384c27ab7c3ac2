"""What a matched rule answers: a value, a declared exception, a TApplicationException, a fault, or the
generated answer; each optionally late (``latency_ms``)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any, Literal

from thriftbox.idl.model import Field, Kind, Method, TypeRef
from thriftbox.stubs.context import Context, did_you_mean, listing
from thriftbox.stubs.source import line_of
from thriftbox.stubs.templates import Const, Node, Render, Struct, Template, compile_value
from thriftbox.wire.app import APP_ERROR_TYPES, AppError, Fault, NoReply, Raise, Reply, Success

ANSWER_KEYS = ("return", "throw", "app_error", "fault")
FAULTS = ("close", "garbage", "stall")
DEFAULT_STALL_S = 30.0
_STRING = TypeRef(Kind.STRING)
# z-scores of the percentiles a latency distribution may be given by
_Z = {"p75": 0.6745, "p90": 1.2816, "p95": 1.6449, "p99": 2.3263, "p999": 3.0902}


@dataclass(frozen=True)
class Latency:
    """A delay in milliseconds: fixed, uniform between two bounds, or log-normal fitted to percentiles."""

    kind: Literal["fixed", "uniform", "lognormal"]
    a: float  # fixed value, min, or p50
    b: float = 0.0  # max, or sigma
    cap: float = 0.0  # log-normal draws are capped here

    def sample_ms(self, rng: random.Random) -> float:
        if self.kind == "fixed":
            return self.a
        if self.kind == "uniform":
            return rng.uniform(self.a, self.b)
        return min(self.cap, self.a * math.exp(self.b * rng.gauss(0.0, 1.0)))


@dataclass
class Answer:
    """One answer: ``kind`` "generate" leaves the value to the generator."""

    kind: Literal["generate", "return", "throw", "app_error", "fault"]
    latency: Latency | None = None
    value: Node | None = None  # return, throw
    exc_field: str = ""  # throw: the result field of the exception
    exc_qname: str = ""
    app_type: int = 6
    message: Node | None = None  # app_error
    fault: Literal["close", "garbage", "stall"] = "close"
    seconds: float = 0.0

    def reply(self, r: Render, method: Method) -> Reply | None:
        """The wire reply, or None for "the generated answer"."""
        if self.kind == "fault":
            return Fault(self.fault, self.seconds)
        if method.oneway:
            return NoReply()
        if self.kind == "return":
            node = self.value
            if method.returns.kind is Kind.VOID:
                return Success(None)
            if isinstance(node, Struct) and not node.exact:  # the generator's answer, with fields fixed
                return Success(r.generator.answer(r.service_id, method.name, r.args, node.override(r)))
            assert node is not None
            return Success(node.value(r))
        if self.kind == "throw":
            node = self.value
            if isinstance(node, Struct) and not node.exact:
                exc = r.generator.exception(self.exc_qname, r.rng, node.override(r))
            else:
                assert node is not None
                exc = node.value(r)
            return Raise(self.exc_field, exc)
        if self.kind == "app_error":
            assert self.message is not None
            return AppError(self.app_type, str(self.message.value(r)))
        return None


def compile_answer(ctx: Context, method: Method, spec: dict[Any, Any], line: int, where: str) -> Answer:
    """The answer part of a rule (or of one step of a sequence); the caller checked the keys."""
    given = [k for k in ANSWER_KEYS if k in spec]
    if len(given) > 1:
        raise ctx.error(f"{where} has both {given[0]!r} and {given[1]!r}", line, "a rule gives one answer")
    latency = (
        compile_latency(ctx, spec["latency_ms"], line_of(spec, "latency_ms", line), where)
        if "latency_ms" in spec
        else None
    )
    if not given:
        return Answer("generate", latency)
    key = given[0]
    sub, sub_line = spec[key], line_of(spec, key, line)
    if key == "return":
        if method.returns.kind is Kind.VOID:
            if sub is not None:
                raise ctx.error(
                    f"{where}: {method.name} returns void", sub_line, "write `return: null` or leave it out"
                )
            return Answer("return", latency, Const(None))
        if sub is None:
            raise ctx.error(
                f"{where}: a {method.returns} cannot be null on the wire",
                sub_line,
                "to make clients see a missing result write app_error: {type: MISSING_RESULT}",
            )
        return Answer(
            "return",
            latency,
            compile_value(ctx, method.args, method.returns, sub, sub_line, f"{where}.return"),
        )
    if key == "throw":
        return _throw(ctx, method, sub, sub_line, where, latency)
    if key == "app_error":
        return _app_error(ctx, method, sub, sub_line, where, latency)
    return _fault(ctx, sub, sub_line, where, latency)


def _throw(ctx: Context, method: Method, spec: Any, line: int, where: str, latency: Latency | None) -> Answer:
    if isinstance(spec, str):
        name, fields = spec, None
    elif isinstance(spec, dict) and len(spec) == 1:
        name, fields = next(iter(spec.items()))
    else:
        raise ctx.error(f"{where}: throw takes an exception name, or {{Name: {{field: value}}}}", line)
    declared = _declared(ctx, method)
    f = declared.get(str(name))
    if f is None:
        names = sorted({str(ctx.catalog.struct(str(x.type.name)).name) for x in method.throws})
        hint = did_you_mean(name, declared) or (
            listing(f"{method.name} declares", names)
            if names
            else f"{method.name} declares no exceptions; use app_error"
        )
        raise ctx.error(f"{where}: {method.name} does not declare exception {name!r}", line, hint)
    node = compile_value(ctx, method.args, f.type, fields, line, f"{where}.throw.{name}")
    return Answer("throw", latency, node, exc_field=f.name, exc_qname=str(f.type.name))


def _declared(ctx: Context, method: Method) -> dict[str, Field]:
    """A method's exceptions by result field name, type name and qualified type name."""
    out: dict[str, Field] = {}
    for f in method.throws:
        qname = str(f.type.name)
        out.setdefault(ctx.catalog.struct(qname).name, f)
        out.setdefault(qname, f)
        out.setdefault(f.name, f)
    return out


def _app_error(
    ctx: Context, method: Method, spec: Any, line: int, where: str, latency: Latency | None
) -> Answer:
    if isinstance(spec, str):
        spec = {"message": spec}
    if not isinstance(spec, dict):
        raise ctx.error(f"{where}: app_error takes {{type: NAME, message: TEXT}}", line)
    for key in spec:
        if key not in ("type", "message"):
            raise ctx.unknown("app_error key", key, ["type", "message"], line_of(spec, key, line))
    kind = spec.get("type", "INTERNAL_ERROR")
    type_line = line_of(spec, "type", line)
    if isinstance(kind, str):
        if kind.upper() not in APP_ERROR_TYPES:
            raise ctx.unknown("TApplicationException type", kind, APP_ERROR_TYPES, type_line)
        code = APP_ERROR_TYPES[kind.upper()]
    elif isinstance(kind, int) and not isinstance(kind, bool) and 0 <= kind < 2**15:
        code = kind
    else:
        raise ctx.error(
            f"{where}: app_error type must be a name or a number",
            type_line,
            listing("names", APP_ERROR_TYPES),
        )
    text = spec.get("message", f"stubbed error from {method.name}")
    if not isinstance(text, str):
        raise ctx.error(f"{where}: app_error message must be a string", line_of(spec, "message", line))
    message = compile_value(
        ctx, method.args, _STRING, text, line_of(spec, "message", line), f"{where}.app_error"
    )
    assert isinstance(message, Const | Template)
    return Answer("app_error", latency, app_type=code, message=message)


def _fault(ctx: Context, spec: Any, line: int, where: str, latency: Latency | None) -> Answer:
    seconds: Any = None
    if isinstance(spec, dict):
        for key in spec:
            if key not in ("kind", "seconds"):
                raise ctx.unknown("fault key", key, ["kind", "seconds"], line_of(spec, key, line))
        kind, seconds = spec.get("kind"), spec.get("seconds")
    else:
        kind = spec
    if kind not in FAULTS:
        raise ctx.unknown("fault", kind, FAULTS, line, f" in {where}")
    if seconds is None:
        seconds = DEFAULT_STALL_S if kind == "stall" else 0.0
    if not _number(seconds) or seconds < 0:
        raise ctx.error(f"{where}: fault seconds must be a number >= 0", line)
    return Answer("fault", latency, fault=kind, seconds=float(seconds))


def compile_latency(ctx: Context, spec: Any, line: int, where: str) -> Latency:
    """``latency_ms: 300``, ``{min: 10, max: 50}`` or ``{p50: 20, p99: 400}``."""
    if _number(spec):
        if spec < 0:
            raise ctx.error(f"{where}: latency_ms must not be negative", line)
        return Latency("fixed", float(spec))
    if not isinstance(spec, dict) or not spec:
        raise ctx.error(f"{where}: latency_ms takes a number, {{min, max}} or {{p50, p99}}", line)
    for key, value in spec.items():
        if key not in ("min", "max", "p50", *_Z):
            raise ctx.unknown("latency key", key, ["min", "max", "p50", *_Z], line_of(spec, key, line))
        if not _number(value) or value < 0:
            raise ctx.error(f"{where}: latency_ms.{key} must be a number >= 0", line_of(spec, key, line))
    if "min" in spec or "max" in spec:
        low, high = spec.get("min", 0), spec.get("max")
        if high is None or len(spec) != (2 if "min" in spec else 1) or high < low:
            raise ctx.error(f"{where}: a uniform latency needs min <= max and nothing else", line)
        return Latency("uniform", float(low), float(high))
    tails = [k for k in _Z if k in spec]
    if "p50" not in spec or not tails or spec["p50"] <= 0:
        raise ctx.error(f"{where}: a percentile latency needs p50 > 0 and one of {', '.join(_Z)}", line)
    top = tails[-1]
    if spec[top] < spec["p50"]:
        raise ctx.error(f"{where}: latency_ms.{top} is below p50", line)
    sigma = math.log(spec[top] / spec["p50"]) / _Z[top]
    return Latency("lognormal", float(spec["p50"]), sigma, cap=10.0 * float(spec[top]))


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
