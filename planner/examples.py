"""The bundled example specs: where they are, what each shows, and finding one by name.

A fresh install should plan an example from any folder (`mcplan plan kr-ecommerce`, or the
README's `mcplan plan examples/kr-ecommerce.yaml` run outside a clone), so a spec argument that
names no file is looked up among the bundled examples before it is reported missing. The
examples live in the repository's `examples/` and, installed, in the package's `data/examples/`
(setup.py copies them there).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import Problem, SpecError, did_you_mean
from .safeyaml import load_yaml_file


def examples_dir() -> Path:
    """The repository's examples/ when running from a clone, else the copy inside the package."""
    here = Path(__file__).resolve().parents[1] / "examples"
    if here.is_dir() and any(here.glob("*.yaml")):
        return here
    return Path(__file__).resolve().parent / "data" / "examples"


@dataclass(frozen=True)
class Example:
    name: str  # the file name without .yaml: what `mcplan plan NAME` takes
    path: Path
    summary: str  # the spec's description


def bundled_examples() -> list[Example]:
    out = []
    for path in sorted(examples_dir().glob("*.yaml")):
        data = load_yaml_file(path)
        summary = data.get("description", "") if isinstance(data, dict) else ""
        out.append(Example(path.stem, path, str(summary)))
    return out


def resolve_spec(argument: str | Path) -> Path:
    """The spec file an argument means: the file itself when it exists; else a bundled example
    named by it (`kr-ecommerce`, `kr-ecommerce.yaml`, or `examples/kr-ecommerce.yaml` given
    outside a clone); else a SpecError that says how to find the examples."""
    path = Path(argument)
    if path.exists():
        return path
    by_name = {e.name: e.path for e in bundled_examples()}
    stem = path.name[: -len(".yaml")] if path.name.endswith(".yaml") else path.name
    bundled = len(path.parts) == 1 or path.parts[:-1] == ("examples",)
    if bundled and stem in by_name:
        return by_name[stem]
    hint = did_you_mean(stem, by_name) if by_name else ""
    first = hint if hint.startswith("did you mean") else "check the path."
    fix = (
        f"{first} `mcplan examples` lists the bundled examples, which run from any folder by "
        "name (`mcplan plan kr-ecommerce`)"
    )
    raise SpecError([Problem(str(path), "", "", "no such file", fix=fix)])


def resolve_study(argument: str | Path) -> Path:
    """The study file an argument means: the file itself when it exists; else a bundled study
    (`examples/studies/NAME.yaml` given outside a clone, or `studies/NAME`), else the path as
    given, for the study loader to report."""
    path = Path(argument)
    if path.exists():
        return path
    parts = path.parts
    if parts[:-1] in (("examples", "studies"), ("studies",)) or len(parts) == 1:
        name = path.name if path.name.endswith(".yaml") else f"{path.name}.yaml"
        bundled = examples_dir() / "studies" / name
        if bundled.is_file():
            return bundled
    return path
