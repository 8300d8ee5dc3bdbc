"""`mcplan`: the command line. Parses arguments, calls the library, prints; holds no logic.

Exit codes: 0 success, 1 unexpected error, 2 bad input (spec, catalog, arguments, refusing to
overwrite a file), 3 infeasible requirements (explained), 4 no plan within the limits.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, cast

import pandas as pd

from . import __version__
from .errors import InputError, OutputExistsError, PlannerError, Problem

if TYPE_CHECKING:  # for annotations only: the CLI imports the library lazily, inside functions
    from . import Catalog, Plan, PlanOptions
    from .analysis.whatif_price import PriceChange

EXIT_OK, EXIT_UNEXPECTED, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NO_PLAN = 0, 1, 2, 3, 4


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"mcplan: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_INPUT)


def _number(text: str, option: str, example: str, *, whole: bool = False) -> float:
    """`text` as a finite number, or argparse's refusal naming `option` with an example."""
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        kind = "a whole number" if whole else "a number"
        raise argparse.ArgumentTypeError(
            f"{text!r} is not {kind}; write e.g. {option} {example}"
        ) from None
    if value != value or value in (float("inf"), float("-inf")):  # NaN, inf: float() takes both
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a finite number; write e.g. {option} {example}"
        )
    return value


def _seconds(text: str) -> float:
    value = _number(text, "--time-limit", "60")
    if value <= 0:
        raise argparse.ArgumentTypeError(
            f"{text!r}: a time limit is a positive number of seconds; write e.g. --time-limit 60"
        )
    return value


def _gap(text: str) -> float:
    value = _number(text, "--gap", "0.001")
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r}: the gap is a fraction from 0 up to (not including) 1, e.g. 0.001 for "
            "0.1%; write e.g. --gap 0.001"
        )
    return value


def _threads(text: str) -> int:
    value = int(_number(text, "--threads", "1", whole=True))
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r}: the solver needs at least one thread; write e.g. --threads 1 (the default)"
        )
    return value


def _gbps(text: str) -> float:
    value = _number(text, "--bandwidth-gbps", "1")
    if value <= 0:
        raise argparse.ArgumentTypeError(
            f"{text!r}: a bandwidth is a positive number of Gbit/s; write e.g. --bandwidth-gbps 1"
        )
    return value


def _port(text: str) -> int:
    value = int(_number(text, "--port", "8501", whole=True))
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(
            f"{text!r}: a port is a whole number from 1 to 65535; write e.g. --port 8501 "
            "(Streamlit's usual)"
        )
    return value


def _workers(text: str) -> int:
    value = int(_number(text, "--workers", "2", whole=True))
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r}: a study needs at least one worker; write e.g. --workers 2, or leave it "
            "out for one per core"
        )
    return value


def _max_failures(text: str) -> float:
    value = _number(text, "--max-failures", "0.1")
    if value < 0:
        raise argparse.ArgumentTypeError(
            f"{text!r}: a fraction of the tasks below 1 or a count of them, not negative; write "
            "e.g. --max-failures 0.1"
        )
    return value


def _refused(option: str, message: str, fix: str) -> InputError:
    """A command-line mistake as one problem: the option, what is wrong, and what to do."""
    return InputError([Problem("", "", option, message, fix=fix)])


def _catalog(args: argparse.Namespace) -> Catalog:
    from . import load_catalog

    return load_catalog(args.catalog)


def out_file(text: str) -> str | None:
    """An --out argument: `-` is standard output, as for most tools; an empty name (an unset
    shell variable, `--out "$OUT"`) is refused rather than read as "print"."""
    if text == "-":
        return None
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "an empty file name: give one, or leave --out out to print to standard output"
        )
    return text


def check_output(
    out: str | Path, force: bool, protect: Sequence[Path] = (), option: str = "--out"
) -> Path:
    """Why --out cannot be written, before any work is done (a refusal after a minute of
    solving wastes the minute): an input file, an existing file without --force, a folder, a
    missing folder, or a place where no file can be created (read-only, /proc, /sys). `option`
    is how the user named the file (`--out`, or `--to infracost` for an export)."""
    path = Path(out)
    if any(path.resolve() == Path(p).resolve() for p in protect):
        raise OutputExistsError(f"{option} {path} is one of the input files; choose another name")
    if path.is_dir():
        raise OutputExistsError(f"{path} is a folder; give a file name")
    if path.exists() and not force:
        raise OutputExistsError(
            f"{path} exists; refusing to overwrite it (pass --force to replace it)"
        )
    if not path.parent.exists():
        raise OutputExistsError(f"the folder {path.parent} does not exist; create it first")
    try:  # the write goes through a temporary file beside the target: try making one
        fd, probe = tempfile.mkstemp(
            dir=path.parent if str(path.parent) else ".", prefix=".mcplan-"
        )
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputExistsError(
            f"cannot write to the folder {path.parent} ({exc.strerror}); choose another {option}"
        ) from None
    return path


def _emit(text: str, args: argparse.Namespace, protect: Sequence[Path] = ()) -> None:
    """Print, or write to --out without ever overwriting a file unless --force (and never an
    input)."""
    out = getattr(args, "out", None)
    if not out:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    path = check_output(out, args.force, protect)
    # write to a temporary file beside the target, then rename: no half-written file on failure
    fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", prefix=".mcplan-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text if text.endswith("\n") else text + "\n")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    print(f"wrote {path}", file=sys.stderr)


def _format_table(
    df: pd.DataFrame, fmt: str, cents: tuple[str, ...] = (), digits: int | None = None
) -> str:
    """`df` as text, JSON or CSV; in text and CSV the money columns in `cents` to the cent (and
    in text, with `digits`, every other number to that many significant digits)."""
    from .report import table_csv, table_json, table_text

    if fmt == "table":
        return table_text(df, cents, digits)
    return table_csv(df, cents) if fmt == "csv" else table_json(df)


# ------------------------------------------------------------------ catalog
def cmd_catalog(args: argparse.Namespace) -> int:
    from .catalog.select import (
        OFFERING_COLUMNS,
        REGION_COLUMNS,
        CatalogFilter,
        matching_offerings,
        matching_providers,
        matching_regions,
    )

    cat = _catalog(args)
    if args.what == "validate":
        n_reg = len(cat.regions)
        n_off = len(cat.offerings)
        print(
            f"catalog {cat.root.name}: OK — {len(cat.providers)} providers, {n_reg} regions, "
            f"{n_off} offerings (sku x region), {len(cat.incidents)} incidents, "
            f"{len(cat.latency_measured)} measured latency pairs"
        )
        return EXIT_OK
    flt = CatalogFilter(
        *(
            (value,) if value else ()
            for value in (
                getattr(args, "provider", None),
                getattr(args, "jurisdiction", None),
                getattr(args, "region", None),
                getattr(args, "tier", None),
                getattr(args, "category", None),
            )
        )
    )
    flt.check(cat)
    if args.what == "providers":
        df = matching_providers(cat, flt).reset_index()
    elif args.what == "regions":
        df = matching_regions(cat, flt).reset_index()[list(REGION_COLUMNS)]
    else:
        df = matching_offerings(cat, flt).reset_index()
        df["managed_layers"] = df["managed_layers"].map(" ".join)
        df = df[list(OFFERING_COLUMNS)]
    _emit(_format_table(df, args.format), args)
    return EXIT_OK


# ------------------------------------------------------------------ plan
def _progress(args: argparse.Namespace) -> Callable[[str], None] | None:
    if getattr(args, "quiet", False):
        return None
    return lambda msg: print(f"  .. {msg}", file=sys.stderr, flush=True)


def _plan_options(args: argparse.Namespace) -> PlanOptions:
    from . import PlanOptions

    # --time-limit, --gap and --threads were checked while parsing (_seconds, _gap, _threads)
    return PlanOptions(
        method=args.method,
        solver=args.solver,
        time_limit=args.time_limit,
        gap=args.gap,
        threads=args.threads,
        progress=_progress(args),
    )


def _make_plan(args: argparse.Namespace, cat: Catalog | None = None) -> tuple[Catalog, Plan]:
    from . import load_spec, make_plan, plan_with_strategy

    spec = load_spec(args.spec)
    cat = cat if cat is not None else _catalog(args)
    strategy = getattr(args, "strategy", None)
    if strategy and strategy != "optimal":
        return cat, plan_with_strategy(spec, cat, strategy, _plan_options(args))
    return cat, make_plan(spec, cat, _plan_options(args))


def cmd_plan(args: argparse.Namespace) -> int:
    from . import plan_availability, plan_to_csv, plan_to_json, plan_to_text

    cat, plan = _make_plan(args)
    avail = plan_availability(plan, cat)
    if args.format == "json":
        text = plan_to_json(plan, avail)
    elif args.format == "csv":
        text = plan_to_csv(plan)
    else:
        text = plan_to_text(plan, avail)
    _emit(text, args, protect=[Path(args.spec)])
    return EXIT_OK


def cmd_whatif(args: argparse.Namespace) -> int:
    import json

    from . import evaluate_failure, failure_from, plan_to_dict, replan, sweep
    from .report import records, table_text

    # what fails is checked before planning: a mistake there is not worth a solve
    failing = args.sweep or args.fail or args.fail_provider or args.fail_site or args.incident
    if args.price and failing:
        raise _refused(
            "--price",
            "a price change and a failure in one what-if",
            "ask one what-if at a time: once with the failure, once with --price",
        )
    if args.replan and (args.sweep or args.price):
        raise _refused(
            "--replan",
            f"repairs the plan after one failure, and {'--sweep' if args.sweep else '--price'} "
            "names none",
            "drop --replan, or name the failure with --fail, --fail-provider, --fail-site or "
            "--incident",
        )
    if not failing and not args.price:
        raise _refused(
            "--fail",
            "nothing to ask: no failure and no price change",
            "say what fails: --fail REGION, --fail-provider P, --fail-site S, --incident ID "
            "(see `mcplan catalog regions` and catalogs/incidents.csv), or use --sweep; or "
            "what costs change: --price provider=naver:+20%",
        )
    if args.price:
        return _price_whatif(args)
    cat = _catalog(args)
    failure = (
        None
        if args.sweep
        else failure_from(
            cat, args.fail or (), args.fail_provider or (), args.fail_site or (), args.incident
        )
    )
    cat, plan = _make_plan(args, cat)
    if failure is None:
        table = sweep(plan, cat, args.sweep)
        _emit(_format_table(table, args.format), args, protect=[Path(args.spec)])
        return EXIT_OK
    impact = evaluate_failure(plan, cat, failure)
    fixed = (
        replan(plan, cat, failure, _plan_options(args), args.bandwidth_gbps)
        if args.replan
        else None
    )
    if args.format == "json":
        out = {
            "failure": impact.summary,
            "services": records(impact.services),
            "users": records(impact.users),
            "dependencies": records(impact.dependencies),
        }
        if fixed is not None:
            out["replan"] = {
                "cost_before_usd_per_month": fixed.cost_before,
                "cost_after_usd_per_month": None if fixed.plan is None else fixed.cost_after,
                "migration": records(fixed.migration),
                "note": fixed.policy_note,
                "plan": None if fixed.plan is None else plan_to_dict(fixed.plan),
            }
        text = json.dumps(out, indent=2, ensure_ascii=False, default=str)
    elif args.format == "csv":
        text = _format_table(impact.services, "csv")
    else:
        sm = impact.summary
        lines = [
            f"What if {sm['failure']} fails? ({sm['scope']})",
            f"Regions of the plan that go down: {', '.join(sm['regions_down']) or 'none'}",
            f"Services down: {sm['services_down']}, recovering: {sm['services_recovering']}, "
            f"degraded: {sm['services_degraded']} -> "
            f"{'the plan survives' if sm['survived'] else 'NOT survived'}",
            "",
            table_text(
                impact.services[
                    [
                        "service",
                        "status",
                        "reason",
                        "strategy",
                        "capacity_before",
                        "capacity_after",
                        "resource",
                        "rto_minutes",
                        "rpo_minutes",
                        "note",
                    ]
                ]
            ),
        ]
        if len(impact.users):
            lines += ["", "Users:", table_text(impact.users, digits=6)]
        if len(impact.dependencies):
            lines += ["", "Dependency latency:", table_text(impact.dependencies, digits=6)]
        lines.append(
            "Failover egress, change from normal operation: "
            f"{sm['failover_egress_usd_per_month']:+,.2f} USD/month"
        )
        lines += [f"Note: {n}" for n in sm["notes"]]
        if fixed is not None and fixed.plan is None:
            lines += ["", f"Repair: {fixed.policy_note}"]
        elif fixed is not None:
            repaired = cast("Plan", fixed.plan)  # not None: the branch above took that case
            lines += [
                "",
                f"Repaired plan: ${fixed.cost_after:,.2f}/month (was ${fixed.cost_before:,.2f}, "
                f"{fixed.cost_delta:+,.2f}); regions {', '.join(repaired.regions())}",
            ]
            if fixed.policy_note:
                lines.append(f"Note: {fixed.policy_note}")
            if len(fixed.migration):
                mig = fixed.migration.assign(
                    usd=fixed.migration["usd"].round(2), hours=fixed.migration["hours"].round(2)
                )
                lines += [f"Migration at {args.bandwidth_gbps:g} Gbit/s:", table_text(mig)]
            else:
                lines.append("Migration: nothing to move")
        text = "\n".join(lines)
    _emit(text, args, protect=[Path(args.spec)])
    return EXIT_OK


def _price_whatif(args: argparse.Namespace) -> int:
    """Plan on today's prices and on the changed ones; show what moves and what it costs."""
    import json

    from .analysis.whatif_price import plan_changes, repriced
    from .report import plan_to_dict, records, table_text

    cat = _catalog(args)
    changes = [_price_change(text, cat) for text in args.price]  # checked before solving
    cat, before = _make_plan(args, cat)
    _, after = _make_plan(args, repriced(cat, changes))
    moved = plan_changes(before, after)
    if args.format == "json":
        out = {
            "price_changes": [c.text for c in changes],
            "cost_before_usd_per_month": before.cost["total"],
            "cost_after_usd_per_month": after.cost["total"],
            "services": records(moved),
            "plan_after": plan_to_dict(after),
        }
        text = json.dumps(out, indent=2, ensure_ascii=False, default=str)
    elif args.format == "csv":
        text = _format_table(moved, "csv", cents=("usd_before", "usd_after"))
    else:
        n = int(moved["moved"].sum())
        lines = [
            "What if " + "; ".join(c.describe() for c in changes) + "?",
            f"Plan cost: ${before.cost['total']:,.2f} -> ${after.cost['total']:,.2f}/month "
            f"({after.cost['total'] - before.cost['total']:+,.2f})",
            f"{n} of {len(moved)} services move" if n else "No service moves: the plan holds",
            "",
            table_text(moved.round({"usd_before": 2, "usd_after": 2})),
        ]
        text = "\n".join(lines)
    _emit(text, args, protect=[Path(args.spec)])
    return EXIT_OK


def _strategy_names(text: str, option: str) -> list[str]:
    """The comma-separated strategy names of `option`, each one known; checked before any file
    is read."""
    from . import STRATEGIES
    from .errors import did_you_mean

    names = [n.strip() for n in text.split(",")]
    unknown = [n for n in names if n not in STRATEGIES]
    if unknown:
        raise InputError(
            [
                Problem(
                    "",
                    "",
                    option,
                    f"unknown strategy `{n}`",
                    fix=f"{did_you_mean(n, STRATEGIES)} (`mcplan compare --help`)",
                )
                for n in unknown
            ]
        )  # one problem per unknown name, all at once
    return names


_PRICE_FIX = (
    "write KIND=NAME:CHANGE, e.g. --price provider=naver:+20% or --price region=aws/"
    "ap-northeast-2:-10% (a price falls by at most 100%, i.e. -100%)"
)


def _price_change(text: str, cat: Catalog) -> PriceChange:
    """One --price argument, parsed; a refusal that says only what is wrong gets the way to
    write it."""
    from .analysis.whatif_price import parse_price_change

    try:
        return parse_price_change(text, cat)
    except InputError as exc:
        raise InputError(
            [p if p.fix else replace(p, fix=_PRICE_FIX) for p in exc.problems]
        ) from None


def cmd_compare(args: argparse.Namespace) -> int:
    from . import compare, load_spec

    names = _strategy_names(args.strategies, "--strategies") if args.strategies else None
    spec = load_spec(args.spec)
    cat = _catalog(args)
    if args.format == "infracost-diff":  # BASE,HEAD in Infracost's diff shape (docs/interop.md)
        import json

        from .interop.infracost import strategy_diff

        diff = strategy_diff(spec, cat, _plan_options(args), names or [])
        _emit(json.dumps(diff, indent=2, ensure_ascii=False), args, protect=[Path(args.spec)])
        return EXIT_OK
    table = compare(spec, cat, _plan_options(args), names)
    # numbers as docs/json.md writes them: money to the cent, the rest to 6 significant digits
    text = _format_table(table, args.format, cents=("usd_per_month",), digits=6)
    if args.format == "table":
        text += "\n\n" + "\n".join(_COMPARE_LEGEND)
    _emit(text, args, protect=[Path(args.spec)])
    return EXIT_OK


# What each column of `mcplan compare` means, printed under its text table: a cell that is a
# number without its meaning, or an n/a without its reason, explains nothing.
_COMPARE_LEGEND = (
    "usd_per_month: the plan's monthly cost; gap: how far it may be from the cheapest plan "
    "(0: proven cheapest).",
    "availability_pct, downtime_minutes_per_year: estimated from SLAs and the catalog's outage "
    "assumptions (a model, not a provider promise).",
    "worst_latency_ms: the slowest round trip from a user group to the nearest region running a "
    "user-facing service (0 when the spec has no users).",
    "rto_minutes, rpo_minutes: recovery time and data loss of the slowest DR strategy in the "
    "plan; n/a when the plan survives no failure, so no recovery applies.",
    "survives_single_region_failures: single-region outages the plan survives / outages tried.",
    "A row of n/a is a strategy with no plan: its status says why and what to relax.",
)


def cmd_examples(args: argparse.Namespace) -> int:
    from .examples import bundled_examples

    table = pd.DataFrame(
        [{"name": e.name, "shows": e.summary, "file": str(e.path)} for e in bundled_examples()],
        columns=["name", "shows", "file"],
    )
    _emit(_format_table(table, args.format), args)
    if args.format == "table":
        print(
            "plan one from any folder by its name, e.g. `mcplan plan kr-ecommerce`", file=sys.stderr
        )
    return EXIT_OK


def cmd_frontier(args: argparse.Namespace) -> int:
    from . import frontier, load_spec

    spec = load_spec(args.spec)
    table = frontier(spec, _catalog(args), args.x, _plan_options(args))
    text = _format_table(table, args.format, cents=("usd_per_month",), digits=6)
    _emit(text, args, protect=[Path(args.spec)])
    return EXIT_OK


def cmd_study(args: argparse.Namespace) -> int:
    from .study import run_study  # imported here: plain CLI use never loads Dask

    res = run_study(
        args.study_file,
        catalog_dir=args.catalog,
        executor=args.executor,
        scheduler=args.scheduler,
        out=args.out,
        force=args.force,
        workers=args.workers,
        max_failures=args.max_failures,
    )
    print(_format_table(res.summary, "table"))
    print(
        f"{res.executed} task(s) run, {res.skipped} resumed from earlier output, "
        f"{res.failed} failed, {res.seconds:.1f} s",
        file=sys.stderr,
    )
    files = res.files.values() if isinstance(res.files, dict) else res.files
    for f in files:
        print(f"wrote {f}", file=sys.stderr)
    return EXIT_OK


def cmd_dashboard(args: argparse.Namespace) -> int:
    import signal
    import subprocess

    # --port was checked while parsing (_port)
    if not args.address.strip():
        raise _refused("--address", "is empty", "use 127.0.0.1 (this machine) or 0.0.0.0 (all)")
    app = Path(__file__).resolve().parent.parent / "dashboards" / "app.py"
    if not app.exists():
        app = Path(__file__).resolve().parent / "data" / "dashboards" / "app.py"
    if not app.exists():
        raise _refused(
            "dashboard",
            "the dashboard files are not installed",
            "run from a checkout, or reinstall the package",
        )
    # the settings of .streamlit/config.toml, passed explicitly so they hold from any folder
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.port",
        str(args.port),
        "--server.address",
        args.address,
        "--browser.gatherUsageStats",
        "false",
        "--server.maxUploadSize",
        "1",
        "--client.showErrorDetails",
        "false",
    ]

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # Ctrl-C, a kill of this process or its terminal closing (SIGHUP) stops the server it
    # started, instead of leaving it serving; the handlers come first, so a signal that arrives
    # while the server starts cannot leave it behind
    stopping = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {sig: signal.signal(sig, stop) for sig in stopping}
    server: subprocess.Popen[bytes] | None = None
    try:
        server = subprocess.Popen(cmd)
        return server.wait()
    except KeyboardInterrupt:
        for sig in stopping:  # a second Ctrl-C must not cut the shutdown short
            signal.signal(sig, signal.SIG_IGN)
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# ------------------------------------------------------------------ wiring
def _add_common(
    p: argparse.ArgumentParser,
    out: bool = True,
    formats: tuple[str, ...] = ("table", "json", "csv"),
) -> None:
    p.add_argument(
        "--catalog", metavar="DIR", help="catalog folder (default: the embedded catalog)"
    )
    p.add_argument("--format", choices=formats, default="table")
    if out:
        p.add_argument(
            "--out",
            metavar="FILE",
            type=out_file,
            help="write to FILE instead of standard output (`-`: standard output)",
        )
        p.add_argument(
            "--force", action="store_true", help="allow --out to replace an existing file"
        )


def _add_solver(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--method",
        choices=("decomposed", "monolithic"),
        default="decomposed",
        help="decomposed (default): per-service bounds, then coordination; "
        "monolithic: one coupled model",
    )
    p.add_argument("--solver", choices=("highs", "cbc"), default="highs")
    p.add_argument(
        "--time-limit", type=_seconds, default=60.0, metavar="S", help="seconds (default 60)"
    )
    p.add_argument(
        "--gap",
        type=_gap,
        default=0.001,
        help="relative optimality gap to stop at (default 0.001)",
    )
    p.add_argument("--threads", type=_threads, default=1)
    p.add_argument("--quiet", action="store_true", help="no progress messages on standard error")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mcplan", description="Plan survivable, lowest-cost placements across clouds."
    )
    parser.add_argument("--version", action="version", version=f"mcplan {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show a traceback on unexpected errors"
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("catalog", help="explore or validate the catalog")
    p.add_argument("what", choices=("providers", "regions", "offerings", "validate"))
    _add_common(p)
    for f in ("provider", "tier", "category", "jurisdiction", "region"):
        p.add_argument(f"--{f}", help=f"keep rows of this {f}")
    p.set_defaults(func=cmd_catalog)

    p = sub.add_parser("plan", help="the cheapest plan that survives the spec's failure policy")
    p.add_argument("spec", help="application spec (YAML)")
    _add_common(p)
    _add_solver(p)
    p.set_defaults(func=cmd_plan)

    p.add_argument("--strategy", default="optimal", help="a named strategy (see `mcplan compare`)")

    p = sub.add_parser("whatif", help="what a failure does to the plan, and the repaired plan")
    p.add_argument("spec")
    p.add_argument(
        "--fail",
        action="append",
        metavar="REGION",
        help="a region id, e.g. aws/us-east-1 (repeatable)",
    )
    p.add_argument(
        "--fail-provider", action="append", metavar="P", help="a whole provider (repeatable)"
    )
    p.add_argument(
        "--fail-site", action="append", metavar="S", help="a site / data centre (repeatable)"
    )
    p.add_argument(
        "--incident", metavar="ID", help="replay a real outage from catalogs/incidents.csv"
    )
    p.add_argument(
        "--replan", action="store_true", help="repair the plan without the failed domains"
    )
    p.add_argument(
        "--bandwidth-gbps", type=_gbps, default=1.0, help="for migration time (default 1)"
    )
    p.add_argument(
        "--sweep",
        choices=("region", "provider", "zone", "site"),
        help="evaluate every single failure of this kind instead",
    )
    p.add_argument(
        "--price",
        action="append",
        metavar="KIND=NAME:CHANGE",
        help="re-plan with changed prices: provider=naver:+20%%, region=aws/ap-northeast-2:-10%%, "
        "category=storage.object:x1.5, offering=ID:+5%%, or private.utilization=0.3 (repeatable)",
    )
    p.add_argument("--strategy", default="optimal")
    _add_common(p)
    _add_solver(p)
    p.set_defaults(func=cmd_whatif)

    p = sub.add_parser("compare", help="plan the app under each named strategy, side by side")
    p.add_argument("spec")
    p.add_argument(
        "--strategies",
        help="comma-separated subset (default: all); BASE,HEAD with --format infracost-diff",
    )
    _add_common(p, formats=("table", "json", "csv", "infracost-diff"))
    _add_solver(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("frontier", help="Pareto frontier of cost against availability or latency")
    p.add_argument("spec")
    p.add_argument("--x", choices=("availability", "latency"), default="availability")
    p.add_argument("--y", choices=("cost",), default="cost")
    _add_common(p)
    _add_solver(p)
    p.set_defaults(func=cmd_frontier)

    p = sub.add_parser(
        "study", help="run a study: apps x strategies x failure scenarios (serial, processes, Dask)"
    )
    p.add_argument("study_file", type=Path)
    p.add_argument(
        "--out", type=Path, default=None, help="output stem (default: <study dir>/<name>)"
    )
    executors = ["processes", "serial", "dask"]
    p.add_argument(
        "--executor",
        choices=executors,
        default="processes",
        help="what runs the tasks: worker processes (default), this process, or Dask",
    )
    # the former name of --executor ("backend" means a solver everywhere else)
    p.add_argument("--backend", dest="executor", choices=executors, help=argparse.SUPPRESS)
    p.add_argument(
        "--scheduler", default=None, help='Dask scheduler address or "local-cluster" (implies dask)'
    )
    p.add_argument("--workers", type=_workers, default=None)
    p.add_argument(
        "--max-failures",
        type=_max_failures,
        default=None,
        help="stop after this many failed tasks: a fraction of them below 1, or a count "
        "(default 0.1)",
    )
    p.add_argument("--force", action="store_true", help="replace existing output files")
    p.add_argument("--catalog", type=Path, default=None)
    p.set_defaults(func=cmd_study)

    p = sub.add_parser("examples", help="list the bundled example specs (plan one by its name)")
    p.add_argument("--format", choices=["table", "json", "csv"], default="table")
    p.set_defaults(func=cmd_examples)

    p = sub.add_parser("dashboard", help="start the Streamlit dashboard")
    p.add_argument("--port", type=_port, default=8501)
    p.add_argument("--address", default="127.0.0.1")
    p.set_defaults(func=cmd_dashboard)

    from .interop.commands import add_commands

    add_commands(sub, _add_common)  # mcplan import / export
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if getattr(args, "spec", None):
            from .examples import resolve_spec

            args.spec = resolve_spec(args.spec)  # a bundled example's name works from anywhere
        if getattr(args, "study_file", None):
            from .examples import resolve_study

            given = args.study_file
            args.study_file = resolve_study(given)
            if args.study_file != given and args.out is None:
                # a bundled study writes beside the user, never into the installed package
                args.out = Path.cwd() / args.study_file.stem
        if getattr(args, "strategy", None) and args.strategy != "optimal":
            _strategy_names(args.strategy, "--strategy")
        if getattr(args, "out", None) and args.func is not cmd_study:
            check_output(args.out, args.force, [args.spec] if getattr(args, "spec", None) else [])
        return int(args.func(args))
    except PlannerError as exc:
        print(f"mcplan: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("mcplan: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except MemoryError:
        print("mcplan: out of memory; try a smaller spec or a pruned catalog", file=sys.stderr)
        return EXIT_UNEXPECTED
    except Exception as exc:  # the last line of defence: never a traceback for the user
        if args.debug:
            raise
        print(
            f"mcplan: unexpected error ({type(exc).__name__}: {exc}). This is a bug in mcplan; "
            "rerun with --debug for details and report it.",
            file=sys.stderr,
        )
        return EXIT_UNEXPECTED


if __name__ == "__main__":
    raise SystemExit(main())
