"""Entry point for ``python -m gmm_core`` (and the ``gmm-core`` script)."""

import sys

from gmm_core.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
