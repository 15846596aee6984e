"""``python -m sbf``: the same as the ``sbf`` command."""

import sys

from sbf.cli import main

sys.exit(main())
