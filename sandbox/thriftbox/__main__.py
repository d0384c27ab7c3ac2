"""``python -m thriftbox`` runs the CLI."""

from thriftbox.cli import main

main()
