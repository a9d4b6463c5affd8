"""``python -m lib``: the project's command line (``lib.cli``)."""
import sys

from .cli import main

sys.exit(main())
