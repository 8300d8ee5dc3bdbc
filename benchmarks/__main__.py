"""`python -m benchmarks`: see benchmarks/runner.py and docs/benchmarks.md."""

import sys

from .runner import main

sys.exit(main())
