"""The error hierarchy: every failure a user can cause maps to one class and one exit code.

Input errors carry *every* problem found, each with where it is and how to fix it, so a user
fixes a file in one pass instead of one error per run.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located precisely enough to fix it."""

    file: str
    where: str  # "row 12" for tables, "services[2].demand.vcpu" for specs
    field: str
    message: str
    value: object = None
    fix: str = ""

    def __str__(self) -> str:
        loc = ", ".join(p for p in (self.file, self.where, self.field) if p)
        got = repr(self.value)
        if len(got) > 80:  # a huge value said once in full is noise: its start identifies it
            got = f"{got[:60]}... ({len(got):,} characters)"
        shown = "" if self.value is None else f" (got {got})"
        fix = f" Fix: {self.fix}" if self.fix else ""
        message = self.message.rstrip(".")
        stop = "" if (message + shown).endswith(("?", "!")) else "."
        return f"{loc}: {message}{shown}{stop}{fix}" if loc else f"{message}{shown}{stop}{fix}"


class PlannerError(Exception):
    """Root of every error the planner raises on purpose."""

    exit_code = 1


class InputError(PlannerError, ValueError):
    """A user's file is wrong. Lists every problem; exit code 2."""

    exit_code = 2
    kind = "input"

    def __init__(self, problems: Sequence[Problem] | str):
        if isinstance(problems, str):
            problems = [Problem(file="", where="", field="", message=problems)]
        self.problems = list(problems)
        super().__init__(self.render())

    def __reduce__(self):  # noqa: ANN204 - keep the problems when pickled between processes
        return (type(self), (self.problems,))

    def render(self) -> str:
        head = f"{len(self.problems)} problem(s) in the {self.kind}:"
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])


class CatalogError(InputError):
    kind = "catalog"


class SpecError(InputError):
    kind = "application spec"


class InfeasibleError(PlannerError):
    """The requirements cannot all hold together; `reasons` says which, in the user's terms."""

    exit_code = 3

    def __init__(self, reasons: Sequence[str], alternatives: Sequence[str] = ()):
        self.reasons = list(reasons)
        self.alternatives = list(alternatives)  # other requirements whose relaxation alone would do
        text = "No plan can meet every requirement:\n" + "\n".join(f"  - {r}" for r in self.reasons)
        if self.alternatives:
            text += (
                "\nRelaxing instead "
                + ", or ".join(self.alternatives)
                + " would also make a plan possible."
            )
        super().__init__(text)

    def __reduce__(self):  # noqa: ANN204
        return (type(self), (self.reasons, self.alternatives))


class NoPlanError(PlannerError):
    """The solver found no plan within its limits (time), without proving there is none."""

    exit_code = 4


class SolverError(PlannerError):
    """The solver returned something we cannot trust (for example a plan that fails
    verification)."""

    exit_code = 1


class OutputExistsError(PlannerError):
    """Refusing to overwrite a user's file."""

    exit_code = 2


# Names people write for a value that the catalog spells another way: ISO 3166 codes, and the
# providers' product or company names (`ncp` is Naver Cloud Platform: without this entry it is
# two letters from `gcp`, and following that hint would exclude Google instead).
_ALIASES = {
    "UK": "GB",
    "EN": "GB",
    "KOREA": "KR",
    "JAPAN": "JP",
    "USA": "US",
    "NCP": "naver",
    "NCLOUD": "naver",
    "NAVERCLOUD": "naver",
    "NAVER-CLOUD": "naver",
    "AMAZON": "aws",
    "GOOGLE": "gcp",
    "GOOGLE-CLOUD": "gcp",
    "MICROSOFT": "azure",
    "OPENSTACK-PRIVATE": "openstack",
}


def did_you_mean(value: str, options: Iterable[str], n: int = 3) -> str:
    """A 'did you mean ...?' hint, or the list of valid options when nothing is close. Case is
    ignored (`AWS` -> `aws`), and a few common aliases are known (`UK` -> `GB`)."""
    opts = sorted(set(options))
    text = str(value)
    by_lower = {o.lower(): o for o in opts}
    same = by_lower.get(text.lower()) or (
        _ALIASES[text.upper()] if _ALIASES.get(text.upper()) in opts else None
    )
    if same is not None:
        return f"did you mean `{same}`?"
    # `multi-cloud` for `multi_cloud_active_active`: the same words with other separators, or the
    # start of exactly one option, is too far for difflib's ratio but plainly meant
    key = _words(text)
    starting = [o for o in opts if _words(o) == key] or [
        o for o in opts if len(key) >= 3 and _words(o).startswith(key)
    ]
    if len(starting) == 1:
        return f"did you mean `{starting[0]}`?"
    close = difflib.get_close_matches(text.lower(), list(by_lower), n=n, cutoff=0.6)
    if close:
        return "did you mean " + " or ".join(f"`{by_lower[c]}`" for c in close) + "?"
    shown = ", ".join(opts[:30]) + (f", ... ({len(opts)} in all)" if len(opts) > 30 else "")
    return f"use one of: {shown}"


def _words(text: str) -> str:
    """`Multi-Cloud` and `multi_cloud` alike: lower case, `-`, `_`, `.`, `/` and spaces as one."""
    return re.sub(r"[-_ ./]+", "_", text.strip().lower())
