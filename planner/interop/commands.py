"""The `mcplan import` and `mcplan export` sub-commands, registered by planner.cli.

Kept here so the interop formats live beside their command-line wiring and cli.py only calls
:func:`add_commands`. The commands parse arguments, call the pure functions of this package and
write through the CLI's safe output path; they hold no format logic.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InputError, OutputExistsError
from .defaults import DEFAULT_BUCKET_GB, DEFAULT_MAX_LATENCY_MS

if TYPE_CHECKING:  # the formats load on use: `mcplan plan` does not pay for them
    from .imported import ImportResult

EXPORT_TARGETS = ("terraform", "karmada", "infracost")


# the spec's own limits (planner/spec/model.py): an option past them is refused by its name,
# not later as a field of "the imported spec"
MAX_LATENCY_MS = 2000.0
MAX_GB = 1e9


def _positive_up_to(limit: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not 0 < value <= limit:
            raise argparse.ArgumentTypeError(
                f"must be a positive number of at most {limit:,.0f} (got {text})"
            )
        return value

    return parse


def _add_output(p: argparse.ArgumentParser) -> None:
    from ..cli import out_file  # loaded by now: the CLI is building its parser

    p.add_argument(
        "--catalog", metavar="DIR", help="catalog folder (default: the embedded catalog)"
    )
    p.add_argument(
        "--out",
        metavar="FILE",
        type=out_file,
        help="write the spec to FILE instead of standard output (`-`: standard output)",
    )
    p.add_argument("--force", action="store_true", help="allow --out to replace an existing file")
    p.add_argument("--app", help="the spec's `app` name (default: the source's file name)")
    p.add_argument(
        "--max-latency-ms",
        type=_positive_up_to(MAX_LATENCY_MS),
        default=DEFAULT_MAX_LATENCY_MS,
        metavar="MS",
        help=f"budget of the user groups placed at the source regions (default "
        f"{DEFAULT_MAX_LATENCY_MS:g})",
    )


def add_commands(
    sub: argparse._SubParsersAction,  # type: ignore[type-arg]
    add_common: Callable[..., None],
) -> None:
    """Register the interop sub-commands on the CLI's sub-parser set. (`add_common` is the CLI's
    option set; these commands take their own, as --format has no meaning for them.)"""
    p = sub.add_parser(
        "import", help="write a spec from a Terraform plan's JSON or Kubernetes manifests"
    )
    kinds = p.add_subparsers(dest="source_kind", required=True, metavar="{terraform,kubernetes}")
    t = kinds.add_parser(
        "terraform",
        help="from `terraform show -json PLANFILE` (or `tofu show -json`)",
        description="Write a spec from the JSON of a saved Terraform or OpenTofu plan.",
    )
    t.add_argument("source", metavar="PLAN.json", help="output of `terraform show -json PLANFILE`")
    _add_output(t)
    t.add_argument(
        "--bucket-gb",
        type=_positive_up_to(MAX_GB),
        default=DEFAULT_BUCKET_GB,
        metavar="GB",
        help=f"storage to assume per bucket, which a plan does not state (default "
        f"{DEFAULT_BUCKET_GB:g})",
    )
    t.set_defaults(func=cmd_import_terraform)
    k = kinds.add_parser(
        "kubernetes",
        help="from manifests: Deployments, StatefulSets, Services, PersistentVolumeClaims",
        description="Write a spec from Kubernetes manifests (a YAML file or a folder of them).",
    )
    k.add_argument("source", metavar="DIR_OR_FILE", help="a manifest file or a folder of them")
    _add_output(k)
    k.add_argument(
        "--region",
        metavar="REGION",
        help="where the cluster runs today, e.g. aws/ap-northeast-2: places the users there",
    )
    k.set_defaults(func=cmd_import_kubernetes)

    e = sub.add_parser(
        "export",
        help="write a plan as Terraform, Karmada policies or Infracost JSON",
        usage="mcplan export PLAN.json --to {terraform DIR | karmada DIR | infracost [FILE]} "
        "[--force] [--namespace NS]",
        description="Write a plan (from `mcplan plan SPEC --format json --out plan.json`) as "
        "Terraform (a folder per provider), Karmada PropagationPolicies (a folder) or an "
        "Infracost breakdown (a file, or standard output).",
    )
    e.add_argument("plan", metavar="PLAN.json", help="a plan written with --format json")
    # `--to FORMAT [DEST]` as one option: argparse cannot take a positional after an option once
    # the plan's positional is read, and the brief's order is `export PLAN --to terraform DIR`
    e.add_argument(
        "--to",
        required=True,
        nargs="+",
        metavar="FORMAT",
        help="terraform DIR | karmada DIR | infracost [FILE] (standard output without FILE)",
    )
    e.add_argument("--force", action="store_true", help="allow replacing files already there")
    e.add_argument(
        "--namespace", default="default", help="namespace of the Karmada policies (default)"
    )
    e.set_defaults(func=cmd_export)


def bundled(argument: str) -> Path:
    """The path itself when it exists; else, for `examples/interop/...` given outside a clone,
    the bundled sample of that name (the README's lines run from any folder)."""
    from ..examples import examples_dir

    path = Path(argument)
    if path.exists() or path.parts[:2] != ("examples", "interop"):
        return path
    candidate = examples_dir() / Path(*path.parts[1:])
    return candidate if candidate.exists() else path


# ------------------------------------------------------------------ import
def _catalog(args: argparse.Namespace) -> Any:
    from ..catalog import load_catalog

    return load_catalog(args.catalog)


def _run_import(
    args: argparse.Namespace,
    read: Callable[[Path], Any],
    convert: Callable[..., ImportResult],
    **options: Any,
) -> int:
    """Read the source, convert it with the options every import takes (its name, the app, the
    users' budget) and the importer's own, check the spec as `mcplan plan` would, say what was
    skipped, and write it."""
    from ..cli import _emit
    from ..spec import check_against_catalog, spec_from_text

    args.source = bundled(args.source)
    source = read(Path(args.source))
    catalog = _catalog(args)
    result = convert(
        source,
        catalog.regions,
        source=Path(args.source).name,
        app=_app_name(args),
        max_latency_ms=args.max_latency_ms,
        **options,
    )
    text = result.text()
    # never hand over a spec that would not load: the same checks as `mcplan plan`
    check_against_catalog(spec_from_text(text, "the imported spec"), catalog)
    print(
        f"mcplan: mapped {len(result.mapped)} resource(s) to {len(result.spec['services'])} "
        f"service(s); skipped {len(result.skipped)}",
        file=sys.stderr,
    )
    for s in result.skipped:
        print(f"  skipped {s.address}: {s.reason}", file=sys.stderr)
    for n in result.notes:
        print(f"  assumed: {n}", file=sys.stderr)
    _emit(text, args, protect=[Path(args.source)])
    return 0


def _app_name(args: argparse.Namespace) -> str:
    if args.app:
        return str(args.app)[:80]
    stem = Path(args.source).name.split(".")[0] or "imported"
    return stem[:80]


def cmd_import_terraform(args: argparse.Namespace) -> int:
    from .planjson import read_json
    from .terraform_in import import_terraform

    how = "write it with `terraform show -json PLANFILE > plan.json` (or `tofu show -json`)"
    return _run_import(
        args, lambda path: read_json(path, how), import_terraform, bucket_gb=args.bucket_gb
    )


def cmd_import_kubernetes(args: argparse.Namespace) -> int:
    from .kubernetes_in import import_kubernetes, read_manifests

    return _run_import(args, read_manifests, import_kubernetes, region=args.region)


# ------------------------------------------------------------------ export
def _export_target(values: list[str]) -> tuple[str, str | None]:
    """(format, destination or None) from `--to FORMAT [DEST]`."""
    from ..errors import did_you_mean

    kind = values[0]
    if kind == "infracost-diff":
        raise InputError(
            "--to `infracost-diff` is not an export format: a diff compares two strategies, "
            "so it comes from `mcplan compare SPEC --strategies BASE,HEAD --format infracost-diff`"
            "; `--to infracost` writes one plan's bill"
        )
    if kind not in EXPORT_TARGETS:
        raise InputError(f"--to `{kind}` is not a format: {did_you_mean(kind, EXPORT_TARGETS)}")
    if len(values) > 2:
        raise InputError(
            f"--to {kind} takes one destination, got {len(values) - 1} "
            f"({' '.join(values[1:])}); put the plan first: "
            f"`mcplan export PLAN.json --to {kind} DEST`"
        )
    if len(values) < 2 or values[1] == "-":  # `-`: standard output, as for --out
        return kind, None
    if not values[1].strip():
        what = "a file, or none to print" if kind == "infracost" else "a folder"
        raise InputError(f"--to {kind} is given an empty name: give {what}")
    return kind, values[1]


def write_files(folder: Path, files: dict[str, str], force: bool, protect: list[Path]) -> None:
    """Write {relative path: text} under `folder`, creating it (its parent must exist). Refuses,
    before writing anything, to replace an existing file without `force`, to write over an input,
    or to leave the folder."""
    if folder.exists() and not folder.is_dir():
        raise OutputExistsError(f"{folder} is a file; give a folder name")
    if not folder.exists() and not folder.parent.exists():
        raise OutputExistsError(f"the folder {folder.parent} does not exist; create it first")
    root = folder.resolve()
    targets = {rel: (folder / rel) for rel in files}
    for rel, path in targets.items():
        if root not in path.resolve().parents:
            raise InputError(f"refusing to write {rel} outside {folder}")
        if any(path.resolve() == p.resolve() for p in protect):
            raise OutputExistsError(f"{path} is an input file; choose another folder")
    existing = sorted(str(p) for p in targets.values() if p.exists())
    if existing and not force:
        shown = ", ".join(existing[:3]) + (
            f" and {len(existing) - 3} more" if len(existing) > 3 else ""
        )
        raise OutputExistsError(
            f"{shown} exist(s); refusing to overwrite (pass --force to replace them, or choose "
            "an empty folder)"
        )
    for rel, text in sorted(files.items()):
        path = targets[rel]
        path.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(path, text)
    print(f"wrote {len(files)} file(s) under {folder}", file=sys.stderr)


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".mcplan-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cmd_export(args: argparse.Namespace) -> int:
    from ..cli import check_output
    from .infracost import export_infracost
    from .karmada import export_karmada
    from .planjson import check_plan, read_json
    from .terraform_out import export_terraform

    source = bundled(args.plan)
    to, target = _export_target(args.to)
    args.to, args.target = to, target
    if args.to in ("terraform", "karmada") and not args.target:
        raise InputError(
            f"--to {args.to} writes a folder: give it after the plan, e.g. "
            f"`mcplan export {source} --to {args.to} {args.to}-out/`"
        )
    named = f"--to {args.to}"
    if args.to == "infracost" and args.target:
        # before reading: a refusal costs nothing
        check_output(args.target, args.force, [source], option=named)
    plan = check_plan(read_json(source), str(source))
    if args.to == "terraform":
        write_files(Path(args.target), export_terraform(plan), args.force, [source])
    elif args.to == "karmada":
        write_files(Path(args.target), export_karmada(plan, args.namespace), args.force, [source])
    else:
        text = json.dumps(export_infracost(plan), indent=2, ensure_ascii=False) + "\n"
        if args.target:
            path = check_output(args.target, args.force, [source], option=named)
            _atomic_write(path, text)
            print(f"wrote {path}", file=sys.stderr)
        else:
            sys.stdout.write(text)
    return 0
