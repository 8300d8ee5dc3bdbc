"""Learn: the ideas behind the planner, each shown on the learner's own plan, and incident replays
with an exercise whose answer the planner checks."""

import pandas as pd
import streamlit as st
from ui import charts, data, views
from ui.i18n import t, t_or
from ui.widgets import (
    current_request,
    label,
    message_list,
    page_body,
    plan_banner,
    run_with_progress,
    show_problems,
    solve_with_progress,
    table,
    who_labels,
)

from planner.errors import SpecError
from planner.plan import Plan

OK, NOT_OK = ":green[:material/check_circle:] ", ":red[:material/cancel:] "
TOPICS = (
    "virtualization",
    "tiers",
    "deployment",
    "clusters",
    "migration",
    "dr",
    "incidents",
    "chargeback",
)


def virtualization(plan: Plan, req: data.PlanRequest) -> None:
    machines = views.vms(plan)
    st.markdown(
        t(
            "learn.virtualization.yours",
            vms=int(machines["units"].sum()),
            vcpu=int((machines["vcpu"] * machines["units"]).sum()),
            providers=", ".join(sorted(set(machines["provider"]))) or t("common.nothing"),
        )
    )
    if len(machines):
        table(machines.assign(role=machines["role"].map(lambda r: label("role", r))))
    st.markdown(t("learn.virtualization.versus"))


def tiers(plan: Plan, req: data.PlanRequest) -> None:
    p = plan.placements.drop_duplicates("offering").head(8)
    columns: dict[str, tuple[str, ...]] = {t("catalog.on_premises"): ()}
    private = []
    for r in p.itertuples():
        name = f"{r.service}: {r.sku} ({r.tier})"
        columns[name] = data.managed_layers(r.offering)
        if data.is_private(r.offering):
            private.append(name)
    rows = views.stack_rows(
        columns, data.LAYERS, lambda x: label("layer", x), who_labels(), private=private
    )
    st.altair_chart(
        charts.responsibility(rows, t("catalog.layer"), t("catalog.who"), ""), width="stretch"
    )
    st.markdown(t("learn.tiers.yours"))


def deployment(plan: Plan, req: data.PlanRequest) -> None:
    prov = data.catalog().providers.loc[plan.providers()]
    shown = prov.reset_index()[["provider", "name", "kind"]]
    table(shown.assign(kind=shown["kind"].map(lambda k: label("kind", k))))
    st.markdown(
        t(
            "learn.deployment.yours",
            providers=len(prov),
            private=int((prov["kind"] == "private").sum()),
            public=int((prov["kind"] == "public").sum()),
        )
    )


def clusters(plan: Plan, req: data.PlanRequest) -> None:
    layout = views.replica_layout(plan)
    table(layout.assign(strategy=layout["strategy"].map(lambda s: label("strategy", s))))
    st.markdown(t("learn.clusters.yours"))


def migration(plan: Plan, req: data.PlanRequest) -> None:
    region = st.selectbox(t("learn.migration.pick"), plan.regions(), key="learn_migration_region")
    if st.button(t("learn.migration.go"), icon=":material/local_shipping:"):
        st.session_state["learn_migration_for"] = (req.key, region)
    if st.session_state.get("learn_migration_for") == (req.key, region):
        fixed = run_with_progress(
            "whatif.repairing", data.replan, req.key, plan, (region,), (), (), None
        )
        if len(fixed.migration):
            mig = fixed.migration.assign(
                mode=fixed.migration["mode"].map(lambda v: label("migration", v))
            )
            table(mig, money=["usd"])
        else:
            st.caption(t("whatif.no_migration"))
        st.markdown(t("learn.migration.yours", before=fixed.cost_before, after=fixed.cost_after))
        message_list([fixed.policy_note], kind="warning")


def dr(plan: Plan, req: data.PlanRequest) -> None:
    strat = data.catalog().strategies.reset_index()
    strat = strat.assign(strategy_label=strat["strategy"].map(lambda s: label("strategy", s)))
    a, b = st.columns([3, 2])
    with a:
        table(
            strat[
                [
                    "strategy_label",
                    "rto_minutes",
                    "rpo_minutes",
                    "compute_fraction",
                    "data_fraction",
                ]
            ]
        )
    b.altair_chart(
        charts.dr_strategies(strat, t("col.rto_minutes"), t("col.rpo_minutes"), t("col.strategy")),
        width="stretch",
    )
    st.markdown(t("learn.dr.yours"))
    # a plan that survives nothing has no recovery to speak of: its services stop with their
    # region, whatever strategy name the optimiser kept for them
    recovers = plan.spec.policy.survive != "none"
    if not recovers:
        st.info(t("learn.dr.no_recovery"), icon=":material/info:")
    strategies = data.catalog().strategies
    ours = [
        {
            "service": s.name,
            "strategy": label("strategy", plan.strategies[s.name])
            if recovers
            else t("whatif.no_recovery"),
            "rto_minutes": strategies.at[plan.strategies[s.name], "rto_minutes"]
            if recovers
            else None,
            "rpo_minutes": strategies.at[plan.strategies[s.name], "rpo_minutes"]
            if recovers
            else None,
            "rto_target_minutes": s.rto_minutes,
            "rpo_target_minutes": s.rpo_minutes,
        }
        for s in plan.spec.services
    ]
    table(pd.DataFrame(ours))


def incidents(plan: Plan, req: data.PlanRequest) -> None:
    inc = data.catalog().incidents
    chosen = st.selectbox(
        t("learn.incidents.pick"),
        list(inc.index),
        key="learn_incident",
        format_func={
            i: t_or(f"incident.{i}.title", str(inc.at[i, "title"])) for i in inc.index
        }.__getitem__,
    )
    row = inc.loc[chosen]
    st.markdown(
        f"**{row['date']}** · {label('scope', row['scope'])} · "
        f"{t('learn.incidents.duration', hours=row['duration_hours'])}"
    )
    st.markdown(t_or(f"incident.{chosen}.story", str(row["what_failed"])))
    st.info(t_or(f"incident.{chosen}.lesson", str(row["lesson"])), icon=":material/lightbulb:")
    st.link_button(t("common.source_link"), str(row["source_url"]), icon=":material/open_in_new:")
    st.subheader(t("learn.incidents.replay"))
    impact = data.failure_impact(req.key, plan, (), (), (), chosen)
    s = impact.summary
    st.markdown(
        t(
            "learn.incidents.replay_result",
            down=s["services_down"],
            degraded=s["services_degraded"],
            total=len(plan.spec.services),
        )
    )
    exercise = next((e for e in data.exercises() if e["incident"] == chosen), None)
    if exercise is not None:
        exercise_block(exercise)


def exercise_block(ex: dict) -> None:
    incident, budget = ex["incident"], float(ex["budget_usd_per_month"])
    st.subheader(t("learn.exercise.title"))
    st.markdown(t(f"learn.exercise.{incident}.task", budget=budget))
    key = f"exercise_{incident}"
    st.session_state.setdefault(key, data.starter_text(ex["starter"]))
    st.text_area(t("learn.exercise.editor"), key=key, height=300, persist_state="session")
    text = st.session_state[key] or ""
    try:
        data.check_spec(text, f"exercise-{incident}.yaml")
    except SpecError as exc:
        show_problems(exc.problems)
        return
    with st.expander(t("learn.exercise.hint")):
        st.markdown(t(f"learn.exercise.{incident}.hint"))
    if st.button(
        t("learn.exercise.check"),
        type="primary",
        key=f"check_{incident}",
        icon=":material/task_alt:",
    ):
        st.session_state[f"{key}_checked"] = text
    if st.session_state.get(f"{key}_checked") == text:
        req = data.PlanRequest(text, f"exercise-{incident}.yaml")
        answer = solve_with_progress(req)
        impact = data.failure_impact(req.key, answer, (), (), (), incident)
        down = int(impact.summary["services_down"])
        cost = float(answer.cost["total"])
        survives, cheap = down == 0, cost <= budget
        st.markdown(
            (OK if survives else NOT_OK)
            + t("learn.exercise.survives" if survives else "learn.exercise.fails", down=down)
        )
        st.markdown((OK if cheap else NOT_OK) + t("learn.exercise.cost", cost=cost, budget=budget))
        if survives and cheap:
            st.success(t("learn.exercise.passed"), icon=":material/celebration:")
            st.balloons()
        else:
            st.warning(t("learn.exercise.try_again"), icon=":material/replay:")
    with st.expander(t("learn.exercise.model_answer")):
        st.code(data.exercise_text(ex["answer"]), language="yaml")


def chargeback(plan: Plan, req: data.PlanRequest) -> None:
    sites = data.catalog().sites.reset_index()
    cols = [
        c
        for c in (
            "region",
            "hosts",
            "vcpu_capacity",
            "mem_gib_capacity",
            "cpu_ratio",
            "target_utilization",
            "usd_per_month",
            "usd_per_vcpu_hour",
        )
        if c in sites
    ]
    table(sites[cols], money=["usd_per_month"])
    show = views.private_showback(plan, data.catalog())
    if show.empty:
        st.info(t("learn.chargeback.no_private"))
    else:
        st.markdown(t("learn.chargeback.yours", total=show["usd_per_month"].sum()))
        table(show, money=["usd_per_month"])


SHOW = {
    "virtualization": virtualization,
    "tiers": tiers,
    "deployment": deployment,
    "clusters": clusters,
    "migration": migration,
    "dr": dr,
    "incidents": incidents,
    "chargeback": chargeback,
}

st.title(t("learn.title"))
st.caption(t("learn.intro"))

with page_body():
    req = current_request()
    plan = solve_with_progress(req)
    plan_banner(req, plan)
    topic = st.radio(
        t("learn.topic"),
        TOPICS,
        horizontal=True,
        key="learn_topic",
        persist_state="session",
        format_func={k: t(f"learn.{k}.name") for k in TOPICS}.__getitem__,
    )
    st.header(t(f"learn.{topic}.name"))
    st.markdown(t(f"learn.{topic}.text"))
    st.subheader(t("learn.on_your_plan"))
    SHOW[topic](plan, req)
