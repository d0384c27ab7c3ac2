"""``python -m thriftbox`` runs the CLI."""

from thriftbox.cli.main import main

main()
