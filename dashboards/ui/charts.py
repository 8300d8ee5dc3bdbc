"""Charts as pure functions: tidy tables and already-translated labels in, a chart object out."""

from __future__ import annotations

import altair as alt
import pandas as pd
import pydeck as pdk

# One colour per provider, readable on a light map; unknown providers get grey.
PROVIDER_RGB: dict[str, tuple[int, int, int]] = {
    "aws": (255, 153, 0),
    "azure": (0, 120, 212),
    "gcp": (52, 168, 83),
    "naver": (0, 150, 160),
    "openstack": (237, 28, 36),
}
GREY = (140, 140, 140)
FAILED_RGB = (60, 60, 60)
USER_RGB = (130, 60, 200)
LINE_RGB = (90, 90, 200)


def rgb(provider: str) -> list[int]:
    return list(PROVIDER_RGB.get(provider, GREY))


def hex_colour(provider: str) -> str:
    return "#{:02x}{:02x}{:02x}".format(*PROVIDER_RGB.get(provider, GREY))


OUTLINE_FILL = [236, 239, 243]
OUTLINE_LINE = [160, 168, 178]
MAP_HEIGHT = 460


def _base_layer(outlines: dict) -> pdk.Layer:
    """The countries, drawn first so that the plan sits on a map even offline."""
    return pdk.Layer(
        "GeoJsonLayer",
        outlines,
        stroked=True,
        filled=True,
        get_fill_color=OUTLINE_FILL,
        get_line_color=OUTLINE_LINE,
        line_width_min_pixels=1,
        pickable=False,
    )


def _labels(points: pd.DataFrame, size: int = 12) -> pdk.Layer:
    """A text label above each point (column `label`); any script (Hangul too)."""
    return pdk.Layer(
        "TextLayer",
        points,
        get_position=["lon", "lat"],
        get_text="label",
        get_size=size,
        get_color=[30, 30, 30],
        get_pixel_offset=[0, -20],
        # any script, Hangul too (deck.gl's default atlas is ASCII only). pydeck passes a bare
        # string as an expression: a quoted one is passed as it is
        character_set='"auto"',
        font_family='"Noto Sans CJK KR, NanumGothic, sans-serif"',
        background=True,
        get_background_color=[255, 255, 255, 210],
        background_padding=[3, 1],
        pickable=False,
    )


def _deck(layers: list[pdk.Layer], view: tuple[float, float, float], tooltip: str) -> pdk.Deck:
    lat, lon, zoom = view
    return pdk.Deck(
        layers=layers,
        initial_view_state=pdk.ViewState(latitude=lat, longitude=lon, zoom=zoom),
        tooltip={"html": tooltip},
        map_style=None,  # no tile server: the outlines are the map
        map_provider=None,
    )


def region_map(regions: pd.DataFrame, tooltip_html: str, outlines: dict) -> pdk.Deck:
    """Every region as a dot coloured by its provider. Needs columns provider, lat, lon."""
    pts = regions.assign(colour=[rgb(p) for p in regions["provider"]])
    layer = pdk.Layer(
        "ScatterplotLayer",
        pts,
        get_position=["lon", "lat"],
        get_fill_color="colour",
        get_radius=60000,
        radius_min_pixels=4,
        radius_max_pixels=14,
        pickable=True,
        stroked=True,
        get_line_color=[255, 255, 255],
        line_width_min_pixels=1,
    )
    return _deck([_base_layer(outlines), layer], (25.0, 40.0, 0.6), tooltip_html)


def plan_map(
    sites: pd.DataFrame,
    links: pd.DataFrame,
    users: pd.DataFrame,
    tooltip_html: str,
    outlines: dict,
    view: tuple[float, float, float],
) -> pdk.Deck:
    """A plan on the map: its regions (size by monthly cost; `failed` regions dark), each
    labelled, arcs for the dependencies between regions, and the user groups.

    sites: region, provider, lat, lon, usd_per_month, failed, label (positions already moved
        apart where regions share a city)
    links: from_lon, from_lat, to_lon, to_lat, label
    users: lon, lat, label
    view: latitude, longitude, zoom
    """
    top = max(float(sites["usd_per_month"].max()) if len(sites) else 1.0, 1.0)
    pts = sites.assign(
        colour=[
            list(FAILED_RGB) + [230] if f else rgb(p) + [220]
            for p, f in zip(sites["provider"], sites["failed"], strict=True)
        ],
        radius_m=[20_000 + 60_000 * (float(c) / top) ** 0.5 for c in sites["usd_per_month"]],
    )
    layers = [
        _base_layer(outlines),
        pdk.Layer(
            "ArcLayer",
            links,
            get_source_position=["from_lon", "from_lat"],
            get_target_position=["to_lon", "to_lat"],
            get_source_color=list(LINE_RGB) + [200],
            get_target_color=list(LINE_RGB) + [200],
            get_width=3,
            pickable=True,
        ),
        pdk.Layer(
            "ScatterplotLayer",
            users,
            get_position=["lon", "lat"],
            get_fill_color=list(USER_RGB) + [170],
            get_radius=8_000,
            radius_min_pixels=5,
            radius_max_pixels=9,
            pickable=True,
        ),
        pdk.Layer(
            "ScatterplotLayer",
            pts,
            get_position=["lon", "lat"],
            get_fill_color="colour",
            get_radius="radius_m",
            radius_min_pixels=7,
            radius_max_pixels=28,
            pickable=True,
            stroked=True,
            get_line_color=[255, 255, 255],
            line_width_min_pixels=2,
        ),
        _labels(pts),
    ]
    return _deck(layers, view, tooltip_html)


# One colour per role, whatever the language: the legend's labels change, the colours do not.
ROLE_COLOURS = {
    "primary": "#1f77b4",
    "active": "#2ca02c",
    "standby": "#9ecae1",
    "backup": "#bcbd22",
}


def cost_by_service(
    df: pd.DataFrame, x_title: str, y_title: str, colour_title: str, role_labels: dict[str, str]
) -> alt.Chart:
    """Stacked bars: monthly cost per service, split by role (colours fixed per role).
    Columns service, role, role_label, usd_per_month."""
    roles = [r for r in ROLE_COLOURS if r in set(df["role"])]
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X("sum(usd_per_month):Q", title=x_title),
            y=alt.Y(
                "service:N",
                title=y_title,
                sort="-x",
                axis=alt.Axis(labelLimit=320, labelOverlap=False),
            ),
            color=alt.Color(
                "role_label:N",
                title=colour_title,
                scale=alt.Scale(
                    domain=[role_labels.get(r, r) for r in roles],
                    range=[ROLE_COLOURS[r] for r in roles],
                ),
            ),
            tooltip=[
                alt.Tooltip("service:N", title=y_title),
                alt.Tooltip("role_label:N", title=colour_title),
                alt.Tooltip("sum(usd_per_month):Q", title=x_title, format="$,.2f"),
            ],
        )
        .properties(height=max(140, 30 * df["service"].nunique()))
    )


def cost_components(df: pd.DataFrame, x_title: str, y_title: str) -> alt.Chart:
    """Bars of the cost breakdown. Columns component_label, usd_per_month."""
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X("usd_per_month:Q", title=x_title),
            y=alt.Y("component_label:N", title=y_title, sort=None),
            tooltip=[
                alt.Tooltip("component_label:N", title=y_title),
                alt.Tooltip("usd_per_month:Q", title=x_title, format="$,.2f"),
            ],
        )
        .properties(height=160)
    )


def responsibility(
    df: pd.DataFrame, layer_title: str, who_title: str, column_title: str
) -> alt.Chart:
    """The layer stack (hardware at the bottom) per column, coloured by who runs the layer.
    Columns column, layer_label, level (0 = hardware), who (you, team, vendor), who_label."""
    base = alt.Chart(df).encode(
        x=alt.X(
            "column:N",
            title=column_title,
            sort=None,
            axis=alt.Axis(labelAngle=-20, labelLimit=200, labelOverlap=False),
        ),
        y=alt.Y("level:O", title=layer_title, sort="descending", axis=None),
    )
    ordered = df.sort_values("who_order")  # you, your own cloud team, the vendor
    colours = {"you": "#4c78a8", "team": "#54a24b", "vendor": "#f2a93b"}
    blocks = base.mark_rect(stroke="white", strokeWidth=3).encode(
        color=alt.Color(
            "who_label:N",
            title=who_title,
            scale=alt.Scale(
                domain=list(dict.fromkeys(ordered["who_label"])),
                range=[colours[k] for k in dict.fromkeys(ordered["who"])],
            ),
        ),
        tooltip=[
            alt.Tooltip("layer_label:N", title=layer_title),
            alt.Tooltip("who_label:N", title=who_title),
        ],
    )
    text = base.mark_text(color="white", fontWeight="bold").encode(text="layer_label:N")
    return (blocks + text).properties(height=260)


KIND_COLOURS = {"this": "#d62728", "survive": "#1f77b4", "strategy": "#9467bd"}


def tradeoff(
    points: pd.DataFrame,
    frontier: pd.DataFrame,
    x_title: str,
    y_title: str,
    kind_title: str,
    kind_labels: dict[str, str],
    status_title: str,
) -> alt.LayerChart:
    """Cost against downtime (log scale, less downtime to the left), one point per plan, each
    labelled; the Pareto frontier of the points shown as a dashed line; time-limited plans drawn
    hollow, their label carrying the gap.

    points: label, kind, usd_per_month, downtime_min_per_month, status_label, hollow (bool);
    frontier: usd_per_month, downtime_min_per_month (in line order)."""
    shown = points.assign(
        x=points["downtime_min_per_month"].clip(lower=0.001),
        kind_label=points["kind"].map(kind_labels),
        size=[420 if k == "this" else 160 for k in points["kind"]],
    )
    x = alt.X("x:Q", title=x_title, scale=alt.Scale(type="log"))
    y = alt.Y("usd_per_month:Q", title=y_title, scale=alt.Scale(zero=False))
    colour = alt.Color(
        "kind_label:N",
        title=kind_title,
        scale=alt.Scale(
            domain=[kind_labels[k] for k in KIND_COLOURS],
            range=list(KIND_COLOURS.values()),
        ),
        legend=alt.Legend(orient="bottom"),
    )
    tooltip = [
        alt.Tooltip("label:N", title=kind_title),
        alt.Tooltip("downtime_min_per_month:Q", title=x_title, format=",.2f"),
        alt.Tooltip("usd_per_month:Q", title=y_title, format="$,.0f"),
        alt.Tooltip("status_label:N", title=status_title),
    ]
    base = alt.Chart(shown).encode(x=x, y=y)
    filled = base.transform_filter("!datum.hollow").mark_point(filled=True, opacity=0.9)
    hollow = base.transform_filter("datum.hollow").mark_point(filled=False, strokeWidth=2.5)
    dots = [
        layer.encode(color=colour, size=alt.Size("size:Q", legend=None), tooltip=tooltip)
        for layer in (filled, hollow)
    ]
    # one label per position: plans that come out the same share it ("A = B")
    same = shown.groupby(["usd_per_month", "x"], as_index=False, sort=False)["label"].agg(
        " = ".join
    )
    text = (
        alt.Chart(same)
        .mark_text(align="left", dx=10, dy=-9, fontSize=11, limit=420)
        .encode(x="x:Q", y="usd_per_month:Q", text="label:N")
    )
    line = (
        alt.Chart(frontier.assign(x=frontier["downtime_min_per_month"].clip(lower=0.001)))
        .mark_line(strokeDash=[6, 3], color="#777")
        .encode(x="x:Q", y="usd_per_month:Q")
    )
    return alt.layer(line, *dots, text).properties(height=420)


def sweep_heatmap(df: pd.DataFrame, x_title: str, y_title: str, value_title: str) -> alt.LayerChart:
    """Scenario by measure, coloured by how bad each is relative to the worst scenario of that
    measure. Columns scenario, measure_label, value, share (0..1)."""
    base = alt.Chart(df).encode(
        x=alt.X(
            "measure_label:N", title=x_title, sort=None, axis=alt.Axis(labelAngle=0, labelLimit=200)
        ),
        y=alt.Y("scenario:N", title=y_title, sort=None, axis=alt.Axis(labelLimit=320)),
    )
    cells = base.mark_rect().encode(
        color=alt.Color(
            "share:Q",
            title=value_title,
            scale=alt.Scale(scheme="orangered", domain=[0, 1]),
            legend=None,
        ),
        tooltip=[
            alt.Tooltip("scenario:N", title=y_title),
            alt.Tooltip("measure_label:N", title=x_title),
            alt.Tooltip("value:Q", title=value_title, format=",.4~g"),
        ],
    )
    text = base.mark_text(fontSize=12).encode(
        text=alt.Text("value:Q", format=",.4~g"),
        color=alt.condition("datum.share > 0.55", alt.value("white"), alt.value("black")),
    )
    return (cells + text).properties(height=max(140, 26 * df["scenario"].nunique()))


def dr_strategies(df: pd.DataFrame, x_title: str, y_title: str, name_title: str) -> alt.LayerChart:
    """RTO against RPO (log scales) for the DR strategies.
    Columns strategy_label, rto_minutes, rpo_minutes."""
    shown = df.assign(rto=df["rto_minutes"].clip(lower=0.5), rpo=df["rpo_minutes"].clip(lower=0.5))
    dots = (
        alt.Chart(shown)
        .mark_circle(size=200)
        .encode(
            x=alt.X("rto:Q", title=x_title, scale=alt.Scale(type="log")),
            y=alt.Y("rpo:Q", title=y_title, scale=alt.Scale(type="log")),
            color=alt.Color("strategy_label:N", title=name_title, legend=None),
            tooltip=[
                alt.Tooltip("strategy_label:N", title=name_title),
                alt.Tooltip("rto_minutes:Q", title=x_title),
                alt.Tooltip("rpo_minutes:Q", title=y_title),
            ],
        )
    )
    return (dots + dots.mark_text(dx=10, align="left").encode(text="strategy_label:N")).properties(
        height=300
    )
