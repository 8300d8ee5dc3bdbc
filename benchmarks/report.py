"""The markdown report of a benchmark run.

Takes the run's rows (`run.run_config` or `isolate`), its facts (`meta`: machine, load, catalog,
seed, start, duration, command, planner commit) and an optional profile, and returns markdown:
the machine and run, our method's phases per size, the baselines on the same instances, the
planner's progress timeline, the targets with verdicts, and the profile. It exists apart from
running so that a run's JSON can be rendered again after a fix to the report or the targets.
"""

from __future__ import annotations

from typing import Any

from .fmt import md_row, money, num, pct, vs
from .targets import at_target_of, ours_of, targets

Row = dict[str, Any]

OURS_COLUMNS = (
    "services", "run", "cand. s", "prune s", "build s", "solve s", "other s", "**total s**",
    "build share", "verify s", "what-if region + provider ms", "availability s", "vars", "cons",
    "cost $/mo", "bound", "**gap**", "status", "verified", "peak MB",
)  # fmt: skip
BASELINE_COLUMNS = (
    "services", "baseline", "time s", "cost $/mo", "bound", "gap", "feasible for the policy",
    "ours vs", "peak MB", "note",
)  # fmt: skip


def _analyses(r: Row) -> tuple[str, str]:
    """What-if and availability cells (and on which plan they ran, when not ours)."""
    on = "" if r.get("analysed_plan") in (None, "ours") else f" on {r['analysed_plan']}"
    if r.get("whatif") == "ok":
        wi = (
            f"{r['whatif_region_ms']:.1f} + {r['whatif_provider_ms']:.1f} = "
            f"{r['whatif_both_ms']:.1f} ({r['whatif_region_first_ms']:.1f} + "
            f"{r['whatif_provider_first_ms']:.1f}){on}"
        )
    else:
        wi = str(r.get("whatif", "-"))
    if r.get("availability") == "ok":
        av = num(r.get("availability_s"), ".3f") + on
    else:
        av = str(r.get("availability", "-"))
    return wi, av


def _ours_line(r: Row) -> str:
    wi, av = _analyses(r)
    wall = f"**{num(r.get('wall_s'))}**"
    peak = num(r.get("peak_rss_mb"), ".0f")
    if r.get("cost") is None:
        return md_row(r["services"], r["label"], *["-"] * 5, wall, "-", "-", wi, av, *["-"] * 5,
                      r.get("status"), "-", peak)  # fmt: skip
    share = r["build_s"] / r["wall_s"] if r.get("build_s") is not None and r.get("wall_s") else None
    return md_row(
        r["services"], r["label"], num(r.get("candidates_s")), num(r.get("prune_s")),
        num(r.get("build_s")), num(r.get("solve_s")), num(r.get("other_s")), wall, pct(share),
        num(r.get("verify_s"), ".3f"), wi, av, r.get("variables"), r.get("constraints"),
        money(r.get("cost")), money(r.get("bound")), f"**{pct(r.get('gap'))}**", r.get("status"),
        r.get("verified"), peak,
    )  # fmt: skip


def _baseline_lines(rows: list[Row], n: int) -> list[str]:
    out = []
    ours = ours_of(rows, n)
    oc = ours.get("cost") if ours else None
    if ours:
        out.append(md_row(
            n, f"**ours** ({ours['label']})", num(ours.get("wall_s")), money(oc),
            money(ours.get("bound")), pct(ours.get("gap")), ours.get("verified"), "-",
            num(ours.get("peak_rss_mb"), ".0f"), ours.get("status"),
        ))  # fmt: skip
    for r in rows:
        if r["services"] != n or r is ours:
            continue
        note = r.get("status", "")
        if r.get("error"):
            note += f": {r['error'][:90]}"
        out.append(md_row(
            n, r["label"], num(r.get("wall_s")), money(r.get("cost")), money(r.get("bound")),
            pct(r.get("gap")), r.get("verified", "-"), vs(oc, r.get("cost")),
            num(r.get("peak_rss_mb"), ".0f"), note,
        ))  # fmt: skip
    for b in (ours or {}).get("baselines", []):
        notes = [b["note"]] if b["note"] else []
        if b["kind"] == "single-region" and b.get("valid_without_survival") is not None:
            notes.append(f"valid for survive none: {b['valid_without_survival']}")
        if not b["feasible"] and b["first_violation"]:
            notes.append(f"{b['violations']} violations, e.g. {b['first_violation'][:90]}")
        out.append(md_row(
            n, f"hand: {b['kind']}", num(b["seconds"]), money(b["cost"]), "-", "-",
            b["feasible"], vs(oc, b["cost"]), "-", "; ".join(notes),
        ))  # fmt: skip
    return out


def _machine_section(meta: dict[str, Any]) -> list[str]:
    m, la = meta["machine"], meta["load"]
    return [
        "## Machine and run\n",
        f"- {m['nproc']} cores, {m['mem_gib']} GiB, CPU `{m['cpu']}`, {m['platform']}",
        f"- Python {m['python']}, HiGHS {m['highs']} (highspy), PuLP {m['pulp']} (bundled CBC), "
        f"numpy {m['numpy']}, pandas {m['pandas']}",
        f"- load average (1 min) at start {la[0]:.2f}, at end {la[1]:.2f}; configurations run "
        "one at a time, each in a fresh process",
        f"- catalog `{meta['catalog']}` ({meta['regions']} regions), seed {meta['seed']}, "
        f"run {meta['started']} ({meta['elapsed_s'] / 60:.1f} min)",
        f"- planner code: {meta.get('planner', 'unknown')}",
        f"- command: `{meta['command']}`\n",
    ]


def _ours_section(ours_rows: list[Row]) -> list[str]:
    return [
        "## Our method: phases, model, result\n",
        "Each size runs twice: with default options (60 s, gap 0.1%; what-if, availability and "
        "the hand-drawn baselines use this plan) and with the target's gap and wall time as its "
        "options (the target rows below judge this run).\n",
        "Seconds per phase as `make_plan` reports them; `other` = total minus the four phases "
        "(plan assembly, repair and the verifications `make_plan` runs itself); `verify` = one "
        "independent `verify_plan` call, timed apart. What-if = `sweep(plan, catalog, kind)`, "
        "median of 5 warm calls (first call in brackets). Peak = `ru_maxrss` of the run's process "
        "(or of its largest child).\n",
        md_row(*OURS_COLUMNS),
        "|" + "---|" * len(OURS_COLUMNS),
        *(_ours_line(r) for r in sorted(ours_rows, key=lambda r: r["services"])),
    ]


def _baselines_section(rows: list[Row]) -> list[str]:
    out = [
        "",
        "## Baselines on the same instances\n",
        "`ours vs` = our cost / baseline cost - 1 (negative: ours is cheaper). Monolithic = one "
        "coupled model, same spec. Hand-drawn plans: `benchmarks/baselines.py`, checked by "
        "`verify_plan` against the same policy.\n",
        md_row(*BASELINE_COLUMNS),
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n in sorted({r["services"] for r in rows}):
        out += _baseline_lines(rows, n)
    out.append("")
    return out


def _timeline_section(ours_rows: list[Row]) -> list[str]:
    timeline = [r for r in ours_rows if r.get("progress")]
    if not timeline:
        return []
    out = ["## Timeline of our method (the planner's progress messages)\n"]
    for r in sorted(timeline, key=lambda r: r["services"]):
        why = f" ({r['error'][:160]})" if r.get("error") else ""
        out.append(f"{r['services']} services, {r['label']}, {r.get('status')}{why}:\n")
        out.append("```\n" + "\n".join(str(x) for x in r["progress"][:40]) + "\n```\n")
    return out


def _profile_section(meta: dict[str, Any], profile: tuple[str, dict[str, float]]) -> list[str]:
    text, phases = profile
    return [
        f"## Profile: default method, {meta['profile_size']} services (cProfile)\n",
        "Default options except `workers=1`, so the per-service solves run in the profiled "
        "process. Cumulative seconds under cProfile (which slows Python code, not HiGHS, so "
        "Python phases look heavier than in the table above); nested phases overlap (the "
        "per-service solves contain model builds, conversions and HiGHS runs).\n",
        "| phase | seconds |",
        "|---|---|",
        *(f"| {k} | {v:.2f} |" for k, v in phases.items()),
        "\nTop functions by own time:\n",
        "```\n" + text + "\n```\n",
    ]


def render(
    rows: list[Row], meta: dict[str, Any], profile: tuple[str, dict[str, float]] | None
) -> str:
    """The whole report, as markdown."""
    # our method's rows: the default run of each size and the run with the target's settings
    ours_rows = [
        r
        for r in rows
        if r.get("config", {}).get("extras") or r is at_target_of(rows, r["services"])
    ]
    out = _machine_section(meta) + _ours_section(ours_rows) + _baselines_section(rows)
    out += _timeline_section(ours_rows)
    out += ["## Targets\n", "| target | measured | verdict |", "|---|---|---|", *targets(rows), ""]
    if profile is not None:
        out += _profile_section(meta, profile)
    return "\n".join(out)
