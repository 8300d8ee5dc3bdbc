"""Screen pieces shared by the pages: tables with translated headers, error boxes, the page guard,
solving with live progress, and the current plan request."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal

import pandas as pd
import streamlit as st

from planner.errors import (
    InfeasibleError,
    InputError,
    NoPlanError,
    PlannerError,
    Problem,
    SpecError,
)
from planner.plan import Plan

from . import data
from .i18n import has, lang, t, t_or

log = logging.getLogger("dashboards")


# ----------------------------------------------------------------------------- labels and tables
def label(kind: str, value: object) -> str:
    """A value's display name (role, status, tier, provider...), or the value itself."""
    return t_or(f"{kind}.{value}", str(value))


def names(kind: str, values: Iterable[object], **special: str) -> Callable[[object], str]:
    """A widget's `format_func`: display names looked up now, in the active language, so that it
    does not depend on the session whenever Streamlit calls it. `special` names particular values
    (such as the empty choice)."""
    table_ = {v: label(kind, v) for v in values}
    table_.update(special)
    return table_.__getitem__


def column_label(col: str) -> str:
    """A column header: its translation, or (logged as missing) the column's own name, so that a
    column a newer library adds still reads sensibly."""
    if has(f"col.{col}"):
        return t(f"col.{col}")
    log.warning("missing i18n key col.%s (%s)", col, lang())
    return col


def table(
    df: pd.DataFrame,
    *,
    money: Iterable[str] = (),
    pct: Iterable[str] = (),
    links: Iterable[str] = (),
    height: int | Literal["auto"] = "auto",
    key: str | None = None,
) -> None:
    """A dataframe whose column headers come from i18n (`col.<name>`)."""
    money, pct, links = set(money), set(pct), set(links)
    config: dict[str, Any] = {}
    for col in df.columns:
        name = column_label(str(col))
        if col in money:
            config[col] = st.column_config.NumberColumn(name, format="dollar")
        elif col in pct:
            config[col] = st.column_config.NumberColumn(name, format="%.4f%%")
        elif col in links:
            config[col] = st.column_config.LinkColumn(name, display_text=t("common.source_link"))
        else:
            config[col] = st.column_config.Column(name)
    st.dataframe(df, column_config=config, hide_index=True, height=height, key=key, placeholder="–")


def english_note() -> None:
    """Texts the planner library writes (error details, progress, notes) are in English."""
    if lang() != "en":
        st.caption(t("common.library_english"))


# ----------------------------------------------------------------------------- errors
def show_problems(
    problems: Sequence[Problem], where: st.delta_generator.DeltaGenerator | None = None
) -> None:
    box = where or st.container()
    box.error(t("errors.spec", n=len(problems)), icon=":material/error:")
    rows = pd.DataFrame(
        [
            {
                "where": p.where or p.field or "-",
                "problem": p.message,
                "value": "" if p.value is None else str(p.value),
                "fix": p.fix,
            }
            for p in problems
        ]
    )
    with box:
        english_note()
        table(rows)


def show_error(exc: BaseException) -> None:
    """A friendly box for any planner error: what happened and what to do."""
    if isinstance(exc, SpecError):
        show_problems(exc.problems)
    elif isinstance(exc, InfeasibleError):
        st.error(t("errors.infeasible"), icon=":material/block:")
        english_note()
        st.markdown("\n".join(f"- {r}" for r in exc.reasons))
        if exc.alternatives:
            st.markdown(
                t("errors.alternatives") + "\n" + "\n".join(f"- {a}" for a in exc.alternatives)
            )
        st.info(t("errors.infeasible_fix"))
    elif isinstance(exc, NoPlanError):
        st.warning(t("errors.no_plan"), icon=":material/timer:")
    elif isinstance(exc, InputError):
        st.error(t("errors.input"), icon=":material/error:")
        english_note()
        st.markdown("\n".join(f"- {p}" for p in exc.problems))
    elif isinstance(exc, PlannerError):
        st.error(t("errors.planner"), icon=":material/error:")
        english_note()
        st.code(str(exc), language=None)
    else:
        st.error(t("errors.unexpected"), icon=":material/error:")


@contextmanager
def page_body() -> Iterator[None]:
    """Wrap a page: planner errors become a friendly message, anything else a generic one (and
    the server log gets the traceback); Streamlit's own rerun/stop signals pass through."""
    try:
        yield
    except PlannerError as exc:
        show_error(exc)
    except Exception:  # noqa: BLE001 - the last line of defence: never a traceback on screen
        log.exception("dashboard page failed")
        show_error(RuntimeError())


# ----------------------------------------------------------------------------- the plan in use
def current_request() -> data.PlanRequest:
    req = st.session_state.get("request")
    return req if isinstance(req, data.PlanRequest) else data.default_request()


class LiveStatus:
    """A progress box that appears with the planner's first message, so a cached result (no
    messages) shows no box at all. Call it as the library's `progress` callback."""

    def __init__(self, label_key: str) -> None:
        self.label = t(label_key)
        self.box: Any = None  # a status container once the first message arrives

    def __call__(self, message: str) -> None:
        if self.box is None:
            self.box = st.status(self.label, expanded=True)
            if lang() != "en":
                self.box.caption(t("common.library_english"))
        self.box.write(message)

    def finish(self, label: str, ok: bool = True) -> None:
        if self.box is not None:
            self.box.update(label=label, state="complete" if ok else "error", expanded=False)


def solve_with_progress(req: data.PlanRequest) -> Plan:
    """The plan for `req`, from the cache or solved now with the planner's messages shown live."""
    status = LiveStatus("plan.solving")
    try:
        plan = data.plan(req, progress=status)
    except PlannerError:
        status.finish(t("plan.solve_failed"), ok=False)
        raise
    status.finish(t("plan.solved", seconds=plan.timings.get("total_s", 0.0)))
    return plan


def run_with_progress(label_key: str, fn, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN201
    """Call a data function that solves, showing its progress messages live when it does solve."""
    status = LiveStatus(label_key)
    try:
        out = fn(*args, progress=status, **kwargs)
    except PlannerError:
        status.finish(t("plan.solve_failed"), ok=False)
        raise
    status.finish(t("common.done"))
    return out


def plan_banner(req: data.PlanRequest, plan: Plan) -> None:
    """Which plan this page works on, with a link to change it."""
    c1, c2 = st.columns([4, 1], vertical_alignment="center")
    c1.caption(
        t(
            "common.using_plan",
            app=plan.spec.app,
            source=req.source,
            cost=plan.cost["total"],
            regions=len(plan.regions()),
        )
    )
    c2.page_link("app_pages/plan.py", label=t("common.change_plan"), icon=":material/edit:")


def provider_legend(providers: Iterable[str]) -> None:
    """Coloured dots naming the providers on a map (the colours of charts.PROVIDER_RGB)."""
    from .charts import hex_colour

    chips = " ".join(
        f"<span style='display:inline-block;margin-right:14px'><span style='display:inline-block;"
        f"width:12px;height:12px;border-radius:6px;background:{hex_colour(p)};margin-right:5px;"
        f"vertical-align:middle'></span>{html.escape(label('provider', p))}</span>"
        for p in providers
    )
    st.html(f"<div style='font-size:0.9rem'>{chips}</div>")
