"""Worker process for per-service and per-group solves: `python -m planner._worker JOB RESULT`.

Started by planner.optimize.parts with a pickled job file (candidates, catalog, options, blocks of
services, time limit, stand-alone floors, stream flag); writes a pickled list of (block, PartResult
or exception) to RESULT, after each block the number done so far to RESULT.done (the parent reads it
to report progress), and when asked to stream, the results so far to RESULT.part (for a parent that
may stop the process before it ends). A separate interpreter, not multiprocessing: spawn and
forkserver re-import the caller's main module, which breaks scripts without a main guard, notebooks
and Streamlit; fork would copy HiGHS's thread state.
"""

from __future__ import annotations

import os
import pickle
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .optimize.parts import PartResult


def main(job_path: str, result_path: str) -> int:
    from .optimize.parts import solve_block

    with open(job_path, "rb") as f:
        cands, catalog, options, blocks, limit, floors, stream = pickle.load(f)
    out: list[tuple[tuple[str, ...], PartResult | Exception]] = []
    for block in blocks:
        try:
            out.append((block, solve_block(cands, catalog, options, block, limit, floors)))
        except Exception as exc:  # returned to the parent, which raises it
            out.append((block, exc))
        with open(result_path + ".count", "w", encoding="ascii") as f:
            f.write(str(len(out)))
        os.replace(result_path + ".count", result_path + ".done")  # never read half-written
        if stream:  # results so far, for a parent that may stop this process before the end
            with open(result_path + ".tmp", "wb") as f:
                pickle.dump(out, f)
            os.replace(result_path + ".tmp", result_path + ".part")
    with open(result_path, "wb") as f:
        pickle.dump(out, f)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1], sys.argv[2]))
