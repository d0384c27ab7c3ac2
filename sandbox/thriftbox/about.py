"""What thriftbox knows about itself: its version (from the installed metadata) and where its code is.

The one owner of both, so that nothing inside the package imports the package root (which imports the public
API, which would be a cycle).
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent  # the running thriftbox package (packed into the mock image)

try:
    __version__ = metadata.version("thriftbox")
except metadata.PackageNotFoundError:  # a checkout on sys.path, not installed
    __version__ = "0.0.0+unknown"
