"""The import rules, read from the source with `ast` (nothing is imported to check them):

- the planning library (`planner/`) never imports the dashboard (`dashboards`, its `ui` package as
  the dashboard imports it) nor Streamlit: it must run, and be installed, without them;
- the dashboard (`dashboards/`) never imports the solvers (`pulp`, `highspy`), the model builder
  (`planner.model`) or the optimiser's modules (`planner.optimize`, a module or a package), nor a
  private name of the planner: it plans through `planner`'s public names only;
- the verifier (`planner/analysis/verify.py`) never imports the model builder (`planner.model`)
  nor the optimiser (`planner.optimize`): it is independent of what it checks.

Rules are by module name prefix, so `planner.optimize` is covered as one module or as a package.
Relative imports are resolved against the importing module, `importlib.import_module("...")` with
a literal name counts as an import, and so does attribute access through an imported module
(`planner.optimize.make_plan` after `import planner`).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VERIFIER = "planner/analysis/verify.py"


@dataclass(frozen=True)
class Rule:
    applies_to: str  # a file, or a folder ending in "/"
    forbidden: tuple[str, ...]  # module name prefixes
    why: str
    private_planner_names: bool = False  # also forbid `planner` names starting with "_"

    def covers(self, path: str) -> bool:
        if self.applies_to.endswith("/"):
            return path.startswith(self.applies_to)
        return path == self.applies_to


RULES = (
    Rule(
        "planner/",
        ("streamlit", "dashboards", "ui"),
        "the planning library must run without the dashboard",
    ),
    Rule(
        "dashboards/",
        ("pulp", "highspy", "planner.model", "planner.optimize"),
        "the dashboard plans through planner's public names only",
        private_planner_names=True,
    ),
    Rule(
        VERIFIER,
        ("planner.model", "planner.optimize"),
        "the verifier shares no code with what it verifies",
    ),
)


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _module_name(path: str) -> tuple[str, bool]:
    """The dotted module name of a file relative to the repository, and whether it is a package."""
    parts = path.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def _resolve(module: str | None, level: int, current: str, is_package: bool) -> str:
    """The absolute name `from <level dots><module> import ...` means inside `current`."""
    if level == 0:
        return module or ""
    package = current.split(".") if is_package else current.split(".")[:-1]
    if level - 1 >= len(package):
        raise ValueError(f"relative import beyond the top of {current}")
    base = package[: len(package) - (level - 1)]
    return ".".join([*base, module] if module else base)


def imported_names(path: str, source: str) -> list[tuple[int, str]]:
    """(line, dotted name) for everything the file imports or reaches through an imported
    module: `from a import b` gives both `a` and `a.b`, since `b` may be a submodule."""
    current, is_package = _module_name(path)
    tree = ast.parse(source, filename=path)
    found: list[tuple[int, str]] = []
    bound: dict[str, str] = {}  # local name -> the module name it stands for
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append((node.lineno, alias.name))
                if alias.asname:
                    bound[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    bound[top] = top
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node.module, node.level, current, is_package)
            found.append((node.lineno, base))
            for alias in node.names:
                if alias.name != "*":
                    full = f"{base}.{alias.name}" if base else alias.name
                    found.append((node.lineno, full))
                    bound[alias.asname or alias.name] = full
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    # attribute chains on an imported module: `planner.optimize.make_plan`, `opt._solve`
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            chain: list[str] = []
            inner: ast.expr = node
            while isinstance(inner, ast.Attribute):
                chain.append(inner.attr)
                inner = inner.value
            if isinstance(inner, ast.Name) and inner.id in bound:
                found.append((node.lineno, ".".join([bound[inner.id], *reversed(chain)])))
    return found


def _private(name: str) -> bool:
    """A planner name whose own part starts with one underscore (dunders such as __file__ are
    Python's, not the planner's)."""
    return _within(name, "planner") and any(
        part.startswith("_") and not (part.startswith("__") and part.endswith("__"))
        for part in name.split(".")
    )


def violations(path: str, source: str) -> list[str]:
    """Every import in `source` (the file at `path`, relative to the repository) that breaks a
    rule, as 'path:line: name (why)'."""
    out: list[str] = []
    rules = [rule for rule in RULES if rule.covers(path)]
    if not rules:
        return out
    for line, name in imported_names(path, source):
        for rule in rules:
            bad = any(_within(name, prefix) for prefix in rule.forbidden)
            bad = bad or (rule.private_planner_names and _private(name))
            if bad:
                out.append(f"{path}:{line}: {name} ({rule.why})")
    return sorted(set(out))


def _sources(folder: str) -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for p in (ROOT / folder).rglob("*.py"))


def test_planner_dashboards_and_verifier_keep_their_import_rules() -> None:
    files = _sources("planner") + _sources("dashboards")
    # the scan reaches what the rules are about, so an empty result means something
    assert VERIFIER in files
    assert any(f.startswith("planner/optimize") for f in files)
    assert sum(f.startswith("dashboards/") for f in files) >= 5
    found = [v for f in files for v in violations(f, (ROOT / f).read_text(encoding="utf-8"))]
    assert not found, "\n".join(found)


# ------------------------------------------------------------------------------------ self-check
@pytest.mark.parametrize(
    ("path", "source", "name"),
    [
        ("planner/report.py", "import streamlit as st\n", "streamlit"),
        ("planner/analysis/whatif.py", "from dashboards.ui import data\n", "dashboards.ui"),
        ("planner/cli.py", "def f():\n    from ui import widgets\n", "ui.widgets"),
        ("dashboards/ui/data.py", "import pulp\n", "pulp"),
        ("dashboards/app_pages/plan.py", "from highspy import Highs\n", "highspy"),
        ("dashboards/ui/data.py", "from planner.model.build import build_model\n", "planner.model"),
        ("dashboards/ui/data.py", "from planner import model\n", "planner.model"),
        ("dashboards/ui/data.py", "from planner.optimize import make_plan\n", "planner.optimize"),
        ("dashboards/ui/data.py", "import planner.optimize.parts as p\n", "planner.optimize.parts"),
        ("dashboards/ui/data.py", "import planner\nplanner.optimize.make_plan\n", "optimize"),
        ("dashboards/ui/data.py", "from planner import _EXPORTS\n", "planner._EXPORTS"),
        ("dashboards/ui/data.py", "from planner.plan import _roles\n", "planner.plan._roles"),
        ("dashboards/ui/data.py", "import importlib\nimportlib.import_module('pulp')\n", "pulp"),
        (VERIFIER, "from ..model.build import build_model\n", "planner.model.build"),
        (VERIFIER, "from ..model import candidates\n", "planner.model.candidates"),
        (VERIFIER, "from .. import optimize\n", "planner.optimize"),
        (VERIFIER, "from ..optimize.common import PlanOptions\n", "planner.optimize.common"),
        (VERIFIER, "import planner.optimize\n", "planner.optimize"),
    ],
)
def test_the_rules_catch_a_violating_import(path: str, source: str, name: str) -> None:
    found = violations(path, source)
    assert found and all(path in v for v in found), found
    assert any(name in v for v in found), found


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("dashboards/ui/data.py", "import planner\nfrom planner import PlanOptions, make_plan\n"),
        ("dashboards/ui/data.py", "import planner\nroot = planner.__file__\n"),
        ("dashboards/ui/views.py", "from planner.plan import Plan\n"),
        (VERIFIER, "from ..catalog import Catalog\nfrom ..catalog.columns import RESOURCES\n"),
        ("planner/optimize/common.py", "from ..model.build import build_model\n"),
        ("benchmarks/run.py", "import streamlit\n"),  # no rule covers it
    ],
)
def test_the_rules_let_allowed_imports_through(path: str, source: str) -> None:
    assert violations(path, source) == []


def test_relative_imports_resolve_against_the_importing_module() -> None:
    assert _resolve("model.build", 2, "planner.analysis.verify", False) == "planner.model.build"
    assert _resolve(None, 1, "planner.optimize", True) == "planner.optimize"
    assert _resolve("common", 1, "planner.optimize", True) == "planner.optimize.common"
    assert _resolve("errors", 1, "planner.optimize", False) == "planner.errors"
    with pytest.raises(ValueError, match="beyond the top"):
        _resolve("x", 3, "planner.cli", False)
