"""What-if: fail regions, providers, sites or a real incident; see which services go down or
degrade, the users affected, RTO/RPO, the repaired plan and its migration cost; and a heat map of
every single failure of one kind."""

import numpy as np
import streamlit as st
from ui import charts, data, views
from ui.i18n import t, t_or
from ui.messages import is_incident_note
from ui.widgets import (
    current_request,
    label,
    library_text,
    message_list,
    names,
    page_body,
    plan_banner,
    plan_diff,
    plan_map,
    run_with_progress,
    show_relaxations,
    solve_with_progress,
    table,
)

SWEEP_KINDS = ("region", "zone", "site", "provider")
SWEEP_MEASURES = ("services_down", "services_degraded", "demand_shortfall_pct", "users_affected")

st.title(t("whatif.title"))
st.caption(t("whatif.intro"))

with page_body():
    req = current_request()
    plan = solve_with_progress(req)
    plan_banner(req, plan)
    cat = data.catalog()
    used = plan.regions()
    others = [r for r in cat.regions.index if r not in used]
    incidents = cat.incidents

    st.subheader(t("whatif.choose"))
    c1, c2 = st.columns(2)
    regions = c1.multiselect(
        t("whatif.regions"),
        used + others,
        key="whatif_regions",
        persist_state="session",
        help=t("whatif.regions_help"),
        placeholder=t("whatif.none"),
    )
    providers = c2.multiselect(
        t("whatif.providers"),
        list(cat.providers.index),
        key="whatif_providers",
        format_func=names("provider", cat.providers.index),
        persist_state="session",
        placeholder=t("whatif.none"),
    )
    c3, c4 = st.columns(2)
    sites = c3.multiselect(
        t("whatif.sites"),
        sorted(set(cat.regions.loc[cat.regions["kind"] == "private", "site"])),
        key="whatif_sites",
        persist_state="session",
        placeholder=t("whatif.none"),
    )
    incident = c4.selectbox(
        t("whatif.incident"),
        list(incidents.index),
        index=None,
        key="whatif_incident",
        format_func={
            i: t_or(f"incident.{i}.title", str(incidents.at[i, "title"])) for i in incidents.index
        }.__getitem__,
        persist_state="session",
        placeholder=t("whatif.none"),
    )
    chosen = (tuple(regions), tuple(providers), tuple(sites), incident)

    if not any(chosen):
        st.info(t("whatif.pick_something"), icon=":material/touch_app:")
        plan_map(plan)
    else:
        impact = data.failure_impact(req.key, plan, *chosen)
        summary = impact.summary
        m = st.columns(4)
        m[0].metric(t("whatif.down"), summary["services_down"])
        m[1].metric(t("whatif.degraded"), summary["services_degraded"])
        m[2].metric(
            t("whatif.users_affected"),
            len(summary["users_affected"]),
            help=", ".join(summary["users_affected"]) or None,
        )
        m[3].metric(
            t("whatif.failover_egress"), f"${summary['failover_egress_usd_per_month']:,.0f}"
        )
        if summary["services_down"] == 0 and summary["services_degraded"] == 0:
            st.success(t("whatif.survives"), icon=":material/verified:")
        elif summary["services_down"] == 0:
            st.warning(t("whatif.degrades"), icon=":material/warning:")
        else:
            st.error(t("whatif.goes_down", n=summary["services_down"]), icon=":material/cloud_off:")

        plan_map(plan, failed=impact.failure.regions)
        st.caption(t("whatif.map_legend"))

        st.subheader(t("whatif.services"))
        s = impact.services
        cols = [
            c
            for c in (
                "service",
                "status",
                "reason",
                "strategy",
                "resource",
                "capacity_before",
                "capacity_after",
                "shortfall",
                "rto_minutes",
                "rpo_minutes",
                "note",
            )
            if c in s
        ]
        table(views.impact_table(s[cols], label, library_text, t("whatif.no_recovery")))
        if len(impact.users):
            st.subheader(t("whatif.users"))
            u = impact.users
            yes_no = {True: t("common.yes"), False: t("common.no")}
            shown = u.assign(within_budget=u["within_budget"].map(lambda b: yes_no[bool(b)]))
            if "served" in shown:
                shown["served"] = shown["served"].map(lambda b: yes_no[bool(b)])
            # no region left to reach: an empty cell, not "Infinity"
            num = shown.select_dtypes("number").columns
            shown[num] = shown[num].where(np.isfinite(shown[num].astype(float)))
            table(shown)
        notes = summary.get("notes", [])
        if incident is not None and any(is_incident_note(n) for n in notes):
            # the catalog's own account, told in the user's language from i18n
            row = incidents.loc[incident]
            st.info(
                f"**{row['date']}** · "
                + t_or(f"incident.{incident}.story", str(row["what_failed"]))
                + "\n\n"
                + t_or(f"incident.{incident}.lesson", str(row["lesson"])),
                icon=":material/history_edu:",
            )
        message_list([n for n in notes if not is_incident_note(n)], kind="info")

        st.subheader(t("whatif.repair"))
        st.caption(t("whatif.repair_intro"))
        if st.button(t("whatif.repair_button"), icon=":material/build:"):
            st.session_state["whatif_repaired"] = chosen
        if st.session_state.get("whatif_repaired") == chosen:
            fixed = run_with_progress("whatif.repairing", data.replan, req.key, plan, *chosen)
            if fixed.plan is None:
                # nothing the spec allows survives without these regions (one building only):
                # say why, then solve the cheapest relaxations so the learner sees what it takes
                st.error(t("whatif.no_repair"), icon=":material/block:")
                message_list([fixed.policy_note])
                st.info(t("whatif.no_repair_fix"), icon=":material/lightbulb:")
                st.subheader(t("relax.title"))
                options = data.relaxation_options(
                    req, without=tuple(sorted(impact.failure.regions)), survive="none"
                )
                tried = run_with_progress("relax.solving", data.try_relaxations, options)
                best = show_relaxations(tried, key="whatif_open_relaxed")
                if best is not None and best.plan is not None:
                    st.metric(t("relax.repaired_cost"), f"${best.plan.cost['total']:,.0f}")
                    table(
                        views.placements_table(best.plan, lambda r: label("role", r)),
                        money=["usd_per_month"],
                    )
                st.stop()
            r = st.columns(3)
            r[0].metric(t("whatif.cost_before"), f"${fixed.cost_before:,.0f}")
            r[1].metric(
                t("whatif.cost_after"),
                f"${fixed.cost_after:,.0f}",
                delta=f"{fixed.cost_delta:+,.0f}",
                delta_color="inverse",
            )
            r[2].metric(
                t("whatif.migration_usd"),
                f"${fixed.migration['usd'].sum():,.0f}" if len(fixed.migration) else "$0",
            )
            message_list([fixed.policy_note], kind="warning")
            if len(fixed.migration):
                mig = fixed.migration.assign(
                    mode=fixed.migration["mode"].map(lambda v: label("migration", v)),
                    from_region=fixed.migration["from_region"].map(
                        lambda r: r if "/" in str(r) or r == "-" else t("whatif.no_copy_source")
                    ),
                )
                table(mig, money=["usd"])
                st.caption(t("whatif.migration_note"))
            else:
                st.caption(t("whatif.no_migration"))
            st.subheader(t("whatif.repair_diff"))
            plan_diff(
                plan,
                fixed.plan,
                t("whatif.before"),
                t("whatif.after"),
                (req.key, data.digest("repaired", req.key, *chosen)),
            )

with page_body():
    st.subheader(t("whatif.sweep"))
    st.caption(t("whatif.sweep_intro"))
    req = current_request()
    plan = solve_with_progress(req)
    kind = st.segmented_control(
        t("whatif.sweep_kind"),
        SWEEP_KINDS,
        default="region",
        key="whatif_sweep_kind",
        format_func=names("domain", SWEEP_KINDS),
        required=True,
    )
    sweep = data.sweep(req.key, plan, kind)
    measures = {m: t(f"col.{m}") for m in SWEEP_MEASURES}
    long = views.sweep_long(sweep, measures, lambda k: label("domain", k))
    st.altair_chart(
        charts.sweep_heatmap(long, t("whatif.measure"), t("whatif.scenario"), t("whatif.value")),
        width="stretch",
    )
