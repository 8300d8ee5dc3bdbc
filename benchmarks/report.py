"""The markdown report of a benchmark run.

Takes the run's rows (`run.run_config` or `isolate`), its facts (`meta`: machine, load, catalog,
seed, start, duration and its estimate, command, preset, planner commit) and an optional profile,
and returns markdown. First what docs/benchmarks.md quotes: a one-line summary of the run, the
machine, the instances, every family and size side by side with its baselines and verdicts, the
bundled examples, the targets one line each ("met, or how far") and, per family, the target
runs and the comparison with the hand-drawn plans in short; then the detail behind it:
our method's phases, the baselines in full, the planner's progress timeline, the targets case by
case and the profile. Every verdict is computed from the rows (`targets`). It exists apart from
running so that a run's JSON can be rendered again after a fix to the report or the targets.
"""

from __future__ import annotations

from typing import Any

from .fmt import md_row, money, num, pct, verdict, vs
from .isolate import GRACE_MIN_S, GRACE_SHARE, OVERRUN_TOLERANCE_S
from .targets import (
    TARGET_GAP,
    TARGET_WALL_S,
    at_target_of,
    best_hand,
    cases,
    compare_cell,
    default_of,
    example_rows,
    family_of,
    late_text,
    monolithic_of,
    ours_of,
    outcome,
    speed_verdict,
    summary,
    targets,
)

# isolate.grace_s in words, for the report's readers
GRACE_RULE = f"{GRACE_MIN_S:g} s (or {GRACE_SHARE:.0%} of its limit, if more)"

Row = dict[str, Any]

OURS_COLUMNS = (
    "family", "services", "run", "cand. s", "prune s", "build s", "solve s", "other s",
    "**total s**", "build share", "verify s", "what-if region + provider ms", "availability s",
    "vars", "cons", "cost $/mo", "bound", "**gap**", "status", "verified", "peak MB",
)  # fmt: skip
BASELINE_COLUMNS = (
    "family", "services", "baseline", "time s", "cost $/mo", "bound", "gap",
    "feasible for the policy", "ours vs", "peak MB", "note",
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
    fam = family_of(r)
    if r.get("cost") is None:
        return md_row(fam, r["services"], r["label"], *["-"] * 5, wall, "-", "-", wi, av,
                      *["-"] * 5, r.get("status"), "-", peak)  # fmt: skip
    share = r["build_s"] / r["wall_s"] if r.get("build_s") is not None and r.get("wall_s") else None
    return md_row(
        fam, r["services"], r["label"], num(r.get("candidates_s")), num(r.get("prune_s")),
        num(r.get("build_s")), num(r.get("solve_s")), num(r.get("other_s")), wall, pct(share),
        num(r.get("verify_s"), ".3f"), wi, av, r.get("variables"), r.get("constraints"),
        money(r.get("cost")), money(r.get("bound")), f"**{pct(r.get('gap'))}**", r.get("status"),
        r.get("verified"), peak,
    )  # fmt: skip


def _baseline_lines(rows: list[Row], fam: str, n: int) -> list[str]:
    out = []
    ours = ours_of(rows, n, fam)
    oc = ours.get("cost") if ours else None
    if ours:
        out.append(md_row(
            fam, n, f"**ours** ({ours['label']})", num(ours.get("wall_s")), money(oc),
            money(ours.get("bound")), pct(ours.get("gap")), ours.get("verified"), "-",
            num(ours.get("peak_rss_mb"), ".0f"), ours.get("status"),
        ))  # fmt: skip
    for r in rows:
        if (family_of(r), r["services"]) != (fam, n) or r is ours or r.get("example"):
            continue
        note = r.get("status", "")
        if r.get("error"):
            note += f": {r['error'][:90]}"
        out.append(md_row(
            fam, n, r["label"], num(r.get("wall_s")), money(r.get("cost")), money(r.get("bound")),
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
            fam, n, f"hand: {b['kind']}", num(b["seconds"]), money(b["cost"]), "-", "-",
            b["feasible"], vs(oc, b["cost"]), "-", "; ".join(notes),
        ))  # fmt: skip
    return out


def run_line(meta: dict[str, Any]) -> str:
    """One line: when, how long (against the run list's estimate), cores, load at the start and
    at the end, the planner's commit."""
    m, la = meta["machine"], meta["load"]
    planned = ""
    if meta.get("expected_s") is not None:
        planned = f" (expected {meta['expected_s'] / 60:.1f}, at most {meta['at_most_s'] / 60:.1f})"
    preset = f", preset {meta['preset']}" if meta.get("preset") else ""
    return (
        f"**Run:** {meta['started']}, {meta['elapsed_s'] / 60:.1f} min{planned}{preset}; "
        f"{m['nproc']} cores, load average {la[0]:.2f} at the start and {la[1]:.2f} at the end; "
        f"planner {meta.get('planner', 'unknown')}"
    )


def _machine_section(meta: dict[str, Any]) -> list[str]:
    m, la = meta["machine"], meta["load"]
    return [
        "## Machine and run\n",
        f"- {m['nproc']} cores, {m['mem_gib']} GiB, CPU `{m['cpu']}`, {m['platform']}",
        f"- Python {m['python']}, HiGHS {m['highs']} (highspy), PuLP {m['pulp']} (bundled CBC), "
        f"numpy {m['numpy']}, pandas {m['pandas']}",
        f"- load average (1 min) at start {la[0]:.2f}, at end {la[1]:.2f}"
        + _load_range(meta)
        + "; the machine is shared with other work, so times are those of a loaded machine; "
        "configurations run one at a time, each in a fresh process",
        f"- catalog `{meta['catalog']}` ({meta['regions']} regions), seed {meta['seed']}, "
        f"run {meta['started']} ({meta['elapsed_s'] / 60:.1f} min)",
        f"- planner code: {meta.get('planner', 'unknown')}",
        f"- command: `{meta['command']}`\n",
    ]


def _load_range(meta: dict[str, Any]) -> str:
    samples = [x for x in meta.get("load_samples", []) if x is not None]
    if not samples:
        return ""
    mean = sum(samples) / len(samples)
    return (
        f", at the start of each configuration {min(samples):.2f} to {max(samples):.2f} "
        f"(mean {mean:.2f}, {len(samples)} samples)"
    )


INSTANCE_COLUMNS = (
    "family", "services", "survive", "max providers", "resident", "may use private",
    "private site vCPU", "dependencies", "with a latency budget", "user-facing",
    "internet GB/mo", "dependency GB/mo", "total vCPU",
)  # fmt: skip


def _instances_section(rows: list[Row]) -> list[str]:
    out = ["## Instances\n", md_row(*INSTANCE_COLUMNS), "|" + "---|" * len(INSTANCE_COLUMNS)]
    for fam, n in cases(rows):
        r = next((x for x in rows if x.get("instance") and (family_of(x), x["services"]) ==
                  (fam, n) and "survive" in x["instance"]), None)  # fmt: skip
        if r is None:
            continue
        i = r["instance"]
        out.append(md_row(
            fam, n, i["survive"], i.get("max_providers") or "-", i["resident"],
            i["private_allowed"], num(r.get("private_site_vcpu"), ",.0f"), i["dependencies"],
            i["latency_budgets"], i["user_facing"], num(i["internet_gb"], ",.0f"),
            num(i["dependency_gb"], ",.0f"), num(i["vcpu"], ",.0f"),
        ))  # fmt: skip
    return [*out, ""]


SUMMARY_COLUMNS = (
    "family", "services", "ours, default options", "ours, target options", "gap/time target",
    "monolithic HiGHS", "monolithic CBC", "best feasible hand-drawn", "ours vs hand",
)  # fmt: skip


def result_cell(r: Row | None) -> str:
    """cost, gap and wall time of a run; or what happened instead."""
    if r is None:
        return "not run"
    if r.get("cost") is None:
        return outcome(r)
    late = late_text(r)
    ok = "" if r.get("verified") is True else ", NOT verified"
    return f"${money(r['cost'])}, {pct(r.get('gap'))}, {r['wall_s']:.1f} s{late}{ok}"


def _summary_section(rows: list[Row]) -> list[str]:
    out = [
        "## Every family and size side by side\n",
        "Cells: monthly cost, proven gap, wall seconds of planning (the catalog load and instance "
        "generation not counted). Default options: `PlanOptions`' (60 s, gap 0.1%). Target "
        "options: the size's target gap and wall time as `gap` and `time_limit`. The monolithic "
        "baselines' limit is the command's `--time-limit`. \"killed at T s\": still planning "
        f'{GRACE_RULE} after its time limit, so stopped; "late": returned more than '
        f"{OVERRUN_TOLERANCE_S:g} s after it. Hand-drawn: the cheapest of "
        "`benchmarks/baselines.py`'s plans that the verifier accepts; ours vs hand compares "
        "the default-options plan with it (the target-options plan where no default run was "
        "made).\n",
        md_row(*SUMMARY_COLUMNS),
        "|" + "---|" * len(SUMMARY_COLUMNS),
    ]
    for fam, n in cases(rows):
        ours = ours_of(rows, n, fam)
        default = default_of(rows, n, fam)
        tgt = at_target_of(rows, n, fam)
        if n in TARGET_WALL_S:
            ok, _ = speed_verdict(tgt, n)
            target = f"{TARGET_GAP[n]:.0%} in {TARGET_WALL_S[n]:g} s: {verdict(ok)}"
        else:
            target = "-"
        hand = best_hand(ours)
        hand_cell = f"{hand['kind']} ${money(hand['cost'])}" if hand else "none feasible"
        oc = (ours or {}).get("cost") if (ours or {}).get("verified") is True else None
        out.append(md_row(
            fam, n, result_cell(default), result_cell(tgt) if tgt else "-", target,
            result_cell(monolithic_of(rows, n, fam, "highs")),
            result_cell(monolithic_of(rows, n, fam, "cbc")), hand_cell,
            vs(oc, hand["cost"]) if hand else "-",
        ))  # fmt: skip
    return [*out, ""]


def _short_cell(r: Row | None) -> str:
    """A target run in a few words: gap and seconds, or what happened instead."""
    if r is None:
        return "not run"
    if r.get("cost") is None:
        return outcome(r)
    ok = "" if r.get("verified") is True else ", NOT verified"
    return f"{pct(r.get('gap'))}, {r['wall_s']:.1f} s{ok}"


def _hand_cell(ours: Row | None) -> str:
    hand = best_hand(ours)
    if ours is None:
        return "-"
    if hand is None:
        return "none feasible"
    if ours.get("cost") is None or ours.get("verified") is not True:
        return f"ours none; hand ${money(hand['cost'])}"
    return vs(ours["cost"], hand["cost"])


def _short_section(rows: list[Row]) -> list[str]:
    """The side-by-side table in short, one line per family: what a closing note quotes."""
    sizes = [n for n in TARGET_WALL_S if any(m == n for _, m in cases(rows))]
    if not sizes:
        return []
    head = [f"{n}: {TARGET_GAP[n]:.0%} in {TARGET_WALL_S[n]:g} s" for n in sizes]
    head.append("vs hand-drawn (" + " / ".join(str(n) for n in sizes) + ")")
    out = [
        "## In short\n",
        "Target-option runs, and the analysed plan against the cheapest feasible hand-drawn "
        "plan at each size.\n",
        md_row("family", *head),
        "|" + "---|" * (len(head) + 1),
    ]
    for fam in dict.fromkeys(f for f, _ in cases(rows)):
        present = {n for f, n in cases(rows) if f == fam}
        cells = [_short_cell(at_target_of(rows, n, fam)) if n in present else "not run"
                 for n in sizes]  # fmt: skip
        hands = [_hand_cell(ours_of(rows, n, fam)) if n in present else "not run" for n in sizes]
        out.append(md_row(fam, *cells, " / ".join(hands)))
    return [*out, ""]


def _examples_section(rows: list[Row]) -> list[str]:
    first = {r["example"]: r for r in example_rows(rows, "first-plan")}
    comp = {r["example"]: r for r in example_rows(rows, "compare")}
    if not first and not comp:
        return []
    out = [
        "## Bundled examples\n",
        "First plan: `make_plan` with the default options (what the dashboard computes). "
        "Compare: `planner.compare` of every named strategy, default options, stopped at the "
        "command's `--compare-budget`. Catalog load and spec parse not counted.\n",
        "| example | services | survive | first plan | first plan s | compare |",
        "|---|---|---|---|---|---|",
    ]
    for name in dict.fromkeys([*first, *comp]):
        f, c = first.get(name), comp.get(name)
        inst = (f or c or {}).get("instance", {})
        out.append(md_row(
            name, inst.get("services", "-"), inst.get("survive", "-"), result_cell(f),
            num((f or {}).get("wall_s"), ".2f"), compare_cell(c) if c else "not run",
        ))  # fmt: skip
    return [*out, ""]


def _ours_section(ours_rows: list[Row]) -> list[str]:
    return [
        "## Our method: phases, model, result\n",
        "At a size with a target, our method runs with the default options (60 s, gap 0.1%) and "
        "with the target's gap and wall time as its options (the target rows judge this run); "
        "what-if, availability and the hand-drawn baselines use the first of these that ran "
        "(where the default run was not made, the target's).\n",
        "Seconds per phase as `make_plan` reports them; `other` = total minus the four phases "
        "(plan assembly, repair and the verifications `make_plan` runs itself); `verify` = one "
        "independent `verify_plan` call, timed apart. What-if = `sweep(plan, catalog, kind)`, "
        "median of 5 warm calls (first call in brackets). Peak = `ru_maxrss` of the run's process "
        "(or of its largest child).\n",
        md_row(*OURS_COLUMNS),
        "|" + "---|" * len(OURS_COLUMNS),
        *(_ours_line(r) for r in ours_rows),
    ]


def _baselines_section(rows: list[Row]) -> list[str]:
    out = [
        "",
        "## Baselines on the same instances\n",
        "`ours vs` = our cost / baseline cost - 1 (negative: ours is cheaper). Monolithic = one "
        "coupled model, same spec. Hand-drawn plans: `benchmarks/baselines.py`, checked by "
        "`verify_plan` against the same policy.\n",
        md_row(*BASELINE_COLUMNS),
        "|" + "---|" * len(BASELINE_COLUMNS),
    ]
    for fam, n in cases(rows):
        out += _baseline_lines(rows, fam, n)
    out.append("")
    return out


def _timeline_section(ours_rows: list[Row]) -> list[str]:
    timeline = [r for r in ours_rows if r.get("progress")]
    if not timeline:
        return []
    out = ["## Timeline of our method (the planner's progress messages)\n"]
    for r in timeline:
        why = f" ({r['error'][:160]})" if r.get("error") else ""
        what = r.get("example") or f"{family_of(r)}, {r['services']} services"
        out.append(f"{what}, {r['label']}, {r.get('status')}{why}:\n")
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
        for fam, n in cases(rows)
        for r in (default_of(rows, n, fam), at_target_of(rows, n, fam))
        if r is not None
    ]
    # first what docs/benchmarks.md quotes (the run, the instances, the side-by-side table, the
    # examples, the targets, the table in short), then the detail behind it
    out = [run_line(meta), ""] + _machine_section(meta) + _instances_section(rows)
    out += _summary_section(rows) + _examples_section(rows)
    out += [
        "## Targets: met, or how far\n",
        "Each verdict is counted from the cases in the line; a case that misses says by how "
        "much (gap in percentage points and seconds over the target) or what it did instead.\n",
        "| target | measured | verdict |",
        "|---|---|---|",
        *summary(rows),
        "",
    ]
    out += _short_section(rows)
    out += _ours_section(ours_rows) + _baselines_section(rows)
    out += _timeline_section(ours_rows + [r for r in rows if r.get("example")])
    out += [
        "## Targets, case by case\n",
        "| target | measured | verdict |",
        "|---|---|---|",
        *targets(rows),
        "",
    ]
    if profile is not None:
        out += _profile_section(meta, profile)
    return "\n".join(out)
