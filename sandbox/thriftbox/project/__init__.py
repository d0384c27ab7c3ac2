"""The ``.thriftbox/`` folder of a project: stable ports and the state of a running ``serve``."""
