"""Compare: the same app planned under each named strategy, side by side as a table and as cost
against availability with the Pareto frontier; pick two strategies to see what differs."""

from dataclasses import replace

import streamlit as st
from ui import charts, data, views
from ui.i18n import t
from ui.widgets import (
    column_label,
    current_request,
    label,
    names,
    page_body,
    plan_banner,
    run_with_progress,
    solve_with_progress,
    table,
)

st.title(t("compare.title"))
st.caption(t("compare.intro"))

with page_body():
    req = current_request()
    plan = solve_with_progress(req)
    plan_banner(req, plan)
    rows = run_with_progress("compare.solving", data.compare, req)
    shown = rows.assign(strategy=rows["strategy"].map(lambda s: label("placement", s)))
    if "status" in shown:
        shown["status"] = shown["status"].map(lambda s: label("plan_status", s))
    st.subheader(t("compare.table"))
    table(shown, money=["usd_per_month"], pct=["availability_pct"])

    st.subheader(t("compare.chart"))
    st.caption(t("compare.chart_note"))
    ok = rows.dropna(subset=["usd_per_month", "availability_pct"])
    points = ok.assign(strategy_label=ok["strategy"].map(lambda s: label("placement", s)))
    front = run_with_progress("compare.frontier_solving", data.frontier, req)
    has_axes = {"usd_per_month", "availability_pct"} <= set(front.columns)
    st.altair_chart(
        charts.tradeoff(
            points,
            front if has_axes else None,
            t("col.availability_pct"),
            t("col.usd_per_month"),
            t("col.strategy"),
            t("compare.frontier"),
        ),
        width="stretch",
    )

    st.subheader(t("compare.pick_two"))
    names_ = list(ok["strategy"])
    if len(names_) < 2:
        st.info(t("compare.need_two"))
    else:
        c1, c2 = st.columns(2)
        a = c1.selectbox(
            t("compare.first"),
            names_,
            index=0,
            key="compare_a",
            format_func=names("placement", names_),
        )
        b = c2.selectbox(
            t("compare.second"),
            names_,
            index=1,
            key="compare_b",
            format_func=names("placement", names_),
        )
        side = rows.set_index("strategy").loc[[a, b]].T
        side.columns = [label("placement", a) + " (A)", label("placement", b) + " (B)"]
        side.index = [column_label(str(c)) for c in side.index]
        st.dataframe(side.map(views.readable), width="stretch", height=35 * (len(side) + 1) + 3)
        plan_a = solve_with_progress(replace(req, strategy=a))
        plan_b = solve_with_progress(replace(req, strategy=b))
        diff = views.placement_diff(plan_a, plan_b)
        for col in ("strategy_a", "strategy_b"):
            diff[col] = diff[col].map(lambda s: label("strategy", s))
        n = int(diff["differs"].sum())
        st.markdown(t("compare.differs", n=n, total=len(diff)))
        table(diff, money=["usd_per_month_a", "usd_per_month_b"])
