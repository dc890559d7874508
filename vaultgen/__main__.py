"""``python -m vaultgen``: the command line."""

import sys

try:
    from vaultgen.cli import main
except KeyboardInterrupt:  # Ctrl-C while Python was still starting: nothing begun
    sys.exit(130)

main()
