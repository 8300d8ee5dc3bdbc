"""Screen pieces shared by the pages: tables with translated headers, error boxes, the page guard,
solving with live progress, and the current plan request."""

from __future__ import annotations

import html
import json
import logging
import math
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
from .messages import translate

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


def uploader_texts() -> None:
    """Streamlit writes its file uploader's own words (drop here, the size limit, the button) in
    English and offers no option for them: in another language they are hidden with CSS and ours
    drawn in their place (CSS generated text; the uploader's label and help stay as given)."""
    if lang() == "en":
        return
    drop, button = (t("plan.upload_drop"), t("plan.upload_button"))
    css = (
        '[data-testid="stFileUploaderDropzoneInstructions"] span,'
        '[data-testid="stFileUploaderDropzoneInstructions"] small {display: none;}'
        '[data-testid="stFileUploaderDropzoneInstructions"] > div::after'
        f" {{content: {json.dumps(drop)}; font-size: 0.875rem;}}"
        '[data-testid="stFileUploaderDropzone"] button > * {display: none;}'
        '[data-testid="stFileUploaderDropzone"] button::after'
        f" {{content: {json.dumps(button)}; font-size: 0.875rem;}}"
    )
    st.html(f"<style>{css}</style>")


def who_labels() -> dict[str, str]:
    """Who runs a layer of the stack: you, your own private-cloud team, or the vendor."""
    return {
        "you": t("catalog.you_run"),
        "team": t("catalog.team_runs"),
        "vendor": t("catalog.vendor_runs"),
    }


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


def library_text(message: str) -> str:
    """A library message in the active language (unchanged when no pattern knows it, which
    is logged so that the catalogue in i18n/messages.yaml can grow)."""
    text, ok = translate(message, lang())
    if not ok:
        log.warning("untranslated library message (%s): %s", lang(), message)
    return text


def message_list(
    messages: Iterable[str], kind: Literal["markdown", "warning", "info"] = "markdown"
) -> None:
    """Library messages, translated; the English caption only for those left in English."""
    shown = [(m, *translate(m, lang())) for m in messages if m]
    if not shown:
        return
    if not all(ok for _, _, ok in shown):
        english_note()
        for m, _, ok in shown:
            if not ok:
                log.warning("untranslated library message (%s): %s", lang(), m)
    texts = [text for _, text, _ in shown]
    if kind == "markdown":
        st.markdown("\n".join(f"- {x}" for x in texts))
    else:
        for x in texts:
            getattr(st, kind)(x)


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
        message_list(exc.reasons)
        if exc.alternatives:
            st.markdown(t("errors.alternatives"))
            message_list(exc.alternatives)
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
URL_KEYS = ("example", "survive", "strategy", "time_limit")  # a link's plan, besides language


def request_from_url() -> data.PlanRequest | None:
    """The plan a shared link or a reload asks for: ?example=NAME&survive=...&strategy=...
    (anything unknown is ignored)."""
    params = st.query_params
    example = params.get("example")
    if example not in data.examples():
        return None
    survive = params.get("survive", "")
    strategy = params.get("strategy", "")
    try:
        limit = min(max(float(params.get("time_limit", "60")), 5.0), 600.0)
    except ValueError:
        limit = 60.0
    if limit != limit:  # NaN
        limit = 60.0
    return data.PlanRequest(
        data.example_text(example),
        example,
        survive if survive in ("none", "zone", "region", "site", "provider") else "",
        strategy if strategy in data.strategy_names() and strategy != "optimal" else "",
        limit,
    )


def current_request() -> data.PlanRequest:
    req = st.session_state.get("request")
    if isinstance(req, data.PlanRequest):
        return req
    req = request_from_url() or data.default_request()
    st.session_state["request"] = req
    return req


def sync_url() -> None:
    """Keep the language and the plan in use in the URL on every page, so that a reload, a
    shared link or a move to another page shows the same plan in the same language. A spec
    typed or uploaded by hand has no name to put there: the link then carries the language."""
    req = current_request()
    wanted = {"lang": lang()}
    if req.source in data.examples() and req.text == data.example_text(req.source):
        wanted["example"] = req.source
        if req.survive:
            wanted["survive"] = req.survive
        if req.strategy:
            wanted["strategy"] = req.strategy
        if req.time_limit != 60.0:
            wanted["time_limit"] = f"{req.time_limit:g}"
    for key in ("lang", *URL_KEYS):
        if key in wanted:
            if st.query_params.get(key) != wanted[key]:
                st.query_params[key] = wanted[key]
        elif key in st.query_params:
            del st.query_params[key]


class LiveStatus:
    """A progress box that appears with the planner's first message, so a cached result (no
    messages) shows no box at all. Call it as the library's `progress` callback."""

    def __init__(self, label_key: str) -> None:
        self.label = t(label_key)
        self.box: Any = None  # a status container once the first message arrives

    def __call__(self, message: str) -> None:
        if self.box is None:
            self.box = st.status(self.label, expanded=True)
        self.box.write(library_text(message))

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


def show_relaxations(results: list[data.Relaxed], key: str) -> data.Relaxed | None:
    """The relaxations tried, each with what its plan costs, and a button to open the cheapest
    on the Plan page. Returns the cheapest that plans (None when none does)."""
    rows = pd.DataFrame(
        [
            {
                "relaxation": t(f"relax.{r.name}"),
                "usd_per_month": None if r.plan is None else r.plan.cost["total"],
                "regions": "" if r.plan is None else ", ".join(r.plan.regions()),
                "plan_status": t("relax.no_plan")
                if r.plan is None
                else label("plan_status", r.plan.status),
            }
            for r in results
        ],
        columns=["relaxation", "usd_per_month", "regions", "plan_status"],
    )
    best = next((r for r in results if r.plan is not None), None)
    if best is None:
        st.warning(t("relax.none_works"), icon=":material/block:")
        if len(rows):
            table(rows, money=["usd_per_month"])
        return None
    assert best.plan is not None
    st.success(
        t("relax.cheapest", relaxation=t(f"relax.{best.name}"), cost=best.plan.cost["total"]),
        icon=":material/lightbulb:",
    )
    table(rows, money=["usd_per_month"])
    if st.button(t("relax.open"), key=key, icon=":material/open_in_new:"):
        st.session_state["request"] = best.request
        st.switch_page("app_pages/plan.py")
    return best


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


def plan_diff(a: Plan, b: Plan, name_a: str, name_b: str, keys: tuple[str, str]) -> None:
    """Plan A against plan B, the way a cost diff reads: totals with their change, then every
    service with where it runs, its cost and availability in each."""
    from . import views

    def avail(plan: Plan, key: str) -> dict[str, Any] | None:
        try:
            return data.availability(key, plan)
        except PlannerError:
            return None

    av_a, av_b = avail(a, keys[0]), avail(b, keys[1])
    m = st.columns(3)
    m[0].metric(
        t("diff.cost", name=name_b),
        f"${b.cost['total']:,.0f}",
        delta=f"{b.cost['total'] - a.cost['total']:+,.0f} $ " + t("diff.versus", name=name_a),
        delta_color="inverse",
    )
    if av_a is not None and av_b is not None:
        dt_a, dt_b = av_a["minutes_per_year"] / 12, av_b["minutes_per_year"] / 12
        m[1].metric(
            t("diff.availability", name=name_b),
            f"{100 * av_b['availability']:.4f}%",
            delta=f"{100 * (av_b['availability'] - av_a['availability']):+.4f} pp",
        )
        m[2].metric(
            t("diff.downtime", name=name_b),
            f"{dt_b:,.1f}",
            delta=f"{dt_b - dt_a:+,.1f}",
            delta_color="inverse",
        )
    diff = views.service_diff(
        a, b, None if av_a is None else av_a["services"], None if av_b is None else av_b["services"]
    )
    n = int((diff["change"] != "unchanged").sum())
    st.markdown(t("diff.summary", n=n, total=len(diff), a=name_a, b=name_b))
    shown = diff.assign(
        change=diff["change"].map(lambda c: t(f"diff.{c}")),
        strategy_a=diff["strategy_a"].map(
            lambda s: label("strategy", s) if isinstance(s, str) else ""
        ),
        strategy_b=diff["strategy_b"].map(
            lambda s: label("strategy", s) if isinstance(s, str) else ""
        ),
    )
    table(
        shown,
        money=["usd_per_month_a", "usd_per_month_b", "delta_usd"],
        pct=["availability_pct_a", "availability_pct_b"],
    )


def compliance_view(plan: Plan, key: str) -> None:
    """Per kind of failure: what the policy requires, target against achieved RTO and RPO, the
    worst demand-weighted shortfall, and pass or fail (as AWS Resilience Hub reports it)."""
    rows = data.compliance(key, plan)

    def minutes(v: object) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "–"
        if isinstance(v, float) and math.isinf(v):
            return t("compliance.until_back")
        return f"{float(v):,.0f}"

    def verdict(required: bool, passed: object) -> str:
        if passed is None:
            return t("compliance.no_scenario")
        if not required:
            return t("compliance.not_required_pass" if passed else "compliance.not_required_fail")
        return t("compliance.pass" if passed else "compliance.fail")

    shown = pd.DataFrame(
        {
            "failure_kind": rows["failure_kind"].map(lambda k: label("domain", k)),
            "verdict": [
                verdict(r, p) for r, p in zip(rows["required"], rows["passed"], strict=True)
            ],
            "scenarios": rows["scenarios"],
            "services_down": rows["services_down"],
            "weighted_shortfall_pct": rows["weighted_shortfall_pct"],
            "rto_target": rows["target_rto_minutes"].map(minutes),
            "rto_achieved": rows["achieved_rto_minutes"].map(minutes),
            "rpo_target": rows["target_rpo_minutes"].map(minutes),
            "rpo_achieved": rows["achieved_rpo_minutes"].map(minutes),
        }
    )
    table(shown)
    st.caption(t("compliance.note"))


def tradeoff_view(points: pd.DataFrame) -> None:
    """The trade-off chart and its table: every point labelled (a time-limited plan with its
    gap, never as optimal), the frontier computed from the points shown."""
    from . import charts
    from .tradeoff import frontier_line, pareto_front

    def name(kind: str, value: str) -> str:
        if kind == "this":
            return t("tradeoff.this_plan")
        if kind == "survive":
            if value == "none":
                return t("tradeoff.survive_none")
            return t("tradeoff.survive", level=label("survive", value))
        return label("placement", value)

    def status(row: dict) -> str:
        if row.get("error"):
            return t("tradeoff.no_plan")
        shown = label("plan_status", row["status"])
        gap = row.get("gap")
        if row["status"] != "optimal" and gap is not None and gap == gap:
            shown += " · " + t("tradeoff.gap", gap=gap)
        return shown

    pts = points.assign(
        label=[name(k, v) for k, v in zip(points["kind"], points["name"], strict=True)],
        status_label=[status(r) for r in points.to_dict(orient="records")],
    )
    pts["hollow"] = (
        pts["time_limited"].fillna(False).astype(bool) if "time_limited" in pts else False
    )
    gap_note = pts["hollow"] & pts["gap"].notna() if "gap" in pts else pts["hollow"]
    pts.loc[gap_note, "label"] = [
        f"{lab} ({t('tradeoff.gap', gap=g)})"
        for lab, g in zip(pts.loc[gap_note, "label"], pts.loc[gap_note, "gap"], strict=True)
    ]
    drawable = pts[pts["error"] == ""] if "usd_per_month" in pts else pts.iloc[0:0]
    if drawable.empty:
        st.info(t("tradeoff.nothing"), icon=":material/info:")
        return
    pts["on_frontier"] = pareto_front(drawable).reindex(pts.index, fill_value=False)
    kinds = {k: t(f"tradeoff.kind_{k}") for k in ("this", "survive", "strategy")}
    st.altair_chart(
        charts.tradeoff(
            drawable.assign(status_label=pts.loc[drawable.index, "status_label"]),
            frontier_line(drawable),
            t("col.downtime_min_per_month"),
            t("col.usd_per_month"),
            t("tradeoff.kind"),
            kinds,
            t("col.status"),
        ),
        width="stretch",
    )
    st.caption(t("tradeoff.note"))
    cols = [
        c
        for c in (
            "label",
            "usd_per_month",
            "availability_pct",
            "downtime_min_per_month",
            "status_label",
            "on_frontier",
            "providers",
            "regions",
            "worst_latency_ms",
        )
        if c in pts
    ]
    shown = pts[cols].assign(
        on_frontier=pts["on_frontier"].map(lambda b: t("common.yes") if b else t("common.no"))
    )
    table(shown, money=["usd_per_month"], pct=["availability_pct"])


def plan_map(plan: Plan, failed: Iterable[str] = (), height: int = 480) -> None:
    """The plan on the offline map, full width, fitted to its regions and users. Each region is
    labelled with its provider and name; after a failure, with the vCPU it lost or kept."""
    from . import charts, geo, views

    cat = data.catalog()
    failed = set(failed)
    sites = views.plan_sites(plan, cat, failed=failed)
    if failed:
        text = [
            t("map.lost" if f else "map.kept", vcpu=v)
            for f, v in zip(sites["failed"], sites["vcpu"], strict=True)
        ]
    else:
        text = [""] * len(sites)
    sites = sites.assign(
        label=[
            f"{label('provider', p)} {n}" + (f" · {x}" if x else "")
            for p, n, x in zip(sites["provider"], sites["name"], text, strict=True)
        ],
        tip=sites["services"],
    )
    users = views.plan_users(plan).assign(tip="")
    links = views.plan_links(plan, cat).assign(tip="")
    st.pydeck_chart(
        charts.plan_map(
            sites,
            links,
            users,
            "<b>{label}</b><br/>{region}<br/>{tip}",
            geo.outlines(),
            views.map_view(sites, users),
        ),
        height=height,
        width="stretch",
    )


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
