"""A client connection for verification: thriftpy2 writes the calls, replies are read raw.

Reading raw (see :mod:`thriftbox.contract.reader`) keeps everything the provider sent visible: fields the IDL
does not know, fields of the wrong wire type, a wrong method name or sequence id in the reply.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

from thriftpy2.thrift import TMessageType
from thriftpy2.transport import TTransportException

from thriftbox.client.transport import ClientTransport, Tls, check_transport, open_transport
from thriftbox.contract.reader import READERS, RawStruct
from thriftbox.errors import CallError

# What can go wrong on the socket while a call is in flight: the provider closed it, reset it, or is silent.
CONNECTION_ERRORS = (TTransportException, OSError, EOFError)


@dataclass(frozen=True)
class Reply:
    name: str
    mtype: int  # TMessageType.REPLY or .EXCEPTION, or whatever the provider sent
    seqid: int
    body: RawStruct


class Connection:
    """One TCP connection to a provider, speaking the chosen protocol and framing."""

    def __init__(
        self, target: tuple[str, int], protocol: str, framing: str, timeout: float, tls: Tls | None = None
    ) -> None:
        check_transport(protocol, framing)
        self.tls = tls
        self.target = target
        self.protocol = protocol
        self.framing = framing
        self.timeout = timeout
        self._seqid = 0
        self._conn: ClientTransport | None = None
        self._trans: Any = None
        self._oprot: Any = None
        self._reader: Any = None

    def open(self) -> None:
        """Connect; a provider that cannot be reached is a :class:`CallError`."""
        host, port = self.target
        try:
            conn = open_transport(host, port, self.protocol, self.framing, self.timeout, tls=self.tls)
        except TTransportException as exc:
            raise CallError(
                f"cannot connect to {host}:{port}: {exc.message}",
                hint="start the provider first, and check the host, port and that nothing else owns it",
            ) from exc
        self._conn, self._trans, self._oprot = conn, conn.transport, conn.protocol
        self._reader = READERS[self.protocol](self._trans)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = self._trans = self._oprot = self._reader = None

    def reopen(self) -> None:
        self.close()
        self.open()

    def send(self, name: str, args: Any, *, oneway: bool) -> int:
        """Write one call; returns its sequence id."""
        assert self._oprot is not None, "open() first"
        self._seqid += 1
        self._oprot.write_message_begin(
            name, TMessageType.ONEWAY if oneway else TMessageType.CALL, self._seqid
        )
        args.write(self._oprot)
        self._oprot.write_message_end()
        self._trans.flush()
        return self._seqid

    def receive(self) -> Reply:
        """Read one whole reply message. Raises one of CONNECTION_ERRORS or MalformedReply."""
        assert self._reader is not None, "open() first"
        name, mtype, seqid = self._reader.message_begin()
        return Reply(name, mtype, seqid, self._reader.struct())


def is_timeout(exc: BaseException) -> bool:
    """Whether a connection error means the provider did not answer in time."""
    if isinstance(exc, TimeoutError | socket.timeout):
        return True
    return isinstance(exc, TTransportException) and "timed out" in str(exc.message)
