"""Is a Thrift server answering on host:port? One real call, as a mock's readiness check."""

from __future__ import annotations

import socket
import time
from struct import Struct

from thriftpy2.thrift import TApplicationException

from thriftbox.wire import scan
from thriftbox.wire.codec import TCyBinaryProtocol, TCyMemoryBuffer
from thriftbox.wire.dispatch import CALL, EXCEPTION

PROBE_METHOD = "__thriftbox_probe__"
_HEAD = Struct(">iI")
_SEQID = 0x7B0C5


def probe(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when ``host:port`` answers a buffered strict-binary call of :data:`PROBE_METHOD` with a
    well-formed ``UNKNOWN_METHOD`` exception reply, the seqid echoed; False on anything else."""
    name = PROBE_METHOD.encode()
    request = _HEAD.pack(-0x7FFF0000 | CALL, len(name)) + name + _SEQID.to_bytes(4, "big") + b"\x00"
    deadline = time.monotonic() + timeout
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(request)
            data = b""
            while True:
                try:
                    mname, mtype, seqid, args = scan.binary_envelope(data, 0, len(data))
                    scan.binary_struct(data, args, len(data))
                    break
                except scan.NeedMore:
                    pass
                sock.settimeout(max(deadline - time.monotonic(), 0.001))
                chunk = sock.recv(65536)
                if not chunk:
                    return False
                data += chunk
    except (OSError, scan.Malformed):
        return False
    if (mname, mtype, seqid) != (PROBE_METHOD, EXCEPTION, _SEQID):
        return False
    exc = TApplicationException()
    TCyBinaryProtocol(TCyMemoryBuffer(data[args:])).read_struct(exc)
    return bool(exc.type == TApplicationException.UNKNOWN_METHOD)
