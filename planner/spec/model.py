"""The application spec: what the user asks for (services, users, dependencies, policy).

Parsed from YAML with pydantic; every structural problem becomes one `Problem` with a path such as
`services[2].demand.vcpu`. References to the catalog (categories, providers, regions,
jurisdictions) are checked in `check_against_catalog`, which needs the catalog.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Literal

import networkx as nx
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ..errors import Problem, SpecError, did_you_mean
from ..safeyaml import load_yaml_file, parse_yaml_text

Survive = Literal["none", "zone", "region", "provider", "site"]
Strategy = Literal["active_active", "warm_standby", "pilot_light", "backup_restore", "auto"]
Tier = Literal["IaaS", "PaaS", "SaaS"]


class _Strict(BaseModel):
    # NaN and infinity are not amounts anyone means: refused with "a finite number" rather than
    # failing a bound check with a puzzling "(got nan)"
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_numbers(cls, value: Any, info: Any) -> Any:
        """YAML reads `true` as a boolean, and pydantic would take it as the number 1: a
        `vcpu: true` is a mistake to report, not one vCPU."""
        if isinstance(value, bool):
            annotation = str(cls.model_fields[info.field_name].annotation)
            if "float" in annotation or "int" in annotation:
                raise ValueError("a number is expected here, not true or false: write e.g. 16")
        return value


class Demand(_Strict):
    """Capacity the service needs in normal operation (all regions together)."""

    vcpu: float = Field(default=0, ge=0, le=1e6)
    mem_gib: float = Field(default=0, ge=0, le=1e7)
    storage_gb: float = Field(default=0, ge=0, le=1e9)
    requests_m: float = Field(default=0, ge=0, le=1e9, description="millions of requests per month")
    users: float = Field(default=0, ge=0, le=1e9, description="user seats (SaaS)")
    lb: float = Field(default=0, ge=0, le=1e4, description="load-balancer instances")

    @model_validator(mode="after")
    def _something(self) -> Demand:
        if all(v == 0 for v in self.as_dict().values()):
            raise ValueError(
                "demand is empty: give at least one of vcpu, mem_gib, storage_gb, "
                "requests_m, users, lb"
            )
        return self

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.model_dump().items()}


class Service(_Strict):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")
    category: str
    tiers: tuple[Tier, ...] = ()
    demand: Demand
    stateful: bool = False
    user_facing: bool = False
    residency: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()
    forbid_providers: tuple[str, ...] = ()
    dr: Strategy = "active_active"
    rto_minutes: float | None = Field(default=None, ge=0)
    rpo_minutes: float | None = Field(default=None, ge=0)
    max_regions: int = Field(default=4, ge=1, le=10)
    # traffic it sends to its users over the internet, split between user groups by share
    internet_gb_per_month: float = Field(default=0, ge=0, le=1e9)
    # its change rate: every full copy of its data in another region receives it
    write_gb_per_month: float = Field(default=0, ge=0, le=1e9)

    @model_validator(mode="after")
    def _writes_need_state(self) -> Service:
        if self.write_gb_per_month > 0 and not self.stateful:
            raise ValueError(
                "write_gb_per_month is the change rate of a service's data: set `stateful: true` "
                "or remove it"
            )
        return self


class UserGroup(_Strict):
    name: str = Field(min_length=1)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    share: float = Field(gt=0, le=1)
    max_latency_ms: float = Field(gt=0, le=2000)


class Dependency(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    source: str = Field(alias="from")
    target: str = Field(alias="to")
    gb_per_month: float = Field(default=0, ge=0, le=1e9)  # what the caller sends
    reply_gb_per_month: float = Field(default=0, ge=0, le=1e9)  # what the callee sends back
    max_latency_ms: float | None = Field(default=None, gt=0, le=2000)


class Policy(_Strict):
    survive: Survive = "region"
    availability_target: float | None = Field(default=None, ge=90, lt=100)
    max_providers: int | None = Field(default=None, ge=1, le=10)
    budget_per_month: float | None = Field(default=None, gt=0)
    exclude_regions: tuple[str, ...] = ()
    exclude_providers: tuple[str, ...] = ()
    private_share_min: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description=(
            "share of each service's compute demand that must run on private sites in normal "
            "operation, for services that may use them (1.0: private primary, public only for "
            "recovery)"
        ),
    )


class AppSpec(_Strict):
    _source: str = PrivateAttr(default="")  # the file it came from, for messages
    app: str = Field(min_length=1, max_length=80)
    description: str = ""
    users: tuple[UserGroup, ...] = ()
    policy: Policy = Policy()
    services: tuple[Service, ...] = Field(min_length=1, max_length=5000)
    dependencies: tuple[Dependency, ...] = ()

    @field_validator("services", "users")
    @classmethod
    def _unique_names(cls, items: tuple[Any, ...], info: Any) -> tuple[Any, ...]:
        what = {"services": "service name", "users": "user group name"}[info.field_name]
        # case-insensitively: `web` and `Web` in one spec are a typo, not two services
        seen: dict[str, str] = {}
        for item in items:
            first = seen.get(item.name.lower())
            if first == item.name:
                # the fix travels in the error's context: spec_from_data puts it after `Fix:`
                raise PydanticCustomError(
                    "name_used_twice",
                    "{what} `{name}` is used twice; names must be unique",
                    {
                        "what": what,
                        "name": item.name,
                        "fix": "rename one of the two, or remove the copy",
                    },
                )
            if first is not None:
                raise PydanticCustomError(
                    "names_differ_in_case",
                    "{what}s `{first}` and `{name}` differ only in upper/lower case; names must "
                    "be unique ignoring case",
                    {
                        "what": what,
                        "first": first,
                        "name": item.name,
                        "fix": "rename one of the two so the names differ in more than case",
                    },
                )
            seen[item.name.lower()] = item.name
        return items

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)

    def with_policy(self, **changes: Any) -> AppSpec:
        """This spec under another policy (strategies, what-if re-plans, baselines): the same
        services and users, the named policy fields replaced, the source file kept for messages."""
        out = self.model_copy(update={"policy": self.policy.model_copy(update=changes)})
        out._source = self._source
        return out

    @property
    def source(self) -> str:
        return self._source


_KNOWN_KEYS = {
    name for model in (AppSpec, Service, Demand, UserGroup, Policy) for name in model.model_fields
} | {"from", "to", "gb_per_month", "reply_gb_per_month", "max_latency_ms"}


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


_FIXES = {
    "missing": "add this field",
    "extra_forbidden": "remove it, or check its spelling against docs/spec.md",
    "greater_than_equal": "use a value that is not negative",
    "greater_than": "use a positive value",
    "float_parsing": "write a number, e.g. 16",
    "int_parsing": "write a whole number",
    "literal_error": "",
    "bool_parsing": "write true or false",
    "finite_number": "write a number, e.g. 16 (not .nan or .inf)",
    "int_from_float": "write a whole number, e.g. 4",
    "string_type": "write text, in quotes if it looks like a number or a date",
    "string_pattern_mismatch": "use letters, digits, _ and - only, starting with a letter or digit",
    "string_too_long": "shorten it",
    "string_too_short": "write a non-empty value",
    "dict_type": "write a mapping of `key: value` lines here (see docs/spec.md)",
    "model_type": "write a mapping of `key: value` lines here (see docs/spec.md)",
    "tuple_type": "write a list here, one `- item` per line (see docs/spec.md)",
    "list_type": "write a list here, one `- item` per line (see docs/spec.md)",
    "too_short": "give at least one item",
    "too_long": "split it into fewer items",
    "float_type": "write a number, e.g. 16",
    "int_type": "write a whole number",
    "bool_type": "write true or false",
}


def spec_from_data(data: Any, source: str) -> AppSpec:
    """Validate already-parsed YAML data; raise SpecError with one problem per mistake."""
    if data is None:
        raise SpecError(
            [Problem(source, "", "", "the file is empty", fix="start from an example in examples/")]
        )
    if not isinstance(data, dict):
        raise SpecError(
            [
                Problem(
                    source,
                    "",
                    "",
                    "the top level must be a mapping of `key: value` lines such as `app:` and "
                    "`services:`",
                    value=type(data).__name__,
                    fix="start from a bundled example (`mcplan examples` lists them) or the "
                    "layout in docs/spec.md",
                )
            ]
        )
    if "resilience_policy" in data:
        # a resilience policy in AWS Resilience Hub's shape (docs/interop.md), mapped onto
        # policy.survive and each service's dr, rto_minutes, rpo_minutes and residency
        from ..interop.resilience import apply_resilience_policy

        data = apply_resilience_policy(
            {k: v for k, v in data.items() if k != "resilience_policy"},
            data["resilience_policy"],
            source=source,
        )
    try:
        spec = AppSpec.model_validate(data)
        spec._source = source
        return spec
    except ValidationError as exc:
        problems = []
        errors = exc.errors()
        failed = {tuple(e["loc"][:1]) for e in errors if e["type"] != "too_short"}
        for err in errors:
            # pydantic also reports a tuple "too short" when all its items failed: noise
            if err["type"] == "too_short" and tuple(err["loc"][:1]) in failed:
                continue
            loc = tuple(p for p in err["loc"] if p not in ("function-after[_something(), Demand]",))
            msg = err["msg"]
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, ") :]
            if msg.startswith("Assertion failed, "):
                msg = msg[len("Assertion failed, ") :]
            ctx = err.get("ctx") or {}
            fix = str(ctx.get("fix") or _FIXES.get(err["type"], ""))
            if (
                err["type"] in ("greater_than_equal", "greater_than")
                and "ge" in ctx
                and ctx["ge"] != 0
            ):
                fix = f"use a value of at least {ctx['ge']}"
            elif err["type"] == "greater_than" and "gt" in ctx and ctx["gt"] != 0:
                fix = f"use a value above {ctx['gt']}"
            elif err["type"] == "less_than_equal":
                fix = f"use a value of at most {ctx.get('le')}"
            elif err["type"] == "less_than":
                fix = f"use a value below {ctx.get('lt')}"
            elif err["type"] == "literal_error" and ctx.get("expected"):
                fix = f"use one of {ctx['expected']}"
            if err["type"] == "extra_forbidden" and loc:
                hint = did_you_mean(str(loc[-1]), _KNOWN_KEYS)
                fix = (
                    f"remove `{loc[-1]}`; {hint}"
                    if hint.startswith("did you mean")
                    else f"remove `{loc[-1]}`, or check its spelling against docs/spec.md"
                )
            value = err.get("input")
            if isinstance(value, dict | list):
                value = None
            elif isinstance(value, date):  # YAML reads 2024-05-01 as a date: show it as written
                value = value.isoformat()
            problems.append(Problem(source, _path(loc), "", msg.rstrip("."), value=value, fix=fix))
        raise SpecError(problems) from None


def load_spec(path: Path | str) -> AppSpec:
    """Read a spec file safely (size cap, safe YAML, alias cap) and validate its structure."""
    path = Path(path)
    return spec_from_data(load_yaml_file(path, SpecError), str(path))


def spec_from_text(text: str, source: str = "<upload>") -> AppSpec:
    return spec_from_data(parse_yaml_text(text, source, SpecError), source)


def check_against_catalog(spec: AppSpec, catalog: Any, source: str = "") -> None:
    """Cross-check names against the catalog and the spec itself; raise every problem at once."""
    source = source or spec.source
    problems: list[Problem] = []
    for i, s in enumerate(spec.services):
        problems += _service_references(source, f"services[{i}]", s, catalog)
    problems += _dependency_references(source, spec)
    providers = set(catalog.providers.index)
    regions = set(catalog.regions.index)
    for j, r in enumerate(spec.policy.exclude_regions):
        if r not in regions:
            problems.append(_unknown(source, f"policy.exclude_regions[{j}]", "region", r, regions))
    for j, p in enumerate(spec.policy.exclude_providers):
        if p not in providers:
            problems.append(
                _unknown(source, f"policy.exclude_providers[{j}]", "provider", p, providers)
            )
    total = sum(u.share for u in spec.users)
    if spec.users and abs(total - 1.0) > 0.01:
        problems.append(
            Problem(
                source,
                "users",
                "share",
                "user shares must add up to 1",
                value=round(total, 4),
                fix="scale the shares so they sum to 1.0",
            )
        )
    if problems:
        raise SpecError(problems)


def _unknown(source: str, where: str, what: str, value: str, valid: Iterable[str]) -> Problem:
    return Problem(
        source, where, "", f"unknown {what}", value=value, fix=did_you_mean(value, valid)
    )


def _service_references(source: str, at: str, s: Service, catalog: Any) -> list[Problem]:
    """A service's category, tiers, providers, jurisdictions and strategy against the catalog."""
    problems: list[Problem] = []
    cats = catalog.service_categories
    known_categories = set(cats["service_category"])
    if s.category not in known_categories:
        problems.append(
            _unknown(source, f"{at}.category", "service category", s.category, known_categories)
        )
    else:
        possible = set(cats.loc[cats["service_category"] == s.category, "tier"])
        for t in s.tiers:
            if t not in possible:
                problems.append(
                    Problem(
                        source,
                        f"{at}.tiers",
                        "",
                        f"`{s.category}` cannot run as {t}",
                        value=t,
                        fix="use " + " or ".join(sorted(possible)),
                    )
                )
    providers = set(catalog.providers.index)
    for key in ("providers", "forbid_providers"):
        for j, p in enumerate(getattr(s, key)):
            if p not in providers:
                problems.append(_unknown(source, f"{at}.{key}[{j}]", "provider", p, providers))
    jurisdictions = set(catalog.regions["jurisdiction"])
    for j, jur in enumerate(s.residency):
        if jur not in jurisdictions:
            problems.append(
                Problem(
                    source,
                    f"{at}.residency[{j}]",
                    "",
                    "no region has this jurisdiction",
                    value=jur,
                    fix=did_you_mean(jur, jurisdictions),
                )
            )
    if s.dr != "auto" and s.dr not in catalog.strategies.index:
        problems.append(Problem(source, f"{at}.dr", "", "strategy not in the catalog", value=s.dr))
    return problems


def _dependency_references(source: str, spec: AppSpec) -> list[Problem]:
    """Dependencies name services of the spec, not their own caller, and form no cycle."""
    problems: list[Problem] = []
    names = [s.name for s in spec.services]
    for i, d in enumerate(spec.dependencies):
        for key, val in (("from", d.source), ("to", d.target)):
            if val not in names:
                problems.append(_unknown(source, f"dependencies[{i}].{key}", "service", val, names))
        if d.source == d.target:
            problems.append(
                Problem(
                    source,
                    f"dependencies[{i}]",
                    "",
                    f"a service cannot depend on itself (`{d.source}` -> `{d.target}`)",
                    fix="remove this dependency: calls inside one service need no entry",
                )
            )
    cycle = dependency_cycle(spec.dependencies, source)
    if cycle is not None and not problems:
        problems.append(cycle)
    return problems


def dependency_cycle(dependencies: Sequence[Dependency], source: str) -> Problem | None:
    """Hard dependencies that loop back (web -> api -> web), named with their entries; None when
    the calls never lead back to a caller. Refused at validation: a service is down when anything
    it calls is down, which what-if, the sweep and availability follow callee first."""
    edges = [(d.source, d.target) for d in dependencies if d.source != d.target]
    try:
        cycle = nx.find_cycle(nx.DiGraph(edges))
    except nx.NetworkXNoCycle:
        return None
    names = [caller for caller, _ in cycle]
    entries = [f"dependencies[{edges.index((a, b))}]" for a, b in cycle]
    return Problem(
        source,
        "dependencies",
        "",
        f"services {', '.join(names)} depend on each other in a cycle: "
        f"{' -> '.join([*names, names[0]])} ({', '.join(entries)})",
        fix="remove one dependency of the cycle (the call its caller can run without); its "
        "traffic can be added to the other direction's gb_per_month",
    )
