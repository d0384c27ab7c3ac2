"""Stub files: rules that answer chosen calls, a simulated database for stateful services.

``load_stubs(mocks_dir, catalog, classes)`` reads and checks a folder of stub files into a :class:`StubBook`;
a :class:`StubEngine` answers calls from it (:meth:`StubEngine.decide`), falling back to generated data.
"""

from thriftbox.stubs.engine import Decision, StubEngine
from thriftbox.stubs.load import StubBook, load_stubs
from thriftbox.stubs.state import StateStore

__all__ = ["Decision", "StateStore", "StubBook", "StubEngine", "load_stubs"]
