"""Compare: the same app planned under each survival level and each named strategy, as cost
against downtime with the Pareto frontier of the points shown and a table; pick two to see what
differs, service by service and in the bill."""

import streamlit as st
from ui import data
from ui.i18n import t
from ui.widgets import (
    current_request,
    label,
    names,
    page_body,
    plan_banner,
    plan_diff,
    run_with_progress,
    solve_with_progress,
    tradeoff_view,
)

st.title(t("compare.title"))
st.caption(t("compare.intro"))

with page_body():
    req = current_request()
    plan = solve_with_progress(req)
    plan_banner(req, plan)
    points = run_with_progress("compare.solving", data.tradeoff, req)
    st.subheader(t("tradeoff.title"))
    tradeoff_view(points)

    st.subheader(t("compare.pick_two"))
    strategies = points[(points["kind"] == "strategy") & (points["error"] == "")]
    names_ = ["optimal", *strategies["name"]]
    c1, c2 = st.columns(2)
    a = c1.selectbox(
        t("compare.first"), names_, index=0, key="compare_a", format_func=names("placement", names_)
    )
    b = c2.selectbox(
        t("compare.second"),
        names_,
        index=min(1, len(names_) - 1),
        key="compare_b",
        format_func=names("placement", names_),
    )
    req_a, req_b = data.strategy_request(req, a), data.strategy_request(req, b)
    plan_a, plan_b = solve_with_progress(req_a), solve_with_progress(req_b)
    plan_diff(plan_a, plan_b, label("placement", a), label("placement", b), (req_a.key, req_b.key))
