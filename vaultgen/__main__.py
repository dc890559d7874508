"""``python -m vaultgen`` and the ``vaultgen`` command: the command line, with Ctrl-C while
Python still imports it ending the command as quietly as later (exit 130, no traceback)."""

import sys


def run() -> None:
    """The ``vaultgen`` command."""
    try:
        from vaultgen.cli import main
    except KeyboardInterrupt:  # Ctrl-C while Python was still starting: nothing begun
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    main()


if __name__ == "__main__":
    run()
