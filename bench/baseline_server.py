"""The hand-written thriftpy2 server the mock is compared with: threaded make_server, Cython binary protocol,
buffered transport, a handler returning one fixed struct. Run: python baseline_server.py PORT"""

from __future__ import annotations

import sys
from pathlib import Path

import thriftpy2
from thriftpy2.protocol import TCyBinaryProtocolFactory
from thriftpy2.rpc import make_server
from thriftpy2.transport import TCyBufferedTransportFactory

bench = thriftpy2.load(str(Path(__file__).with_name("bench.thrift")), module_name="bench_thrift")

FIXED = bench.Profile(
    id=1,
    name="Grace Hopper",
    email="grace@navy.example",
    avatarUrl="https://example.com/avatars/grace.png",
    createdAt=1_700_000_000_000,
    tier=bench.Tier.PRO,
    rating=4.8,
    tags=["navy", "cobol", "compilers"],
    address=bench.Address(street="1 Main St", city="Arlington", country="US"),
)


class Handler:
    def getProfile(self, id: int) -> object:
        return FIXED


if __name__ == "__main__":
    server = make_server(
        bench.Profiles,
        Handler(),
        "127.0.0.1",
        int(sys.argv[1]),
        proto_factory=TCyBinaryProtocolFactory(),
        trans_factory=TCyBufferedTransportFactory(),
        client_timeout=None,
    )
    print("ready", flush=True)
    server.serve()
