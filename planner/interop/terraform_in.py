"""`mcplan import terraform`: a spec from the JSON of `terraform show -json` of a saved plan
(OpenTofu writes the same shape).

Read: `planned_values.root_module` (its `resources[]` and, recursively, `child_modules[]`) for
what the plan will hold, `resource_changes[]` for resources the plan deletes, and
`configuration.provider_config` for the region of a provider block when a resource does not carry
its own. Each resource type the mapping knows becomes part of a service (all instances of one
address, `count` or `for_each` included, form one service); everything else is listed as skipped
with the reason. The references between resources in `configuration` become dependencies, and a
load balancer depends, within a few milliseconds, on each service its listeners, target groups or
backend pools lead to.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..errors import InputError, Problem
from .defaults import BALANCER_LATENCY_MS, DEFAULT_BUCKET_GB, DEFAULT_MAX_LATENCY_MS
from .imported import (
    GENERIC_NAMES,
    Call,
    Found,
    ImportResult,
    Skipped,
    canonical_region,
    finish_import,
)
from .sizes import size_of

# the registry name of a provider -> the catalog's provider id
PROVIDERS = {
    "aws": "aws",
    "azurerm": "azure",
    "google": "gcp",
    "google-beta": "gcp",
    "ncloud": "naver",
    "openstack": "openstack",
}


class _Skip(Exception):
    """A resource of a known type that cannot be sized: the message says why and what to do."""


@dataclass(frozen=True)
class Mapping:
    category: str
    tier: str
    demand: Callable[[str, dict[str, Any], float], dict[str, float]]  # provider, values, bucket GB
    stateful: bool = False
    user_facing: bool = False
    # node pools name the cluster they join: (attribute holding the cluster's name) or None
    joins_cluster: str | None = None


def _first(values: dict[str, Any], key: str) -> dict[str, Any]:
    """A nested block: Terraform's JSON writes a block as a list of one mapping."""
    block = values.get(key)
    if isinstance(block, list) and block and isinstance(block[0], dict):
        return block[0]
    return block if isinstance(block, dict) else {}


def _number(value: Any) -> float:
    """A size or count the plan states: a finite, non-negative number, else 0 (not stated)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return float(value) if math.isfinite(value) and value >= 0 else 0.0


def _sized(provider: str, size: Any, count: float = 1.0) -> dict[str, float]:
    if not isinstance(size, str) or not size:
        raise _Skip(
            "its size is not known at plan time; set it to a literal, or add it to the spec by hand"
        )
    cap = size_of(provider, size)
    if cap is None:
        raise _Skip(
            f"size `{size}` is not in the size table; add a row (provider, size, vcpu, mem_gib, "
            "source_url) to planner/interop/sizes.csv"
        )
    return {"vcpu": cap[0] * count, "mem_gib": cap[1] * count}


def _with_disk(demand: dict[str, float], gb: float) -> dict[str, float]:
    return {**demand, "storage_gb": gb} if gb > 0 else demand


def _vm_aws(p: str, v: dict[str, Any], _: float) -> dict[str, float]:
    root = _number(_first(v, "root_block_device").get("volume_size"))
    return _with_disk(_sized(p, v.get("instance_type")), root)


def _vm_azure(p: str, v: dict[str, Any], _: float) -> dict[str, float]:
    return _with_disk(_sized(p, v.get("size")), _number(_first(v, "os_disk").get("disk_size_gb")))


def _vm_gcp(p: str, v: dict[str, Any], _: float) -> dict[str, float]:
    disk = _number(_first(_first(v, "boot_disk"), "initialize_params").get("size"))
    return _with_disk(_sized(p, v.get("machine_type")), disk)


def _vm_naver(p: str, v: dict[str, Any], _: float) -> dict[str, float]:
    return _sized(p, v.get("server_spec_code") or v.get("server_product_code"))


def _vm_openstack(p: str, v: dict[str, Any], _: float) -> dict[str, float]:
    if not v.get("flavor_name"):
        raise _Skip("only `flavor_id` is set; give `flavor_name` so its size can be looked up")
    return _sized(p, v.get("flavor_name"))


def _db_aws(p: str, v: dict[str, Any], _: float) -> dict[str, float]:
    return _with_disk(_sized(p, v.get("instance_class")), _number(v.get("allocated_storage")))


def _db_azure(p: str, v: dict[str, Any], _: float) -> dict[str, float]:
    return _with_disk(_sized(p, v.get("sku_name")), _number(v.get("storage_mb")) / 1024)


def _db_gcp(p: str, v: dict[str, Any], _: float) -> dict[str, float]:
    settings = _first(v, "settings")
    return _with_disk(_sized(p, settings.get("tier")), _number(settings.get("disk_size")))


def _db_naver(p: str, v: dict[str, Any], _: float) -> dict[str, float]:
    return _sized(p, v.get("product_code") or v.get("server_spec_code"))


def _disk(key: str) -> Callable[[str, dict[str, Any], float], dict[str, float]]:
    def demand(_p: str, v: dict[str, Any], _b: float) -> dict[str, float]:
        gb = _number(v.get(key))
        if gb <= 0:
            raise _Skip(f"no `{key}`: the volume's size is not known at plan time")
        return {"storage_gb": gb}

    return demand


def _bucket(_p: str, _v: dict[str, Any], bucket_gb: float) -> dict[str, float]:
    return {"storage_gb": bucket_gb}


def _lb(_p: str, _v: dict[str, Any], _b: float) -> dict[str, float]:
    return {"lb": 1.0}


def _cache_aws(p: str, v: dict[str, Any], _: float) -> dict[str, float]:
    nodes = _number(v.get("num_cache_nodes") or v.get("num_cache_clusters")) or 1.0
    return _sized(p, v.get("node_type"), nodes)


def _nodes_eks(p: str, v: dict[str, Any], _: float) -> dict[str, float]:
    types = v.get("instance_types") or []
    scaling = _first(v, "scaling_config")
    return _sized(p, types[0] if types else None, _number(scaling.get("desired_size")) or 1.0)


def _nodes_aks(p: str, v: dict[str, Any], _: float) -> dict[str, float]:
    pool = _first(v, "default_node_pool") or v
    return _sized(p, pool.get("vm_size"), _number(pool.get("node_count")) or 1.0)


def _nodes_gke_cluster(p: str, v: dict[str, Any], _: float) -> dict[str, float]:
    if v.get("remove_default_node_pool"):
        return {}  # its nodes come from google_container_node_pool
    count = _number(v.get("initial_node_count")) or 1.0
    return _sized(p, _first(v, "node_config").get("machine_type") or "e2-medium", count)


def _nodes_gke_pool(p: str, v: dict[str, Any], _: float) -> dict[str, float]:
    count = _number(v.get("node_count") or v.get("initial_node_count")) or 1.0
    return _sized(p, _first(v, "node_config").get("machine_type"), count)


def _nodes_nks(p: str, v: dict[str, Any], _: float) -> dict[str, float]:
    size = v.get("server_spec_code") or v.get("product_code")
    return _sized(p, size, _number(v.get("node_count")) or 1.0)


def _control_plane(_p: str, _v: dict[str, Any], _b: float) -> dict[str, float]:
    return {}  # a cluster's size is its node pools'


VM, DB = ("compute.vm", "IaaS"), ("db.relational", "PaaS")
K8S, BLOCK, OBJECT = ("compute.k8s", "PaaS"), ("storage.block", "IaaS"), ("storage.object", "PaaS")
LB, CACHE = ("network.lb", "PaaS"), ("cache", "PaaS")

# resource type -> how it maps; docs/interop.md lists the same table (a test keeps them equal)
MAPPINGS: dict[str, Mapping] = {
    "aws_instance": Mapping(*VM, _vm_aws),
    "azurerm_linux_virtual_machine": Mapping(*VM, _vm_azure),
    "azurerm_windows_virtual_machine": Mapping(*VM, _vm_azure),
    "google_compute_instance": Mapping(*VM, _vm_gcp),
    "ncloud_server": Mapping(*VM, _vm_naver),
    "openstack_compute_instance_v2": Mapping(*VM, _vm_openstack),
    "aws_db_instance": Mapping(*DB, _db_aws, stateful=True),
    "azurerm_postgresql_flexible_server": Mapping(*DB, _db_azure, stateful=True),
    "azurerm_mysql_flexible_server": Mapping(*DB, _db_azure, stateful=True),
    "google_sql_database_instance": Mapping(*DB, _db_gcp, stateful=True),
    "ncloud_postgresql": Mapping(*DB, _db_naver, stateful=True),
    "ncloud_mysql": Mapping(*DB, _db_naver, stateful=True),
    "aws_ebs_volume": Mapping(*BLOCK, _disk("size")),
    "azurerm_managed_disk": Mapping(*BLOCK, _disk("disk_size_gb")),
    "google_compute_disk": Mapping(*BLOCK, _disk("size")),
    "ncloud_block_storage": Mapping(*BLOCK, _disk("size")),
    "openstack_blockstorage_volume_v3": Mapping(*BLOCK, _disk("size")),
    "aws_s3_bucket": Mapping(*OBJECT, _bucket),
    "azurerm_storage_account": Mapping(*OBJECT, _bucket),
    "google_storage_bucket": Mapping(*OBJECT, _bucket),
    "ncloud_objectstorage_bucket": Mapping(*OBJECT, _bucket),
    "aws_eks_cluster": Mapping(*K8S, _control_plane),
    "aws_eks_node_group": Mapping(*K8S, _nodes_eks, joins_cluster="cluster_name"),
    "azurerm_kubernetes_cluster": Mapping(*K8S, _nodes_aks),
    "azurerm_kubernetes_cluster_node_pool": Mapping(
        *K8S, _nodes_aks, joins_cluster="kubernetes_cluster_id"
    ),
    "google_container_cluster": Mapping(*K8S, _nodes_gke_cluster),
    "google_container_node_pool": Mapping(*K8S, _nodes_gke_pool, joins_cluster="cluster"),
    "ncloud_nks_cluster": Mapping(*K8S, _control_plane),
    "ncloud_nks_node_pool": Mapping(*K8S, _nodes_nks, joins_cluster="cluster_uuid"),
    "aws_lb": Mapping(*LB, _lb, user_facing=True),
    "aws_alb": Mapping(*LB, _lb, user_facing=True),
    "azurerm_lb": Mapping(*LB, _lb, user_facing=True),
    "google_compute_forwarding_rule": Mapping(*LB, _lb, user_facing=True),
    "ncloud_lb": Mapping(*LB, _lb, user_facing=True),
    "aws_elasticache_cluster": Mapping(*CACHE, _cache_aws, stateful=True),
    "aws_elasticache_replication_group": Mapping(*CACHE, _cache_aws, stateful=True),
}

# resource types the planner does not place, by the words in their name, with the reason
_NOT_CAPACITY = [
    (
        re.compile(
            r"_(vpc|subnet|route|route_table|internet_gateway|nat_gateway|security_group|"
            r"security_group_rule|network_interface|virtual_network|network_security_group|"
            r"firewall|eip|public_ip|network|networking_\w+|access_control_group\w*|"
            r"network_acl\w*|lb_listener|lb_target_group|lb_target_group_attachment)(_v\d)?$"
        ),
        "network plumbing: no capacity to place; recreate it in the target regions "
        "(the exported Terraform takes networks as variables)",
    ),
    (
        re.compile(
            r"_(iam_\w+|role\w*|policy\w*|service_account\w*|key_pair|login_key|keypair\w*)"
        ),
        "identity or access: no capacity to place; it moves with the account, not the workload",
    ),
    (
        re.compile(r"_(route53_\w+|dns_\w+|cloudwatch_\w+|monitor\w*|log_\w+|kms_\w+|secret\w*)"),
        "operations (DNS, monitoring, keys, secrets): no capacity to place",
    ),
    (
        re.compile(
            r"_(resource_group|project\w*|db_subnet_group|db_parameter_group|sql_database|"
            r"sql_user|storage_container|s3_bucket_\w+|storage_bucket_\w+|eks_addon)$"
        ),
        "configuration of another resource: nothing of its own to place",
    ),
]
# the resources that join a balancer to its backends: listeners and forwarding rules, target
# groups and their attachments (AWS, Naver), backend pools, their rules and the network interfaces
# they hold (Azure), backend services, target pools and proxies, URL maps and instance groups
# (Google). A mapped resource reached from a balancer through these alone is one it fronts;
# subnets and security groups are not followed, as every tier shares them.
_BALANCER_LINK = re.compile(
    r"_(lb_listener\w*|alb_listener\w*|lb_target_group\w*|alb_target_group\w*|"
    r"autoscaling_attachment|lb_backend_address_pool\w*|lb_rule|lb_nat_rule|"
    r"network_interface|network_interface_backend_address_pool_association|"
    r"compute_(region_)?backend_service|compute_target_pool|compute_(region_)?target_\w+_proxy|"
    r"compute_(region_)?url_map|compute_(region_)?instance_group(_manager)?)$"
)
_UTILITY_PROVIDERS = {"random", "null", "time", "tls", "local", "archive", "external", "http"}


def _skip_reason(resource_type: str, provider: str | None) -> str:
    short = resource_type.split("_", 1)[0]
    if provider is None and short in _UTILITY_PROVIDERS:
        return f"a `{short}` utility resource: it runs inside Terraform, nothing to place"
    if provider is None:
        return (
            "its provider is none of aws, azurerm, google, ncloud, openstack; add the service to "
            "the spec by hand"
        )
    for pattern, reason in _NOT_CAPACITY:
        if pattern.search(resource_type):
            return reason
    if _BALANCER_LINK.search(resource_type):
        return (
            "joins a load balancer to its backends: no capacity to place; read to keep the "
            "balancer near the services it fronts"
        )
    return (
        f"type `{resource_type}` is not in the mapping table (docs/interop.md); add the service "
        "to the spec by hand"
    )


def _dict(value: Any) -> dict[str, Any]:
    """A mapping of the plan, or {} where it holds something else (a malformed plan is reported
    resource by resource, never a crash)."""
    return value if isinstance(value, dict) else {}


def _items(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _resources(module: dict[str, Any], depth: int = 0) -> Iterator[dict[str, Any]]:
    """Every resource of a planned-values module and its child modules, depth first."""
    yield from _items(module.get("resources"))
    if depth < 64:  # deeper nesting is no real configuration
        for child in _items(module.get("child_modules")):
            yield from _resources(child, depth + 1)


def _provider(provider_name: str) -> str | None:
    return PROVIDERS.get(provider_name.rsplit("/", 1)[-1].lower())


def _config_keys(configuration: dict[str, Any]) -> dict[str, str]:
    """Resource address without instance key -> the provider block it uses (`aws.seoul`)."""
    out: dict[str, str] = {}

    def walk(module: dict[str, Any], prefix: str, depth: int) -> None:
        for r in _items(module.get("resources")):
            if r.get("address") and r.get("provider_config_key"):
                out[prefix + str(r["address"])] = str(r["provider_config_key"])
        for name, call in _dict(module.get("module_calls")).items():
            if isinstance(call, dict) and isinstance(call.get("module"), dict) and depth < 64:
                walk(call["module"], f"{prefix}module.{name}.", depth + 1)

    walk(_dict(configuration.get("root_module")), "", 0)
    return out


_NOT_RESOURCES = ("var.", "local.", "data.", "module.", "count.", "each.", "path.", "self.")


def _reference_lists(expression: Any, depth: int = 0) -> Iterator[str]:
    """Every `references` entry of an expression tree (blocks nest as lists of mappings)."""
    if depth > 64:
        return
    if isinstance(expression, dict):
        for key, value in expression.items():
            if key == "references" and isinstance(value, list):
                yield from (v for v in value if isinstance(v, str))
            else:
                yield from _reference_lists(value, depth + 1)
    elif isinstance(expression, list):
        for value in expression:
            yield from _reference_lists(value, depth + 1)


def _references(configuration: dict[str, Any]) -> list[tuple[str, str]]:
    """(resource, resource it refers to) by address without instance keys, from the expressions
    of the configuration: a web server whose `user_data` names the database's address calls the
    database. References to variables, locals, data sources and module outputs are not read."""
    out: list[tuple[str, str]] = []

    def walk(module: dict[str, Any], prefix: str, depth: int) -> None:
        for r in _items(module.get("resources")):
            if not isinstance(r.get("address"), str):
                continue
            for ref in _reference_lists(r.get("expressions")):
                if ref.startswith(_NOT_RESOURCES):
                    continue
                parts = re.sub(r"\[[^\]]*\]", "", ref).split(".")
                if len(parts) >= 2:
                    out.append((prefix + r["address"], prefix + ".".join(parts[:2])))
        for name, call in _dict(module.get("module_calls")).items():
            if isinstance(call, dict) and isinstance(call.get("module"), dict) and depth < 64:
                walk(call["module"], f"{prefix}module.{name}.", depth + 1)

    walk(_dict(configuration.get("root_module")), "", 0)
    return out


def _type_of(address: str) -> str:
    """The resource type of an address (`module.m.aws_lb.web` -> `aws_lb`), "" if it has none."""
    parts = address.split(".")
    return parts[-2] if len(parts) >= 2 else ""


def _fronted(
    balancers: list[str], group_of: dict[str, str], refs: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    """(balancer, resource it fronts) by address without instance keys: the mapped resources a
    balancer reaches through listeners, target groups, backend pools and the like, whichever
    way each of them refers to the next (a listener names its balancer, an attachment names the
    instance)."""
    near: dict[str, set[str]] = {}
    for a, b in refs:
        near.setdefault(a, set()).add(b)
        near.setdefault(b, set()).add(a)
    out: list[tuple[str, str]] = []
    for balancer in balancers:
        seen, todo = {balancer}, [balancer]
        while todo:
            for other in sorted(near.get(todo.pop(), ())):
                if other in seen:
                    continue
                seen.add(other)
                if other in group_of:
                    out.append((balancer, other))
                elif _BALANCER_LINK.search(_type_of(other)):
                    todo.append(other)
    return out


def _provider_regions(configuration: dict[str, Any]) -> dict[str, str]:
    """Provider block key -> the region (or location) it sets as a literal."""
    out: dict[str, str] = {}
    for key, block in _dict(configuration.get("provider_config")).items():
        expressions = _dict(_dict(block).get("expressions"))
        for attr in ("region", "location"):
            value = _dict(expressions.get(attr)).get("constant_value")
            if isinstance(value, str):
                out[key] = value
                break
    return out


def _raw_region(values: dict[str, Any]) -> str | None:
    for key in ("region", "location", "zone", "availability_zone"):
        value = values.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _wanted_name(address: str, name: str) -> str:
    """A resource's name, or its module's when the name is a convention like `this`."""
    modules = re.findall(r"module\.([A-Za-z0-9_\-]+)", address)
    return modules[-1] if name in GENERIC_NAMES and modules else name


def _base_address(address: str) -> str:
    return re.sub(r"\[[^\]]*\]$", "", address)


def check_plan_json(data: Any, source: str) -> dict[str, Any]:
    """The plan JSON's top level, or an InputError saying what it should be."""
    how = "write it with `terraform show -json PLANFILE > plan.json` (or `tofu show -json`)"
    if not isinstance(data, dict):
        raise InputError([Problem(source, "", "", "the top level must be a JSON object", fix=how)])
    if "planned_values" not in data and "resource_changes" not in data:
        found = ", ".join(sorted(map(str, data))[:8]) or "nothing"
        raise InputError(
            [
                Problem(
                    source,
                    "",
                    "",
                    f"not the JSON of a Terraform plan: no `planned_values` or "
                    f"`resource_changes` (found {found})",
                    fix=how + "; a state file (`terraform show -json` without a plan) has "
                    "`values` instead and is not read",
                )
            ]
        )
    root = _dict(data.get("planned_values")).get("root_module")
    if root is not None and not isinstance(root, dict):
        raise InputError(
            [Problem(source, "planned_values.root_module", "", "must be an object", fix=how)]
        )
    return data


def import_terraform(
    data: Any,
    regions: pd.DataFrame | None,
    source: str = "plan.json",
    app: str = "imported",
    bucket_gb: float = DEFAULT_BUCKET_GB,
    max_latency_ms: float = DEFAULT_MAX_LATENCY_MS,
) -> ImportResult:
    """A spec from a Terraform plan's JSON (`regions`: the catalog's regions table, for the user
    groups; None leaves them out)."""
    plan = check_plan_json(data, source)
    configuration = _dict(plan.get("configuration"))
    config_key = _config_keys(configuration)
    provider_region = _provider_regions(configuration)
    deleted = [
        str(c.get("address"))
        for c in _items(plan.get("resource_changes"))
        if _dict(c.get("change")).get("actions") == ["delete"]
    ]
    root = _dict(_dict(plan.get("planned_values")).get("root_module"))
    found: list[Found] = []
    skipped = [Skipped(a, "the plan deletes it") for a in deleted]
    clusters: dict[tuple[str, str], str] = {}  # (provider, cluster name or id) -> group
    # node pools, joined to their cluster once every cluster is known
    pools: list[tuple[dict[str, Any], Mapping, str, str | None, dict[str, float]]] = []
    used_bucket_default = False
    for r in _resources(root):
        address = str(r.get("address", "?"))
        rtype = str(r.get("type", ""))
        if r.get("mode") == "data":
            skipped.append(Skipped(address, "a data source: it reads, it creates nothing"))
            continue
        provider = _provider(str(r.get("provider_name", "")))
        mapping = MAPPINGS.get(rtype)
        if provider is None or mapping is None:
            skipped.append(Skipped(address, _skip_reason(rtype, provider)))
            continue
        values: dict[str, Any] = r["values"] if isinstance(r.get("values"), dict) else {}
        key = config_key.get(_base_address(address)) or rtype.split("_", 1)[0]
        raw_region = _raw_region(values) or provider_region.get(key)
        region = canonical_region(provider, raw_region, regions)
        try:
            demand = mapping.demand(provider, values, bucket_gb)
        except _Skip as why:
            skipped.append(Skipped(address, str(why)))
            continue
        except (TypeError, ValueError, AttributeError, IndexError, KeyError) as exc:
            skipped.append(
                Skipped(
                    address, f"its values are not as `terraform show -json` writes them ({exc})"
                )
            )
            continue
        used_bucket_default |= mapping.demand is _bucket
        group = _base_address(address)
        if mapping.joins_cluster:
            pools.append((r, mapping, provider, region, demand))
            continue
        if mapping.demand is _control_plane or rtype in (
            "azurerm_kubernetes_cluster",
            "google_container_cluster",
        ):
            for ident in ("name", "id", "uuid"):
                if isinstance(values.get(ident), str):
                    clusters[(provider, values[ident])] = group
        name = _wanted_name(address, str(r.get("name") or rtype))
        found.append(
            Found(
                address,
                group,
                name,
                mapping.category,
                mapping.tier,
                demand,
                mapping.stateful,
                mapping.user_facing,
                region,
            )
        )
    for r, mapping, provider, region, demand in pools:
        address = str(r.get("address"))
        target = _dict(r.get("values")).get(mapping.joins_cluster or "")
        same = [g for (p, _), g in clusters.items() if p == provider]
        group = clusters.get((provider, str(target))) or (
            same[0] if len(set(same)) == 1 else _base_address(address)
        )
        found.append(
            Found(
                address,
                group,
                _wanted_name(address, str(r.get("name"))),
                mapping.category,
                mapping.tier,
                demand,
                False,
                False,
                region,
            )
        )
    # a cluster without nodes has nothing to size
    sized = {f.group for f in found if any(v > 0 for v in f.demand.values())}
    for f in [f for f in found if f.group not in sized]:
        skipped.append(
            Skipped(f.address, "a cluster without node pools in this plan: nothing to size")
        )
    found = [f for f in found if f.group in sized]
    group_of = {_base_address(f.address): f.group for f in found}
    refs = _references(configuration)
    balancers = sorted({_base_address(f.address) for f in found if f.category == "network.lb"})
    # balancers first: where a backend also names its balancer (its public URL, say), the
    # balancer's tie is the one kept
    calls = [
        Call(group_of[a], group_of[b], BALANCER_LATENCY_MS)
        for a, b in _fronted(balancers, group_of, refs)
        if group_of[b] not in {group_of[x] for x in balancers}
    ]
    calls += [Call(group_of[a], group_of[b]) for a, b in refs if a in group_of and b in group_of]
    unknown = sorted({f.address for f in found if f.region is None})
    return finish_import(
        found,
        skipped,
        calls,
        tool="terraform",
        source=source,
        app=app,
        description=f"Imported from the Terraform plan {source}.",
        regions=regions,
        max_latency_ms=max_latency_ms,
        nothing="no resource of this plan maps to a service",
        fix="check that it is the plan of the application (instances, databases, "
        "buckets, clusters); docs/interop.md lists the types read",
        header=[
            f"Terraform {plan.get('terraform_version', '?')}, plan format "
            f"{plan.get('format_version', '?')}."
        ],
        assumed_first=[
            f"a bucket's size is not in a Terraform plan: each bucket counts {bucket_gb:g} GB "
            "(--bucket-gb)"
        ]
        if used_bucket_default
        else [],
        assumed_last=[
            "no catalog region for "
            + ", ".join(unknown[:5])
            + (" ..." if len(unknown) > 5 else "")
            + ": no user group placed for them"
        ]
        if unknown
        else [],
    )
