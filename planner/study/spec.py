"""The study file: what a study asks for, read from YAML and validated.

Takes a study file (or the same data as a dict) and returns a frozen `Study`: the application
spec files, the strategies, the failure sets, the re-plan switch and the solver settings. It is
kept apart from running so that a study can be checked, and its errors reported all at once
(`InputError` lists every problem with where it is and how to fix it), before any solve starts.
Not to be confused with `planner.spec`, which reads one application's spec.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import InputError, Problem, did_you_mean

FAILURE_SETS = ("single-region", "providers", "incidents")


class StudyApp(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    spec: str = Field(min_length=1)  # path, relative to the study file


class Study(BaseModel):
    """A validated study file. Paths in `apps` are resolved against `base_dir`."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = "study"
    apps: tuple[StudyApp, ...] = Field(min_length=1)
    strategies: tuple[str, ...] | Literal["all"] = "all"
    failures: tuple[Literal["single-region", "providers", "incidents"] | tuple[str, ...], ...] = (
        "single-region",
    )
    replan: bool = True
    time_limit: float = Field(default=60.0, gt=0, le=86_400)
    gap: float = Field(default=0.001, ge=0, lt=1)
    max_failures: float = Field(default=0.1, ge=0)  # < 1: a fraction of the tasks; >= 1: a count
    base_dir: str = ""

    @field_validator("apps", mode="before")
    @classmethod
    def _apps(cls, v: Any) -> Any:
        # a bare path is the short form of {"spec": path}
        if isinstance(v, list | tuple):
            return tuple({"spec": a} if isinstance(a, str) else a for a in v)
        return v

    @field_validator("strategies")
    @classmethod
    def _strategies(cls, v: Any) -> Any:
        from ..strategies import STRATEGIES

        if v == "all":
            return v
        for name in v:
            if name not in STRATEGIES:
                raise ValueError(f"unknown strategy `{name}`: {did_you_mean(name, STRATEGIES)}")
        if len(set(v)) != len(v):
            raise ValueError("a strategy is listed twice")
        return v

    @field_validator("failures")
    @classmethod
    def _failures(cls, v: Any) -> Any:
        for f in v:
            if isinstance(f, tuple) and not f:
                raise ValueError("an explicit failure needs at least one region id")
        return v

    def strategy_names(self) -> list[str]:
        from ..strategies import STRATEGIES

        return list(STRATEGIES) if self.strategies == "all" else list(self.strategies)

    def spec_paths(self) -> list[Path]:
        base = Path(self.base_dir)
        return [(base / a.spec) for a in self.apps]


def load_study(path: Path | str) -> Study:
    """Read a study file safely and validate it; InputError lists every problem."""
    from ..safeyaml import load_yaml_file

    path = Path(path)
    data = load_yaml_file(path)
    if not isinstance(data, dict):
        raise InputError(
            [
                Problem(
                    str(path),
                    "",
                    "",
                    "a study file is a mapping (name, apps, strategies, failures, ...)",
                    value=type(data).__name__,
                )
            ]
        )
    # base_dir is set from where the file is, so that a study file moved with its specs still works
    if "base_dir" in data:
        raise InputError(
            [
                Problem(
                    str(path),
                    "",
                    "base_dir",
                    "not allowed in the file",
                    fix="spec paths are relative to the study file",
                )
            ]
        )
    return study_from_data({**data, "base_dir": str(path.resolve().parent)}, str(path))


def study_from_data(data: dict[str, Any], source: str = "<study>") -> Study:
    """Validate study data (a study file's content plus `base_dir`); its spec files must exist."""
    try:
        study = Study.model_validate(data)
    except ValidationError as exc:
        problems = [
            Problem(
                source,
                ".".join(str(p) for p in e["loc"]),
                "",
                e["msg"],
                value=None if isinstance(e.get("input"), dict) else e.get("input"),
                fix=_fix_for(dict(e)),
            )
            for e in exc.errors()
        ]
        raise InputError(problems) from None
    missing = [
        Problem(
            source,
            f"apps[{i}]",
            "spec",
            "spec file not found",
            value=a.spec,
            fix="spec paths are relative to the study file",
        )
        for i, (a, p) in enumerate(zip(study.apps, study.spec_paths(), strict=True))
        if not p.is_file()
    ]
    if missing:
        raise InputError(missing)
    return study


def _fix_for(err: dict[str, Any]) -> str:
    if err["loc"] and err["loc"][0] == "failures":
        return "use single-region, providers, incidents, or a list of region ids lost together"
    if err["type"] == "extra_forbidden":
        return (
            "allowed keys: name, apps, strategies, failures, replan, time_limit, gap, max_failures"
        )
    return ""


def check_explicit_regions(study: Study, catalog: Any, source: str) -> None:
    """Explicit failures name real regions of `catalog` (known only once the catalog is loaded,
    so this runs at the start of a study rather than when the file is read)."""
    problems = [
        Problem(
            source,
            f"failures[{i}]",
            "",
            "unknown region",
            value=r,
            fix=did_you_mean(r, catalog.regions.index),
        )
        for i, f in enumerate(study.failures)
        if isinstance(f, tuple)
        for r in f
        if r not in catalog.regions.index
    ]
    if problems:
        raise InputError(problems)
