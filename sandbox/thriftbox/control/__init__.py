"""The HTTP contract between ``serve`` and its mock hosts, and between users and ``serve``'s admin API.

``paths``: the routes; ``messages``: the typed bodies (reload, journal, the cursor codec, the error answer);
``server``: the small JSON server hosts and the admin API run; ``client``: :class:`~thriftbox.control.client.HostClient`
and :class:`~thriftbox.control.client.AdminClient`, the only place requests are made and their errors translated.
Imports only :mod:`thriftbox.errors`, so both sides of the contract can depend on it.
"""
