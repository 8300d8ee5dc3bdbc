"""Worker process for studies: `python -m planner._study_worker`.

Started by planner.study.executors.ProcessExecutor. Reads length-prefixed pickled frames on stdin:
first ("init", catalog_dir, specs), loaded once; then one Task per frame, answering each with a
pickled Outcome on stdout. A fresh interpreter, not multiprocessing: spawn and forkserver re-import
the caller's main module, and fork would copy HiGHS's thread state. Anything a library prints goes
to stderr, so stdout carries only frames.
"""

from __future__ import annotations

import os
import sys


def main() -> int:
    from .study.executors import read_frame, worker_catalog, write_frame
    from .study.tasks import execute

    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints cannot corrupt the frames
    inp = sys.stdin.buffer
    try:
        kind, catalog_dir, specs = read_frame(inp)
    except EOFError:
        return 0
    if kind != "init":
        raise SystemExit("planner._study_worker: expected an init frame first")
    catalog = worker_catalog(catalog_dir)
    while True:
        try:
            task = read_frame(inp)
        except EOFError:
            return 0
        write_frame(out, execute(task, catalog, specs))


if __name__ == "__main__":
    raise SystemExit(main())
