"""Studies: many (application, strategy, failure scenario) evaluations run as one batch.

A study file names applications, strategies and failure sets; `run_study` plans each app under
each strategy, evaluates (and optionally re-plans) every failure scenario of that plan, and writes
one tidy table (Parquet and CSV) plus a per app x strategy summary. docs/study.md has the file
format and the table's columns.

Where things are:
  * `spec`: the study file (`Study`, `load_study`, `study_from_data`);
  * `tasks`: what one task is, how a study's tasks are made, `execute` (runs one task);
  * `executors`: serial, processes and Dask executors, which only move tasks and outcomes;
  * `store`: output paths and the parts folder a stopped study resumes from;
  * `results`: the tidy table, its summary and the output files;
  * `run`: `run_study`, the loop that ties these together.

The names below are the ones code outside this package uses; import them from `planner.study`.
"""

from __future__ import annotations

from .executors import EXECUTORS, plain_main
from .results import BASELINE, COLUMNS, comparable, summarize_study, tidy
from .run import StudyFailedError, StudyProgress, StudyResult, run_study, stderr_progress
from .spec import FAILURE_SETS, Study, StudyApp, load_study, study_from_data
from .store import output_paths
from .tasks import Outcome, Task, execute

__all__ = [
    "BASELINE",
    "COLUMNS",
    "EXECUTORS",
    "FAILURE_SETS",
    "Outcome",
    "Study",
    "StudyApp",
    "StudyFailedError",
    "StudyProgress",
    "StudyResult",
    "Task",
    "comparable",
    "execute",
    "load_study",
    "output_paths",
    "plain_main",
    "run_study",
    "stderr_progress",
    "study_from_data",
    "summarize_study",
    "tidy",
]
