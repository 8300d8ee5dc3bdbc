"""Catalog: every region on a world map, filters, a price table per offering with SLA and source,
and the responsibility stack (who runs which layer) of a selected offering."""

import streamlit as st
from ui import charts, data, geo, views
from ui.i18n import t
from ui.widgets import label, names, page_body, provider_legend, table, who_labels

st.title(t("catalog.title"))
st.caption(t("catalog.intro"))

with page_body():
    options = data.filter_options()
    c1, c2, c3, c4 = st.columns(4)
    providers = c1.multiselect(
        t("catalog.provider"),
        options["provider"],
        format_func=names("provider", options["provider"]),
        placeholder=t("common.all"),
    )
    tiers = c2.multiselect(t("catalog.tier"), options["tier"], placeholder=t("common.all"))
    categories = c3.multiselect(
        t("catalog.category"),
        options["category"],
        format_func=names("category", options["category"]),
        placeholder=t("common.all"),
    )
    jurisdictions = c4.multiselect(
        t("catalog.jurisdiction"), options["jurisdiction"], placeholder=t("common.all")
    )
    regions, offerings = data.catalog_view(
        tuple(providers), tuple(tiers), tuple(categories), tuple(jurisdictions)
    )

    m1, m2, m3, m4 = st.columns(4)
    m1.metric(t("catalog.n_regions"), len(regions))
    m2.metric(t("catalog.n_offerings"), len(offerings))
    m3.metric(t("catalog.n_providers"), regions["provider"].nunique())
    m4.metric(t("catalog.n_unverified"), int((offerings["status"] == "U").sum()))

    st.subheader(t("catalog.map"))
    tooltip = (
        f"<b>{{name}}</b><br/>{{region}}<br/>{t('col.city')}: {{city}} ({{country}})<br/>"
        f"{t('col.jurisdiction')}: {{jurisdiction}} · {t('col.zones')}: {{zones}}"
    )
    st.pydeck_chart(charts.region_map(regions, tooltip, geo.outlines()), height=480)
    provider_legend(sorted(set(regions["provider"])))

    st.subheader(t("catalog.prices"))
    st.caption(t("catalog.prices_note"))
    shown = offerings.assign(
        sla_mode=offerings["sla_mode"].map(lambda m: label("sla_mode", m)),
        status=offerings["status"].map(lambda s: label("figure_status", s)),
    )[
        [
            "offering",
            "provider",
            "region",
            "sku",
            "category",
            "tier",
            "vcpu",
            "mem_gib",
            "storage_gb",
            "usd_per_month",
            "sla_pct",
            "sla_mode",
            "price_basis",
            "status",
            "as_of",
            "source_url",
        ]
    ]
    table(shown, money=["usd_per_month"], links=["source_url"], height=380)

    st.subheader(t("catalog.stack"))
    st.caption(t("catalog.stack_intro"))
    if offerings.empty:
        st.info(t("catalog.no_offerings"))
    else:
        choice = st.selectbox(
            t("catalog.pick_offering"), list(offerings["offering"]), key="stack_offering"
        )
        managed = data.managed_layers(choice)
        columns = {t("catalog.on_premises"): (), choice: managed}
        rows = views.stack_rows(
            columns,
            data.LAYERS,
            lambda x: label("layer", x),
            who_labels(),
            private=[choice] if data.is_private(choice) else [],
        )
        st.altair_chart(
            charts.responsibility(rows, t("catalog.layer"), t("catalog.who"), ""), width="stretch"
        )
        vendor = [label("layer", x) for x in data.LAYERS if x in managed]
        if data.is_private(choice):  # your own cloud: its team, not a vendor, runs those layers
            st.caption(t("catalog.private_stack"))
        you = [label("layer", x) for x in data.LAYERS if x not in managed]
        st.markdown(
            t(
                "catalog.stack_summary_private"
                if data.is_private(choice)
                else "catalog.stack_summary",
                vendor=", ".join(vendor) or t("common.nothing"),
                you=", ".join(you) or t("common.nothing"),
            )
        )
