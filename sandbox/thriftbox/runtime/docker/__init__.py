"""The Docker runtime: one container per service. :mod:`.sdk` is the only importer of ``docker``."""
