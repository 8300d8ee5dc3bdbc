"""Where a study writes: its output paths, and the parts folder that lets it resume.

Takes the output stem a caller gives and returns the paths of the four tables and of
`<stem>.parts/`. `PartsStore` keeps one small pickle per finished task in that folder, named by
the task's key, so that a study stopped half-way (Ctrl-C, a crash, a lost machine) runs only the
missing tasks when started again with the same command. It exists apart from the run loop so that
what "finished" means on disk (written whole, then renamed into place) is decided in one place.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from ..errors import OutputExistsError
from .tasks import Outcome, Task


def output_paths(out: Path | str) -> dict[str, Path]:
    """`out` is a path stem (an extension .parquet or .csv is dropped)."""
    out = Path(out)
    if out.suffix in (".parquet", ".csv"):
        out = out.with_suffix("")
    return {
        "parquet": out.with_name(out.name + ".parquet"),
        "csv": out.with_name(out.name + ".csv"),
        "summary_parquet": out.with_name(out.name + ".summary.parquet"),
        "summary_csv": out.with_name(out.name + ".summary.csv"),
        "parts": out.with_name(out.name + ".parts"),
    }


def refuse_overwrite(files: dict[str, Path]) -> None:
    """OutputExistsError if any output table exists (the parts folder is ours to reuse)."""
    existing = [str(p) for k, p in files.items() if k != "parts" and p.exists()]
    if existing:
        raise OutputExistsError(
            f"refusing to overwrite {', '.join(existing)}: pass force=True (--force) "
            "or choose another output"
        )


class PartsStore:
    """Finished tasks' outcomes, one pickle per task in `folder`."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def path(self, task: Task) -> Path:
        return self.folder / f"{task.kind}-{task.key}.pkl"

    def load(self, task: Task) -> Outcome | None:
        """The task's saved outcome, or None if it has not finished in an earlier run."""
        p = self.path(task)
        if not p.exists():
            return None
        try:
            with open(p, "rb") as f:
                outcome: Outcome = pickle.load(f)  # noqa: S301 - our own parts folder
            return outcome
        except (OSError, EOFError, pickle.PickleError):
            p.unlink(missing_ok=True)  # a torn write: run it again
            return None

    def save(self, task: Task, outcome: Outcome) -> None:
        # written aside and renamed, so that a part on disk is always a whole one
        tmp = self.path(task).with_suffix(".tmp")
        with open(tmp, "wb") as f:
            pickle.dump(outcome, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, self.path(task))

    def remove(self) -> None:
        """Delete the parts and the folder, once the tables holding them are written."""
        for p in self.folder.glob("*.pkl"):
            p.unlink()
        for p in self.folder.glob("*.tmp"):
            p.unlink()
        self.folder.rmdir()
