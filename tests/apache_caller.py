"""Call every method of a service with Apache Thrift's Python library and code from Apache's compiler.

Run in its own interpreter (generated packages of different IDLs share names such as ``ttypes``):

    python apache_caller.py GEN_DIR SERVICE HOST PORT PROTOCOL FRAMING

PROTOCOL is binary, accel (binary with the C accelerator), compact or json; FRAMING is buffered or framed.
Arguments are built from the generated ``thrift_spec``; every answer must be well typed by the same spec and
pass the generated ``validate()``. Prints one JSON object: method name -> "ok" or what is wrong.
"""

from __future__ import annotations

import importlib
import json
import random
import sys
from pathlib import Path
from typing import Any

from thrift.protocol import TBinaryProtocol, TCompactProtocol, TJSONProtocol
from thrift.Thrift import TApplicationException, TException, TType
from thrift.transport import TSocket, TTransport

INT_RANGES = {TType.BYTE: 7, TType.I16: 15, TType.I32: 31, TType.I64: 63}


def build(ttype: int, type_args: Any, rng: random.Random, depth: int = 0) -> Any:
    """A valid value for an Apache ``thrift_spec`` type."""
    if ttype == TType.BOOL:
        return rng.random() < 0.5
    if ttype in INT_RANGES:
        return rng.randint(1, 2 ** INT_RANGES[ttype] - 1)
    if ttype == TType.DOUBLE:
        return rng.uniform(-100, 100)
    if ttype == TType.STRING:
        return b"\x00\x01bin" if type_args == "BINARY" else f"s{rng.randint(0, 999)}"
    if ttype == TType.STRUCT:
        cls = type_args[0]
        obj = cls()
        for spec in cls.thrift_spec or ():
            if spec is None:
                continue
            _fid, ftype, name, fargs, _default = spec
            if depth < 3:
                setattr(obj, name, build(ftype, fargs, rng, depth + 1))
        return obj
    if ttype in (TType.LIST, TType.SET):
        etype, eargs = type_args[0], type_args[1]
        items = [build(etype, eargs, rng, depth + 1) for _ in range(0 if depth > 2 else 2)]
        return set(items) if ttype == TType.SET and _hashable(items) else items
    if ttype == TType.MAP:
        ktype, kargs, vtype, vargs = type_args[0], type_args[1], type_args[2], type_args[3]
        if depth > 2:
            return {}
        key = build(ktype, kargs, rng, depth + 1)
        return {key: build(vtype, vargs, rng, depth + 1)} if _hashable([key]) else {}
    raise ValueError(f"unknown ttype {ttype}")


def _hashable(items: list[Any]) -> bool:
    try:
        for i in items:
            hash(i)
    except TypeError:
        return False
    return True


def check(ttype: int, type_args: Any, value: Any, path: str) -> list[str]:
    """Problems with a decoded value against the generated spec (an empty list when it is well typed)."""
    if value is None:
        return []
    if ttype == TType.BOOL:
        return [] if isinstance(value, bool) else [f"{path}: expected bool, got {value!r}"]
    if ttype in INT_RANGES:
        bits = INT_RANGES[ttype]
        ok = isinstance(value, int) and not isinstance(value, bool) and -(2**bits) <= value < 2**bits
        return [] if ok else [f"{path}: expected a {bits + 1}-bit int, got {value!r}"]
    if ttype == TType.DOUBLE:
        return [] if isinstance(value, float) else [f"{path}: expected double, got {value!r}"]
    if ttype == TType.STRING:
        return [] if isinstance(value, str | bytes) else [f"{path}: expected string, got {value!r}"]
    if ttype == TType.STRUCT:
        cls = type_args[0]
        if not isinstance(value, cls):
            return [f"{path}: expected {cls.__name__}, got {type(value).__name__}"]
        problems: list[str] = []
        try:
            value.validate()
        except TException as err:
            problems.append(f"{path}: validate() failed: {err}")
        for spec in cls.thrift_spec or ():
            if spec is not None:
                problems += check(spec[1], spec[3], getattr(value, spec[2]), f"{path}.{spec[2]}")
        return problems
    if ttype in (TType.LIST, TType.SET):
        if not isinstance(value, list | set | frozenset):
            return [f"{path}: expected a container, got {type(value).__name__}"]
        return [p for i, v in enumerate(value) for p in check(type_args[0], type_args[1], v, f"{path}[{i}]")]
    if ttype == TType.MAP:
        if not isinstance(value, dict):
            return [f"{path}: expected a map, got {type(value).__name__}"]
        out: list[str] = []
        for k, v in value.items():
            out += check(type_args[0], type_args[1], k, f"{path}.key")
            out += check(type_args[2], type_args[3], v, f"{path}[{k!r}]")
        return out
    return [f"{path}: unknown ttype {ttype}"]


def protocol_for(name: str, transport: Any) -> Any:
    if name == "binary":
        return TBinaryProtocol.TBinaryProtocol(transport)
    if name == "accel":
        return TBinaryProtocol.TBinaryProtocolAccelerated(transport, fallback=False)
    if name == "compact":
        return TCompactProtocol.TCompactProtocol(transport)
    if name == "json":
        return TJSONProtocol.TJSONProtocol(transport)
    raise SystemExit(f"unknown protocol {name}")


def find_service_module(gen_dir: Path, service: str) -> Any:
    sys.path.insert(0, str(gen_dir))
    for path in sorted(gen_dir.rglob(f"{service}.py")):
        rel = path.relative_to(gen_dir).with_suffix("")
        module = importlib.import_module(".".join(rel.parts))
        if hasattr(module, "Client"):
            return module
    raise SystemExit(f"no generated module for {service} in {gen_dir}")


def main() -> None:
    gen_dir, service, host, port, proto, framing = sys.argv[1:7]
    module = find_service_module(Path(gen_dir), service)
    sock = TSocket.TSocket(host, int(port))
    sock.setTimeout(10_000)
    transport = (
        TTransport.TFramedTransport(sock) if framing == "framed" else TTransport.TBufferedTransport(sock)
    )
    transport.open()
    client = module.Client(protocol_for(proto, transport))
    rng = random.Random(7)
    results: dict[str, str] = {}
    # the service's own methods and those it inherits (each generated module holds its own *_args classes)
    owners: dict[str, Any] = {}
    for cls in reversed(module.Client.__mro__):
        mod = sys.modules.get(cls.__module__)
        if mod is not None and cls.__name__ == "Client":
            owners.update({n[: -len("_args")]: mod for n in dir(mod) if n.endswith("_args")})
    for name in sorted(owners):
        owner = owners[name]
        args_cls = getattr(owner, f"{name}_args")
        kwargs = {
            spec[2]: build(spec[1], spec[3], rng) for spec in (args_cls.thrift_spec or ()) if spec is not None
        }
        result_cls = getattr(owner, f"{name}_result", None)
        try:
            answer = getattr(client, name)(**kwargs)
        except TApplicationException as err:
            results[name] = f"TApplicationException {err.type}: {err.message}"
            continue
        except TException as err:  # a declared exception is a well-typed answer too
            problems = check(
                TType.STRUCT, (type(err), type(err).thrift_spec), err, f"{name}!{type(err).__name__}"
            )
            results[name] = "; ".join(problems) or "ok"
            continue
        if result_cls is None:  # oneway
            results[name] = "ok"
            continue
        spec0 = next((s for s in result_cls.thrift_spec or () if s is not None and s[0] == 0), None)
        problems = check(spec0[1], spec0[3], answer, f"{name}.success") if spec0 else []
        if spec0 is not None and answer is None:
            problems.append(f"{name}: no value returned")
        results[name] = "; ".join(problems) or "ok"
    transport.close()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
