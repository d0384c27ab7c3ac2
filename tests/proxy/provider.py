"""A real People provider written with Apache's Python ``thrift`` and code from Apache's compiler.

Run in its own interpreter: ``python provider.py GEN_DIR PORT PROTOCOL FRAMING [CERT KEY [CLIENT_CA]]``
(FRAMING ``header``: THeader, answering in the request's protocol; CERT and KEY: TLS; CLIENT_CA: mutual TLS).
Its answers depend on the arguments; ``getPerson`` throws the declared ``NotFound`` for negative ids and
multiples of 7; ``broken`` answers a Person without its required ``name``; ``getPerson`` and ``add`` take 10 to
40 ms (a spread the recording must reproduce).
"""

from __future__ import annotations

import random
import ssl
import sys
import time

sys.path.insert(0, sys.argv[1])

from proxypeople import People
from proxypeople.ttypes import NotFound, Person
from thrift.protocol import TBinaryProtocol, TCompactProtocol, THeaderProtocol
from thrift.server import TServer
from thrift.transport import TSocket, TSSLSocket, TTransport

_rng = random.Random(7)


def _pause() -> None:
    time.sleep(0.010 + 0.030 * _rng.random() ** 2)


class Handler:
    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def getPerson(self, id: int) -> Person:
        _pause()
        if id < 0 or id % 7 == 0:
            raise NotFound(message=f"no person {id}", id=id)
        return Person(id=id, name=f"person-{id}", email=f"p{id}@example.org", apiToken=f"tok-{id}")

    def add(self, a: int, b: int) -> int:
        _pause()
        return a + b

    def greet(self, name: str, times: int) -> list[str]:
        return [f"hello {name} #{i}" for i in range(times)]

    def broken(self, id: int) -> Person:
        return Person(id=id)  # `name` is required: a contract violation the proxy must report

    def counter(self, name: str) -> int:
        """1, 2, 3, ... per name: the same call answered differently each time."""
        self.counts[name] = self.counts.get(name, 0) + 1
        return self.counts[name]

    def slow(self, ms: int) -> str:
        time.sleep(ms / 1000)
        return f"slept {ms}"


def main() -> None:
    port, protocol, framing = int(sys.argv[2]), sys.argv[3], sys.argv[4]
    tls = sys.argv[5:]  # CERT KEY [CLIENT_CA]: TLS, asking clients for a certificate that CA signed
    processor = People.Processor(Handler())
    if tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls[0], tls[1])
        if len(tls) > 2:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(tls[2])
        transport = TSSLSocket.TSSLServerSocket(
            host="127.0.0.1",
            port=port,
            ssl_context=context,
            validate_callback=lambda cert, address: None,  # any certificate the CA signed
        )
    else:
        transport = TSocket.TServerSocket(host="127.0.0.1", port=port)
    tfactory = (
        TTransport.TFramedTransportFactory()
        if framing == "framed"
        else TTransport.TBufferedTransportFactory()
    )
    pfactory = (
        THeaderProtocol.THeaderProtocolFactory()  # answers in the protocol the request came in
        if framing == "header"
        else TCompactProtocol.TCompactProtocolFactory()
        if protocol == "compact"
        else TBinaryProtocol.TBinaryProtocolFactory()
    )
    server = TServer.TThreadedServer(processor, transport, tfactory, pfactory, daemon=True)
    server.serve()


if __name__ == "__main__":
    main()
