"""The ``thriftbox`` command line: click commands, thin over the API, and their terminal output."""

from thriftbox.cli.main import main

__all__ = ["main"]
