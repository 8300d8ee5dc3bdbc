"""Run benchmark configurations, each in a fresh Python process, and write a markdown report.

The command line of `python -m benchmarks` (see `--help` and docs/benchmarks.md). It takes a
preset's options as its defaults (`presets`), lists the configurations (`run.plan_runs`) with
their expected duration (`schedule`), runs each in its own process (`isolate`), optionally profiles
one size (`profiling`), records what the run was measured on (`provenance`) and renders the
report (`report`, with the verdicts of `targets`). `--child` is how `isolate` starts a child.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from .fmt import money, num, pct
from .generate import FAMILIES
from .isolate import kill_after, run_in_subprocess
from .presets import PRESETS, PURPOSE
from .profiling import profile_default
from .provenance import machine, planner_state
from .report import render
from .run import Config, RunPlan, child_main, plan_runs
from .schedule import run_list, total

# --help shows this line, as it did when this module held the whole runner
DESCRIPTION = (
    "Run benchmark configurations, each in a fresh Python process, and write a markdown report."
)
DEFAULT_PRESET = "issue19"  # the run docs/benchmarks.md reports


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=DESCRIPTION,
        # the defaults shown are issue19's (the default preset's)
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        epilog="Presets (an option given as well wins): "
        + "; ".join(f"{k}: {v}" for k, v in PURPOSE.items())
        + ". Without a preset the defaults are issue19's.",
    )
    ap.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default=None,
        help="a named run: its options become the defaults (see below)",
    )
    ap.add_argument("--quick", action="store_true", help="the same as --preset quick")
    ap.add_argument(
        "--list",
        action="store_true",
        help="print the configurations and how long they are expected to take, and stop",
    )
    ap.add_argument("--families", help=f"instance families ({','.join(FAMILIES)})")
    ap.add_argument("--sizes", help="service counts, e.g. 50,200,1000")
    ap.add_argument(
        "--families-at",
        action="append",
        metavar="SIZE=FAM,FAM",
        help="measure only these families at that size (repeatable; None: the preset's, which "
        "for issue19 is 1000=region,mix)",
    )
    ap.add_argument(
        "--default-sizes",
        help="sizes at which our method also runs with the default options: all, none or a "
        "list (at the others the target's run carries the analyses and hand-drawn baselines)",
    )
    ap.add_argument("--mono-sizes", help="sizes at which the monolithic baselines run (or none)")
    ap.add_argument(
        "--mono-families", help="families on which the monolithic baselines run (all: every one)"
    )
    ap.add_argument(
        "--examples",
        help="bundled examples to plan (default options) and compare: all, none, or NAME,NAME",
    )
    ap.add_argument(
        "--compare-budget",
        type=float,
        help="seconds after which a compare of an example is stopped",
    )
    ap.add_argument("--time-limit", type=float, help="monolithic baselines' limit, s")
    ap.add_argument(
        "--our-time-limit", type=float, help="our method's limit, s (None: PlanOptions')"
    )
    ap.add_argument("--catalog", help="shipped or synthetic:REGIONS[:SEED]")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-cbc", action="store_true", help="skip the CBC monolithic baseline")
    ap.add_argument(
        "--profile",
        type=int,
        default=None,
        metavar="N",
        help="also cProfile the default method at N services",
    )
    ap.add_argument(
        "--render",
        metavar="JSON",
        default=None,
        help="no run: write the report of an earlier run from its --json file",
    )
    ap.add_argument("--out", default=None, help="write the markdown report here (default: stdout)")
    ap.add_argument("--json", default=None, help="also write the raw rows as JSON")
    ap.add_argument("--force", action="store_true", help="overwrite --out / --json files")
    ap.set_defaults(**_preset_defaults(DEFAULT_PRESET))
    return ap


def _preset_defaults(name: str) -> dict[str, Any]:
    # --families-at appends: a preset's list as its default would be added to, not replaced
    return {k: v for k, v in PRESETS[name].items() if k != "families_at"}


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The options, with the preset's values (issue19's without one) as the defaults of what
    was not given."""
    ap = _parser()
    args = ap.parse_args(argv)
    preset = "quick" if args.quick else (args.preset or DEFAULT_PRESET)
    ap.set_defaults(**_preset_defaults(preset))
    args = ap.parse_args(argv)
    args.preset = preset
    if args.families_at is None:
        args.families_at = list(PRESETS[preset]["families_at"])
    return args


def _ints(text: str) -> list[int]:
    """Sizes from a comma list, or `none`."""
    return [] if text == "none" else [int(x) for x in text.split(",") if x.strip()]


def _sizes_or_all(text: str) -> list[int] | None:
    """Sizes from `all` (None: every size), `none` (no size) or a comma list."""
    return None if text == "all" else _ints(text)


def _names(text: str, known: list[str], what: str) -> list[str]:
    names = [x.strip() for x in text.split(",") if x.strip()]
    unknown = [x for x in names if x not in known]
    if unknown:
        raise SystemExit(f"unknown {what}: {', '.join(unknown)}; use {', '.join(known)}")
    return names


def _families_at(items: list[str]) -> dict[int, list[str]]:
    out = {}
    for item in items:
        size, _, fams = item.partition("=")
        out[int(size)] = _names(fams, list(FAMILIES), "family")
    return out


def _examples(text: str) -> list[str]:
    from planner.examples import bundled_examples

    known = [e.name for e in bundled_examples()]
    if text == "all":
        return known
    if text == "none":
        return []
    return _names(text, known, "example")


def _runs(args: argparse.Namespace) -> tuple[list[Config], str]:
    """The configurations the arguments ask for, and the catalog they run on."""
    families = _names(args.families, list(FAMILIES), "family")
    mono_families = (
        None
        if args.mono_families in (None, "all")
        else _names(args.mono_families, list(FAMILIES), "family")
    )
    rp = RunPlan(
        families,
        _ints(args.sizes),
        _ints(args.mono_sizes),
        args.catalog,
        seed=args.seed,
        mono_limit=args.time_limit,
        our_limit=args.our_time_limit,
        cbc=not args.no_cbc,
        families_at=_families_at(args.families_at),
        mono_families=mono_families,
        # the examples run on the shipped catalog whatever the instances' catalog is
        examples=_examples(args.examples),
        compare_budget_s=args.compare_budget,
        default_sizes=_sizes_or_all(args.default_sizes),
    )
    return plan_runs(rp), args.catalog


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _run_one(config: Config) -> dict[str, Any]:
    row = run_in_subprocess(config, timeout=kill_after(config))
    if config.extras and "baselines" not in row:
        # our run died before the hand-drawn baselines: compute them (and the analyses) apart
        _say("    hand-drawn baselines in a separate process ...")
        hand = run_in_subprocess(
            Config(config.catalog, config.services, config.seed, "hand", family=config.family),
            timeout=900,
        )
        for key, value in hand.items():
            if key in ("baselines", "instance", "private_site_vcpu", "regions") or key.startswith(
                ("whatif", "availability", "analysed")
            ):
                row[key] = value
    return row


def _run_all(runs: list[Config]) -> list[dict[str, Any]]:
    rows = []
    for k, config in enumerate(runs):
        what = config.example or f"{config.family}, {config.services} services"
        _say(f"[{k + 1}/{len(runs)}] {time.strftime('%H:%M:%S')} {what}, {config.label()} ...")
        row = _run_one(config)
        rows.append(row)
        _say(
            f"    {row.get('status')} cost {money(row.get('cost'))} gap {pct(row.get('gap'))} "
            f"in {num(row.get('wall_s'))} s (load {os.getloadavg()[0]:.2f})"
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--child"]:
        return child_main(argv[1], argv[2])
    args = parse_args(argv)
    runs, catalog = _runs(args)
    if args.list:
        print(run_list(runs))
        return 0
    for path in (args.out, args.json):
        if path and Path(path).exists() and not args.force:
            print(f"{path} exists; pass --force to overwrite it", file=sys.stderr)
            return 2
    if args.render:
        saved = json.loads(Path(args.render).read_text())
        profile = saved["meta"].get("profile")
        _write(args, render(saved["rows"], saved["meta"], tuple(profile) if profile else None))
        return 0
    plan = total(runs)
    _say(
        f"{len(runs)} configurations ({args.preset} preset and options): expected "
        f"{plan.expected_s / 60:.1f} min, at most {plan.at_most_s / 60:.1f} min"
    )
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    state = planner_state()
    t0 = time.perf_counter()
    load0 = os.getloadavg()[0]
    rows = _run_all(runs)
    prof = None
    if args.profile:
        _say(f"profiling the default method at {args.profile} services ...")
        prof = profile_default(args.profile, catalog, args.seed)
    end_state = planner_state()
    if end_state != state:
        state += f"; **changed during the run** to {end_state}"
    first = next((r for r in rows if "regions" in r), {})
    meta = {
        "machine": machine(),
        "load": (load0, os.getloadavg()[0]),
        "catalog": catalog,
        "regions": first.get("regions", "?"),
        "seed": args.seed,
        "started": started,
        "elapsed_s": time.perf_counter() - t0,
        "command": "python -m benchmarks " + " ".join(argv),
        "preset": args.preset,
        "expected_s": plan.expected_s,
        "at_most_s": plan.at_most_s,
        "profile_size": args.profile,
        "planner": state,
        "load_samples": [r.get("load_avg_start") for r in rows if r.get("load_avg_start")],
        "profile": prof,
    }
    if args.json:
        Path(args.json).write_text(json.dumps({"meta": meta, "rows": rows}, indent=1, default=str))
    _write(args, render(rows, meta, prof))
    return 0


def _write(args: argparse.Namespace, text: str) -> None:
    if args.out:
        Path(args.out).write_text(text + "\n")
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        print(text)


if __name__ == "__main__":
    sys.exit(main())
