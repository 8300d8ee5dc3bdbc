"""Keep the user documentation true to the code.

Each test derives its expectations from the code (pydantic models, the real JSON of a small plan,
the model builder) and fails when docs/spec.md, docs/json.md, docs/model.md or README.md stop
mentioning something the code has.
"""

from __future__ import annotations

import csv
import io
import json
import re
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from planner import cli
from planner.errors import (
    CatalogError,
    InfeasibleError,
    NoPlanError,
    OutputExistsError,
    SolverError,
    SpecError,
)
from planner.model.build import ModelBuilder
from planner.optimize import PlanOptions, make_plan
from planner.report import plan_to_csv, plan_to_dict
from planner.spec import (
    AppSpec,
    Demand,
    Dependency,
    Policy,
    Service,
    UserGroup,
    check_against_catalog,
    load_spec,
    spec_from_text,
)
from tests.conftest import EXAMPLES, ROOT

DOCS = ROOT / "docs"


def _read(name: str) -> str:
    path = DOCS / name
    assert path.exists(), f"{path} is missing"
    return path.read_text(encoding="utf-8")


def _code_spans(text: str) -> set[str]:
    """Everything written as `code` in a markdown file."""
    return set(re.findall(r"`([^`\n]+)`", text))


def _fenced(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


# ------------------------------------------------------------------ docs/spec.md
SPEC_MODELS = (AppSpec, Service, Demand, UserGroup, Dependency, Policy)


def _yaml_keys(model: type[BaseModel]) -> list[str]:
    """The keys a user writes: the alias when there is one (`from`, `to`), else the field name."""
    return [f.alias or name for name, f in model.model_fields.items()]


@pytest.mark.parametrize("model", SPEC_MODELS, ids=lambda m: m.__name__)
def test_every_spec_field_is_documented(model: type[BaseModel]) -> None:
    spans = _code_spans(_read("spec.md"))
    missing = [k for k in _yaml_keys(model) if k not in spans]
    assert not missing, f"docs/spec.md does not document {model.__name__} fields {missing}"


def test_dependency_aliases_are_the_documented_keys() -> None:
    keys = _yaml_keys(Dependency)
    assert "from" in keys and "to" in keys


def _literal_values(model: type[BaseModel], field: str) -> list[str]:
    ann = model.model_fields[field].annotation
    values: list[str] = []
    stack = [ann]
    while stack:
        t = stack.pop()
        if typing.get_origin(t) is typing.Literal:
            values += [str(v) for v in typing.get_args(t)]
        else:
            stack += [a for a in typing.get_args(t) if a is not Ellipsis]
    return values


@pytest.mark.parametrize(
    ("model", "field"), [(Policy, "survive"), (Service, "dr"), (Service, "tiers")]
)
def test_every_allowed_value_is_documented(model: type[BaseModel], field: str) -> None:
    spans = _code_spans(_read("spec.md"))
    values = _literal_values(model, field)
    assert values, f"{model.__name__}.{field} is expected to be a Literal"
    missing = [v for v in values if v not in spans]
    assert not missing, f"docs/spec.md does not list {model.__name__}.{field} values {missing}"


def test_catalog_categories_and_strategies_are_documented(catalog) -> None:
    spans = _code_spans(_read("spec.md"))
    cats = catalog.service_categories
    missing = sorted(
        {c for c in cats["service_category"] if c not in spans}
        | {c for c in cats["offering_category"] if c not in spans}
    )
    assert not missing, f"docs/spec.md does not list categories {missing}"
    missing = [s for s in catalog.strategies.index if s not in spans]
    assert not missing, f"docs/spec.md does not list strategies {missing}"


def test_exit_codes_are_documented() -> None:
    text = _read("spec.md")
    codes = {
        cli.EXIT_OK,
        cli.EXIT_UNEXPECTED,
        cli.EXIT_INPUT,
        cli.EXIT_INFEASIBLE,
        cli.EXIT_NO_PLAN,
        SpecError.exit_code,
        CatalogError.exit_code,
        InfeasibleError.exit_code,
        NoPlanError.exit_code,
        SolverError.exit_code,
        OutputExistsError.exit_code,
    }
    missing = [c for c in sorted(codes) if not re.search(rf"^\|\s*`{c}`\s*\|", text, flags=re.M)]
    assert not missing, f"docs/spec.md has no exit-code table row for {missing}"


def test_spec_example_is_valid(catalog) -> None:
    blocks = _fenced(_read("spec.md"), "yaml")
    assert blocks, "docs/spec.md has no yaml example"
    spec = spec_from_text(blocks[-1], "docs/spec.md")
    check_against_catalog(spec, catalog)
    # the complete example uses every field of every model at least once
    for model in SPEC_MODELS:
        for key in _yaml_keys(model):
            assert re.search(rf"\b{re.escape(key)}:", blocks[-1]), (
                f"the spec example does not show `{key}`"
            )


# ------------------------------------------------------------------ docs/json.md
@pytest.fixture(scope="module")
def small_plan(catalog):  # noqa: ANN001, ANN201
    return make_plan(load_spec(EXAMPLES / "single-dc.yaml"), catalog, PlanOptions(time_limit=60))


@pytest.fixture(scope="module")
def plan_json(small_plan) -> dict:  # noqa: ANN001
    return json.loads(json.dumps(plan_to_dict(small_plan)))


def test_every_top_level_json_key_is_documented(plan_json: dict) -> None:
    spans = _code_spans(_read("json.md"))
    missing = [k for k in plan_json if k not in spans]
    assert not missing, f"docs/json.md does not document top-level keys {missing}"
    assert plan_json["schema_version"] == 2


def test_every_placement_key_is_documented(plan_json: dict) -> None:
    spans = _code_spans(_read("json.md"))
    assert plan_json["placements"], "the small plan has no placements"
    keys = set().union(*(p.keys() for p in plan_json["placements"]))
    keys |= set().union(*(p["capacity"].keys() for p in plan_json["placements"]))
    missing = sorted(k for k in keys if k not in spans)
    assert not missing, f"docs/json.md does not document placement keys {missing}"


def test_nested_json_keys_are_documented(plan_json: dict, small_plan) -> None:  # noqa: ANN001
    spans = _code_spans(_read("json.md"))
    nested = {
        "cost_breakdown_usd_per_month": plan_json["cost_breakdown_usd_per_month"].keys(),
        "policy": plan_json["policy"].keys(),
        "services": set().union(*(s.keys() for s in plan_json["services"])),
        "verification": plan_json["verification"].keys(),
        "solve": plan_json["solve"].keys(),
        "solve.timings_s": plan_json["solve"]["timings_s"].keys(),
        "solve.model_size": plan_json["solve"]["model_size"].keys(),
        "traffic": list(small_plan.traffic.columns),
        "trust": list(small_plan.trust.columns) if small_plan.trust is not None else [],
        "fees": list(small_plan.fees.columns),
    }
    missing = {where: sorted(k for k in keys if k not in spans) for where, keys in nested.items()}
    missing = {k: v for k, v in missing.items() if v}
    assert not missing, f"docs/json.md does not document {missing}"


def test_json_example_has_the_real_keys(plan_json: dict) -> None:
    blocks = _fenced(_read("json.md"), "json")
    assert blocks, "docs/json.md has no json example"
    example = json.loads(blocks[0])
    assert set(example) == set(plan_json), (
        "the JSON example's top-level keys differ from the real output"
    )
    assert example["schema_version"] == plan_json["schema_version"]
    for p in example["placements"]:
        assert set(p) == set(plan_json["placements"][0]), (
            "a placement in the example has other keys"
        )


def test_status_values_are_documented() -> None:
    spans = _code_spans(_read("json.md"))
    for status in ("optimal", "feasible", "feasible_time_limit"):
        assert status in spans


def test_csv_columns_are_documented(small_plan) -> None:  # noqa: ANN001
    spans = _code_spans(_read("json.md"))
    header = next(csv.reader(io.StringIO(plan_to_csv(small_plan))))
    missing = [c for c in header if c not in spans]
    assert not missing, f"docs/json.md does not document CSV columns {missing}"


@pytest.mark.parametrize("what", ["regions", "providers", "offerings"])
def test_catalog_json_keys_are_documented(what: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["catalog", what, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    spans = _code_spans(_read("json.md"))
    missing = sorted(k for k in rows[0] if k not in spans)
    assert not missing, f"docs/json.md does not document `catalog {what}` keys {missing}"


# ------------------------------------------------------------------ docs/model.md
def test_every_constraint_family_is_documented() -> None:
    text = _read("model.md")
    # the families are inherited from one module per concern, so look over the whole MRO
    methods = sorted(m for m in dir(ModelBuilder) if m.startswith("define_"))
    assert methods, "no define_* methods found"
    missing = [m for m in methods if f"`{m}`" not in text]
    assert not missing, f"docs/model.md does not describe {missing}"


def test_every_variable_is_documented() -> None:
    text = _read("model.md")
    for symbol in ("n_i", "u_{sr}", "z_{sk}", "y_{erc}", "b_{sr}", "k_i", "w_p"):
        assert symbol in text, f"docs/model.md does not define {symbol}"


# ------------------------------------------------------------------ README.md
def test_every_example_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    examples = sorted(p.name for p in Path(EXAMPLES).glob("*.yaml"))
    assert examples
    missing = [name for name in examples if name not in readme]
    assert not missing, f"README.md does not mention examples {missing}"
