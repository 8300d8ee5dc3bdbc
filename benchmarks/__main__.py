"""`python -m benchmarks`: the command line is benchmarks/runner.py; docs/benchmarks.md explains
what is measured and how."""

import sys

from .runner import main

sys.exit(main())
