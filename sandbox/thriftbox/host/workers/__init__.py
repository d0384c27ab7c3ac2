"""Worker processes of a mock host: more than one core for the same ports (``--workers N``).

One Python process answers calls on one core. With ``--workers N`` a host (the *main* process) starts N-1
worker processes. The main process alone listens on the service ports; it hands each accepted connection in
turn to itself or to a worker, passing the socket over a Unix socket (``SCM_RIGHTS``). A connection stays with
the process that took it, so the calls on one connection are answered in order, as before.

Every worker loads the same definitions and keeps its own journal, run-time stubs and simulated state. The
main process forwards what changes them (reloads, stubs added or removed, resets, a cleared journal) to every
worker, and merges the workers' journals into its own (see :func:`merged_journal`); so a host with workers
looks like one host from outside. What counts calls (sequences, ``times``, state) counts per worker.

``pool``: the main process's side; ``link``: a worker's side; ``journal``: the merged journal.
"""

from thriftbox.host.workers.journal import merged_journal
from thriftbox.host.workers.link import WorkerLink
from thriftbox.host.workers.pool import WorkerPool, worker_command

__all__ = ["WorkerLink", "WorkerPool", "merged_journal", "worker_command"]
