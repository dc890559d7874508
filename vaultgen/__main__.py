"""``python -m vaultgen``: the command line."""

from .cli import main

main()
