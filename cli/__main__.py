"""`python -m perforch.cli ...`: what the console script `perforch` runs."""

import sys

from .commands import main

sys.exit(main())
