"""Plan: choose an example, upload or edit a spec (problems shown under the editor), pick the
survival policy and a strategy, solve with live progress, and see the placement on the map, the cost
breakdown, availability and downtime, the independent verification, and downloads."""

import streamlit as st
from ui import charts, data, views
from ui.i18n import t
from ui.widgets import (
    compliance_view,
    current_request,
    label,
    library_text,
    message_list,
    names,
    page_body,
    plan_map,
    run_with_progress,
    show_error,
    show_problems,
    show_relaxations,
    solve_with_progress,
    table,
    tradeoff_view,
    uploader_texts,
)

from planner.errors import InfeasibleError, PlannerError, SpecError

SURVIVE = ("", "none", "zone", "region", "site", "provider")


def load_example() -> None:
    name = st.session_state.get("plan_example")
    if name:
        st.session_state["spec_editor"] = data.example_text(name)
        st.session_state["spec_source"] = name
        st.session_state.pop("upload_error", None)


def load_upload() -> None:
    st.session_state.pop("upload_error", None)
    upload = st.session_state.get("plan_upload")
    if upload is None:
        return
    try:
        text = upload.getvalue().decode("utf-8")
    except UnicodeDecodeError:
        st.session_state["upload_error"] = t("plan.upload_not_text", name=upload.name)
        return
    st.session_state["spec_editor"] = text
    st.session_state["spec_source"] = upload.name
    st.session_state["plan_example"] = None


st.title(t("plan.title"))
st.caption(t("plan.intro"))

with page_body():
    req = current_request()
    st.session_state.setdefault("spec_editor", req.text)
    st.session_state.setdefault("spec_source", req.source)
    st.session_state.setdefault(
        "plan_example", req.source if req.source in data.examples() else None
    )
    st.session_state.setdefault("plan_survive", req.survive)  # as a link or a reload asks
    st.session_state.setdefault("plan_strategy", req.strategy)
    st.session_state.setdefault("plan_time_limit", int(req.time_limit))

    st.subheader(t("plan.spec"))
    c1, c2 = st.columns(2)
    c1.selectbox(
        t("plan.example"),
        data.examples(),
        key="plan_example",
        on_change=load_example,
        placeholder=t("plan.pick_example"),
        persist_state="session",
    )
    with c2:
        uploader_texts()
    c2.file_uploader(
        t("plan.upload"),
        type=["yaml", "yml"],
        key="plan_upload",
        on_change=load_upload,
        max_upload_size=1,
        help=t("plan.upload_help"),
    )
    if st.session_state.get("upload_error"):
        c2.error(st.session_state["upload_error"], icon=":material/error:")

    st.text_area(
        t("plan.editor"),
        key="spec_editor",
        height=340,
        persist_state="session",
        help=t("plan.editor_help"),
    )
    text = st.session_state["spec_editor"] or ""
    source = st.session_state["spec_source"]
    spec = None
    try:
        spec = data.check_spec(text, source)
        st.success(
            t(
                "plan.spec_ok",
                app=spec.app,
                services=len(spec.services),
                survive=label("survive", spec.policy.survive),
            ),
            icon=":material/check_circle:",
        )
    except SpecError as exc:
        show_problems(exc.problems)

    st.subheader(t("plan.choices"))
    k1, k2, k3 = st.columns([2, 2, 1])
    survive = k1.selectbox(
        t("plan.survive"),
        SURVIVE,
        key="plan_survive",
        persist_state="session",
        format_func=names("survive", SURVIVE, **{"": t("plan.survive_as_spec")}),
    )
    names_ = [n for n in data.strategy_names() if n != "optimal"]  # "" already is the free choice
    strategy = k2.selectbox(
        t("plan.strategy"),
        ["", *names_],
        key="plan_strategy",
        persist_state="session",
        format_func=names("placement", ["", *names_], **{"": t("plan.strategy_cheapest")}),
        help=t("plan.strategy_help") if names_ else t("plan.strategy_missing"),
    )
    limit = k3.number_input(
        t("plan.time_limit"),
        min_value=5,
        max_value=600,
        step=5,
        key="plan_time_limit",
        persist_state="session",
    )
    if st.button(
        t("plan.solve"), type="primary", disabled=spec is None, icon=":material/play_arrow:"
    ):
        st.session_state["request"] = data.PlanRequest(
            text, source, survive, strategy, float(limit)
        )
    req = current_request()
    if (text, source) != (req.text, req.source):
        st.info(t("plan.unsolved_changes"), icon=":material/info:")

    st.divider()
    try:
        plan = solve_with_progress(req)
    except InfeasibleError as exc:
        # what conflicts, then the cheapest single relaxations, solved, to pick from
        show_error(exc)
        st.subheader(t("relax.title"))
        tried = run_with_progress(
            "relax.solving", data.try_relaxations, data.relaxation_options(req)
        )
        show_relaxations(tried, key="plan_open_relaxed")
        st.stop()
    st.header(t("plan.result", app=plan.spec.app))
    if req.relax:
        st.caption(t("relax.applied", relaxations=", ".join(t(f"relax.{r}") for r in req.relax)))
    try:
        avail = data.availability(req.key, plan)
    except PlannerError:  # e.g. a plan too large to evaluate: show the plan without it
        avail = None
        st.warning(t("plan.availability_failed"), icon=":material/warning:")
    v = plan.verification
    m = st.columns(5)
    m[0].metric(t("plan.cost"), f"${plan.cost['total']:,.0f}")
    m[1].metric(
        t("plan.availability"), "-" if avail is None else f"{100 * avail['availability']:.4f}%"
    )
    m[2].metric(t("plan.downtime"), "-" if avail is None else f"{avail['minutes_per_month']:,.1f}")
    m[3].metric(
        t("plan.status"),
        label("plan_status", plan.status),
        help=t("plan.gap", gap="-" if plan.gap is None else f"{plan.gap:.3%}"),
    )
    m[4].metric(t("plan.regions"), len(plan.regions()), help=", ".join(plan.providers()))

    if plan.trust is not None and len(plan.trust):
        total = plan.trust[plan.trust["provider"] == "total"].iloc[0]
        st.caption(
            t(
                "plan.trust",
                unverified=total["unverified_share"],
                unverified_usd=total["unverified_usd"],
                chargeback=total["chargeback_share"],
                chargeback_usd=total["chargeback_usd"],
            )
        )
    scenarios = 0 if v is None else max(0, v.scenarios_checked - 1)
    if v is not None and v.ok and scenarios > 0:
        st.success(
            t("plan.verified", n=scenarios, survive=label("survive", plan.spec.policy.survive)),
            icon=":material/verified:",
        )
    elif v is not None and v.ok:
        # survive: none checks no failure at all: nothing to be proud of, say what it means
        st.info(t("plan.verified_no_failures"), icon=":material/info:")
    elif v is not None:
        st.error(t("plan.not_verified"), icon=":material/gpp_bad:")
        message_list(v.violations[:20])

    st.subheader(t("compliance.title"))
    compliance_view(plan, req.key)

    st.subheader(t("plan.map"))
    plan_map(plan)
    st.caption(t("plan.map_legend"))

    st.subheader(t("tradeoff.title"))
    # at a glance when the spec solves quickly; a button otherwise (each point is a solve)
    quick = plan.timings.get("total_s", 99.0) <= 3.0 and len(plan.spec.services) <= 12
    if quick or st.session_state.get("tradeoff_for") == req.key:
        tradeoff_view(run_with_progress("tradeoff.solving", data.tradeoff, req))
    elif st.button(
        t("tradeoff.solve_button", n=len(data.point_requests(req)) - 1),
        icon=":material/scatter_plot:",
    ):
        st.session_state["tradeoff_for"] = req.key
        st.rerun()

    st.subheader(t("plan.costs"))
    a, b = st.columns(2)
    a.altair_chart(
        charts.cost_components(
            views.cost_components(plan, lambda k: label("cost", k)),
            t("col.usd_per_month"),
            t("plan.component"),
        ),
        width="stretch",
    )
    b.altair_chart(
        charts.cost_by_service(
            views.cost_by_service(plan, lambda r: label("role", r)),
            t("col.usd_per_month"),
            t("col.service"),
            t("col.role"),
            {r: label("role", r) for r in ("primary", "active", "standby", "backup")},
        ),
        width="stretch",
    )

    if avail is not None:
        st.subheader(t("plan.availability_by_service"))
        st.caption(t("plan.availability_note", method=label("method", avail["method"])))
        table(
            views.availability_rows(
                avail["services"],
                avail["front_door_unavailability"] if avail["front_door"] else None,
                avail["availability"],
                avail["minutes_per_month"],
                t("plan.front_door"),
                t("plan.whole_app"),
            ),
            pct=["effective_availability_pct"],
        )

    st.subheader(t("plan.placements"))
    st.caption(
        t(
            "plan.strategies",
            strategies=", ".join(
                f"{s}: {label('strategy', k)}" for s, k in plan.strategies.items()
            ),
        )
    )
    table(views.placements_table(plan, lambda r: label("role", r)), money=["usd_per_month"])
    if len(plan.traffic) and plan.traffic["usd_per_month"].sum() > 0:
        st.subheader(t("plan.egress"))
        flows = plan.traffic[plan.traffic["usd_per_month"] > 0]
        table(
            views.traffic_table(flows, lambda k: label("traffic", k), library_text),
            money=["usd_per_month"],
        )
    message_list(plan.notes, kind="warning")

    d1, d2, d3, d4, d5 = st.columns(5)
    d1.download_button(
        t("plan.download_json"),
        data.plan_json(req.key, plan, None if avail is None else avail["result"]),
        file_name=f"{plan.spec.app}-plan.json",
        mime="application/json",
        icon=":material/download:",
        on_click="ignore",
    )
    d2.download_button(
        t("plan.download_csv"),
        data.plan_csv(req.key, plan),
        file_name=f"{plan.spec.app}-plan.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
    )
    exports = data.plan_exports(req.key, plan, None if avail is None else avail["result"])
    for column, name in zip((d3, d4, d5), ("terraform", "karmada", "infracost"), strict=True):
        if name in exports:
            payload, file_name = exports[name]
            column.download_button(
                t(f"plan.download_{name}"),
                payload,
                file_name=file_name,
                mime="application/zip" if file_name.endswith(".zip") else "application/json",
                icon=":material/download:",
                on_click="ignore",
                help=t(f"plan.download_{name}_help"),
            )
