"""The HTTP contract between ``serve`` and its mock hosts: the small JSON server and its client."""
