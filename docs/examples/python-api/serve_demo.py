"""Serve the demo IDL from a Python program, call one mock, and stop: thriftbox's public API.

Run from the repository root: python docs/examples/python-api/serve_demo.py [FIRST_PORT]
"""

import sys

import thriftpy2
from thriftpy2.rpc import make_client

from thriftbox import ServeConfig, serve

first_port = int(sys.argv[1]) if len(sys.argv) > 1 else 9090
config = ServeConfig(paths=["idl"], mocks_dir="mocks", runtime="process", port=first_port, watch=False)

with serve(config) as session:  # returns once every mock answers; stops them all on leaving the block
    print(f"{len(session.ports)} services, admin API at {session.admin_url}")
    users = thriftpy2.load("idl/users.thrift", module_name="users_thrift")
    client = make_client(users.Users, "127.0.0.1", session.ports["users.Users"], timeout=10_000)
    user = client.getUser(42)
    print(f"getUser(42) -> id {user.id}, handle {user.handle!r}")
    client.close()
