"""What ``thriftbox host`` runs: one process serving mocks on their ports, plus its control endpoint.

Import-light on purpose: runtimes import only :mod:`thriftbox.host.config` from here.
"""
