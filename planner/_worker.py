"""Worker process for per-service solves: `python -m planner._worker JOB RESULT`.

Started by planner.optimize with a pickled job file (candidates, catalog, options, services, time
limit); writes a pickled list of (service, result or exception) to RESULT, and after each service
the number done so far to RESULT.done (the parent reads it to report progress). A separate interpreter,
not multiprocessing: spawn and forkserver re-import the caller's main module, which breaks scripts
without a main guard, notebooks and Streamlit; fork would copy HiGHS's thread state.
"""

from __future__ import annotations

import pickle
import sys


def main(job_path: str, result_path: str) -> int:
    from .optimize import _solve_one

    with open(job_path, "rb") as f:
        cands, catalog, options, services, limit = pickle.load(f)
    out = []
    for s in services:
        try:
            out.append((s, _solve_one(cands, catalog, options, s, limit)))
        except Exception as exc:  # returned to the parent, which raises it
            out.append((s, exc))
        with open(result_path + ".done", "w", encoding="ascii") as f:
            f.write(str(len(out)))
    with open(result_path, "wb") as f:
        pickle.dump(out, f)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1], sys.argv[2]))
