"""`mcplan export PLAN.json --to terraform DIR`: the plan as Terraform, one folder per provider.

Each folder holds `versions.tf` (the provider's source), `providers.tf` (one provider block per
region of the plan, aliased by region), `main.tf` (the plan's sized resources: VMs, block volumes,
managed databases, buckets, Kubernetes clusters with their node pools), `variables.tf` (what the
plan cannot know: networks, images, credentials, passwords), `terraform.tfvars.example` and a
README.md that says what to fill in and what was not generated.

The functions are pure: `export_terraform(plan_json)` returns {relative path: text}; the command
writes the files.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .hcl import Block, Ref, identifier, render_all
from .planjson import check_plan, region_code


@dataclass(frozen=True)
class Variable:
    type: str
    description: str
    default: Any = None  # None: the user must give a value
    sensitive: bool = False
    example: Any = None  # shown in terraform.tfvars.example (keyed by region for maps)


@dataclass
class Context:
    """What one provider folder is being built from, and the variables its resources use."""

    provider: str
    tf_name: str  # the provider's local name in Terraform: `aws`, `azurerm`, `ncloud`
    app: str
    variables: dict[str, Variable]
    used: set[str] = field(default_factory=set)
    keys: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # of map variables
    regions: set[str] = field(default_factory=set)
    not_generated: list[dict[str, Any]] = field(default_factory=list)

    def var(self, name: str, key: str | None = None) -> Ref:
        self.used.add(name)
        if key is not None:
            self.keys[name].add(key)
        return Ref(f'var.{name}["{key}"]' if key is not None else f"var.{name}")


@dataclass(frozen=True)
class ProviderKind:
    tf_name: str  # the provider's local name in Terraform
    source: str  # its registry source
    version: str
    provider_body: Callable[[Context, str], list[tuple[str, Any] | Block]]  # (ctx, region id)
    builders: dict[str, Callable[[Context, str, str, list[dict[str, Any]]], list[Block]]]
    variables: dict[str, Variable]


def _prefix(ctx: Context) -> Ref:
    ctx.used.add("name_prefix")
    return Ref("var.name_prefix")


def _name(ctx: Context, service: str, region: str, sep: str = "-") -> Ref:
    """An interpolated name: `${var.name_prefix}-web-ap-northeast-2`."""
    ctx.used.add("name_prefix")
    tail = f"{service}{sep}{region_code(region)}".lower().replace("_", sep).replace("/", sep)
    return Ref(f'"${{var.name_prefix}}{sep}{tail}"')


def _alias(ctx: Context, region: str) -> Ref:
    return Ref(f"{ctx.tf_name}.{identifier(region_code(region))}")


def _units(rows: list[dict[str, Any]]) -> int:
    return int(sum(int(r["units"]) for r in rows))


def _gb(rows: list[dict[str, Any]]) -> int:
    """Total GB of storage rows (units x the unit's capacity)."""
    total = 0.0
    for r in rows:
        per_unit = ((r.get("capacity") or {}).get("per_unit") or {}).get("storage_gb", 100.0)
        total += float(per_unit) * int(r["units"])
    return int(math.ceil(total))


def _split(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(instance rows, storage-only rows) of one service's database placements in a region."""
    storage = [
        r for r in rows if set((r.get("capacity") or {}).get("per_unit", {})) == {"storage_gb"}
    ]
    return [r for r in rows if r not in storage], storage


def _tags(service: str, role: str) -> dict[str, str]:
    # lower case: Google labels accept no capitals, and one spelling everywhere reads better
    return {"service": service.lower(), "role": role, "planned-by": "mcplan"}


def _comment(rows: list[dict[str, Any]]) -> str:
    cost = sum(float(r.get("usd_per_month", 0.0)) for r in rows)
    skus = ", ".join(f"{r['units']} x {r['sku']}" for r in rows)
    return f"{rows[0]['service']} ({rows[0]['role']}): {skus}; {cost:,.2f} USD/month in the plan"


# ------------------------------------------------------------------ AWS
def _aws_provider(ctx: Context, region: str) -> list[tuple[str, Any] | Block]:
    return [
        ("alias", identifier(region_code(region))),
        ("region", region_code(region)),
        ("profile", ctx.var("aws_profile")),
    ]


def _aws_vm(ctx: Context, service: str, region: str, rows: list[dict[str, Any]]) -> list[Block]:
    code = region_code(region)
    ctx.used.add("subnet_ids")
    return [
        Block(
            "resource",
            ("aws_instance", identifier(service, code, r["sku"])),
            (
                ("provider", _alias(ctx, region)),
                ("count", int(r["units"])),
                ("instance_type", r["sku"]),
                ("ami", ctx.var("image_ids", code)),
                ("subnet_id", Ref(f'element(var.subnet_ids["{code}"], count.index)')),
                ("tags", _tags(service, r["role"])),
            ),
            _comment([r]),
        )
        for r in rows
    ]


def _aws_disk(ctx: Context, service: str, region: str, rows: list[dict[str, Any]]) -> list[Block]:
    code = region_code(region)
    return [
        Block(
            "resource",
            ("aws_ebs_volume", identifier(service, code, "volume")),
            (
                ("provider", _alias(ctx, region)),
                ("availability_zone", ctx.var("availability_zones", code)),
                ("size", _gb(rows)),
                ("type", "gp3"),
                ("tags", _tags(service, rows[0]["role"])),
            ),
            _comment(rows),
        )
    ]


def _aws_db(ctx: Context, service: str, region: str, rows: list[dict[str, Any]]) -> list[Block]:
    code = region_code(region)
    instances, storage = _split(rows)
    out = []
    for r in instances:
        multi_az = r["sku"].endswith("-multiaz")
        count = int(r["units"])
        out.append(
            Block(
                "resource",
                ("aws_db_instance", identifier(service, code, r["sku"])),
                (
                    ("provider", _alias(ctx, region)),
                    ("count", count),
                    ("identifier_prefix", _name(ctx, service, region)),
                    ("instance_class", r["sku"].removesuffix("-multiaz")),
                    ("multi_az", multi_az),
                    ("engine", ctx.var("db_engine")),
                    # the plan's storage for this service here, shared by its instances
                    (
                        "allocated_storage",
                        max(20, math.ceil(_gb(storage) / count)) if storage else 20,
                    ),
                    ("storage_type", "gp3"),
                    ("username", ctx.var("db_username")),
                    ("password", ctx.var("db_password")),
                    ("db_subnet_group_name", ctx.var("db_subnet_group_names", code)),
                    ("skip_final_snapshot", False),
                    ("tags", _tags(service, r["role"])),
                ),
                _comment([r, *storage]),
            )
        )
    return out


def _aws_bucket(ctx: Context, service: str, region: str, rows: list[dict[str, Any]]) -> list[Block]:
    code = region_code(region)
    return [
        Block(
            "resource",
            ("aws_s3_bucket", identifier(service, code)),
            (
                ("provider", _alias(ctx, region)),
                ("bucket", _name(ctx, service, region)),
                ("tags", _tags(service, rows[0]["role"])),
            ),
            _comment(rows) + f"\nabout {_gb(rows)} GB planned (a bucket has no size to set)",
        )
    ]


def _aws_k8s(ctx: Context, service: str, region: str, rows: list[dict[str, Any]]) -> list[Block]:
    code = region_code(region)
    cluster = identifier(service, code)
    out = [
        Block(
            "resource",
            ("aws_eks_cluster", cluster),
            (
                ("provider", _alias(ctx, region)),
                ("name", _name(ctx, service, region)),
                ("role_arn", ctx.var("eks_cluster_role_arn")),
                Block("vpc_config", body=(("subnet_ids", ctx.var("subnet_ids", code)),)),
                ("tags", _tags(service, rows[0]["role"])),
            ),
            _comment(rows),
        )
    ]
    for r in rows:
        n = int(r["units"])
        out.append(
            Block(
                "resource",
                ("aws_eks_node_group", identifier(service, code, r["sku"])),
                (
                    ("provider", _alias(ctx, region)),
                    ("cluster_name", Ref(f"aws_eks_cluster.{cluster}.name")),
                    ("node_group_name", r["sku"].replace(".", "-")),
                    ("node_role_arn", ctx.var("eks_node_role_arn")),
                    ("subnet_ids", ctx.var("subnet_ids", code)),
                    ("instance_types", [r["sku"].removeprefix("eks-")]),
                    Block(
                        "scaling_config",
                        body=(("desired_size", n), ("min_size", n), ("max_size", n)),
                    ),
                ),
            )
        )
    return out


# ------------------------------------------------------------------ Azure
def _az_group(ctx: Context, region: str) -> str:
    return f"azurerm_resource_group.{identifier(region_code(region))}.name"


def _azure_provider(ctx: Context, region: str) -> list[tuple[str, Any] | Block]:
    return [
        ("alias", identifier(region_code(region))),
        ("subscription_id", ctx.var("subscription_id")),
        Block("features"),
    ]


def _azure_vm(ctx: Context, service: str, region: str, rows: list[dict[str, Any]]) -> list[Block]:
    code = region_code(region)
    out = []
    for r in rows:
        base = identifier(service, code, r["sku"])
        common = (
            ("provider", _alias(ctx, region)),
            ("count", int(r["units"])),
            ("resource_group_name", Ref(_az_group(ctx, region))),
            ("location", code),
        )
        out += [
            Block(
                "resource",
                ("azurerm_network_interface", base),
                (
                    *common,
                    ("name", Ref(f'"${{var.name_prefix}}-{service}-{code}-${{count.index}}"')),
                    Block(
                        "ip_configuration",
                        body=(
                            ("name", "internal"),
                            ("subnet_id", ctx.var("subnet_ids", code)),
                            ("private_ip_address_allocation", "Dynamic"),
                        ),
                    ),
                ),
            ),
            Block(
                "resource",
                ("azurerm_linux_virtual_machine", base),
                (
                    *common,
                    ("name", Ref(f'"${{var.name_prefix}}-{service}-{code}-${{count.index}}"')),
                    ("size", r["sku"]),
                    ("admin_username", ctx.var("admin_username")),
                    (
                        "network_interface_ids",
                        Ref(f"[azurerm_network_interface.{base}[count.index].id]"),
                    ),
                    ("source_image_id", ctx.var("image_ids", code)),
                    Block(
                        "admin_ssh_key",
                        body=(
                            ("username", ctx.var("admin_username")),
                            ("public_key", ctx.var("ssh_public_key")),
                        ),
                    ),
                    Block(
                        "os_disk",
                        body=(("caching", "ReadWrite"), ("storage_account_type", "Premium_LRS")),
                    ),
                    ("tags", _tags(service, r["role"])),
                ),
                _comment([r]),
            ),
        ]
    ctx.used.add("name_prefix")
    return out


def _azure_disk(ctx: Context, service: str, region: str, rows: list[dict[str, Any]]) -> list[Block]:
    code = region_code(region)
    return [
        Block(
            "resource",
            ("azurerm_managed_disk", identifier(service, code, "disk")),
            (
                ("provider", _alias(ctx, region)),
                ("name", _name(ctx, service, region)),
                ("resource_group_name", Ref(_az_group(ctx, region))),
                ("location", code),
                ("storage_account_type", "PremiumV2_LRS"),
                ("create_option", "Empty"),
                ("disk_size_gb", _gb(rows)),
                ("tags", _tags(service, rows[0]["role"])),
            ),
            _comment(rows),
        )
    ]


# the storage sizes Azure Database for PostgreSQL flexible server accepts, MB
_PG_FLEX_STORAGE_MB = (
    32768,
    65536,
    131072,
    262144,
    524288,
    1048576,
    2097152,
    4193280,
    8388608,
    16777216,
    33553408,
)


def _azure_db(ctx: Context, service: str, region: str, rows: list[dict[str, Any]]) -> list[Block]:
    code = region_code(region)
    instances, storage = _split(rows)
    out = []
    for r in instances:
        count = int(r["units"])
        want_mb = math.ceil(_gb(storage) / count) * 1024 if storage else 0
        storage_mb = next(
            (mb for mb in _PG_FLEX_STORAGE_MB if mb >= want_mb), _PG_FLEX_STORAGE_MB[-1]
        )
        sku = r["sku"].removeprefix("pgflex-").removesuffix("-zrha")
        body: list[tuple[str, Any] | Block] = [
            ("provider", _alias(ctx, region)),
            ("count", count),
            ("name", Ref(f'"${{var.name_prefix}}-{service}-{code}-${{count.index}}"')),
            ("resource_group_name", Ref(_az_group(ctx, region))),
            ("location", code),
            ("version", ctx.var("postgresql_version")),
            ("sku_name", f"GP_{sku}"),  # General Purpose tier: GP_Standard_D2ds_v5
            ("storage_mb", storage_mb),
            ("administrator_login", ctx.var("db_admin_login")),
            ("administrator_password", ctx.var("db_admin_password")),
            ("delegated_subnet_id", ctx.var("db_subnet_ids", code)),
        ]
        if r["sku"].endswith("-zrha"):
            body.append(Block("high_availability", body=(("mode", "ZoneRedundant"),)))
        body.append(("tags", _tags(service, r["role"])))
        out.append(
            Block(
                "resource",
                ("azurerm_postgresql_flexible_server", identifier(service, code, sku)),
                tuple(body),
                _comment([r, *storage]),
            )
        )
    ctx.used.add("name_prefix")
    return out


def _azure_bucket(
    ctx: Context, service: str, region: str, rows: list[dict[str, Any]]
) -> list[Block]:
    code = region_code(region)
    name = identifier(service, code)
    account = Ref(
        f'substr(replace(lower("${{var.name_prefix}}{service}{code}"), "/[^a-z0-9]/", ""), 0, 24)'
    )
    ctx.used.add("name_prefix")
    return [
        Block(
            "resource",
            ("azurerm_storage_account", name),
            (
                ("provider", _alias(ctx, region)),
                ("name", account),
                ("resource_group_name", Ref(_az_group(ctx, region))),
                ("location", code),
                ("account_tier", "Standard"),
                ("account_replication_type", "LRS"),
                ("access_tier", "Hot"),
                ("tags", _tags(service, rows[0]["role"])),
            ),
            _comment(rows) + f"\nabout {_gb(rows)} GB planned (an account has no size to set)",
        ),
        Block(
            "resource",
            ("azurerm_storage_container", name),
            (
                ("provider", _alias(ctx, region)),
                ("name", service.lower()),
                ("storage_account_id", Ref(f"azurerm_storage_account.{name}.id")),
            ),
        ),
    ]


def _azure_k8s(ctx: Context, service: str, region: str, rows: list[dict[str, Any]]) -> list[Block]:
    code = region_code(region)
    cluster = identifier(service, code)
    first, rest = rows[0], rows[1:]
    out = [
        Block(
            "resource",
            ("azurerm_kubernetes_cluster", cluster),
            (
                ("provider", _alias(ctx, region)),
                ("name", _name(ctx, service, region)),
                ("resource_group_name", Ref(_az_group(ctx, region))),
                ("location", code),
                ("dns_prefix", _name(ctx, service, region)),
                Block(
                    "default_node_pool",
                    body=(
                        ("name", "default"),
                        ("vm_size", first["sku"].removeprefix("aks-")),
                        ("node_count", int(first["units"])),
                        ("vnet_subnet_id", ctx.var("subnet_ids", code)),
                    ),
                ),
                Block("identity", body=(("type", "SystemAssigned"),)),
                ("tags", _tags(service, first["role"])),
            ),
            _comment(rows),
        )
    ]
    for i, r in enumerate(rest, start=2):
        out.append(
            Block(
                "resource",
                ("azurerm_kubernetes_cluster_node_pool", identifier(service, code, r["sku"])),
                (
                    ("provider", _alias(ctx, region)),
                    ("name", f"pool{i}"),
                    ("kubernetes_cluster_id", Ref(f"azurerm_kubernetes_cluster.{cluster}.id")),
                    ("vm_size", r["sku"].removeprefix("aks-")),
                    ("node_count", int(r["units"])),
                    ("vnet_subnet_id", ctx.var("subnet_ids", code)),
                ),
            )
        )
    return out


# ------------------------------------------------------------------ Google Cloud
def _gcp_provider(ctx: Context, region: str) -> list[tuple[str, Any] | Block]:
    return [
        ("alias", identifier(region_code(region))),
        ("project", ctx.var("project_id")),
        ("region", region_code(region)),
    ]


def _gcp_vm(ctx: Context, service: str, region: str, rows: list[dict[str, Any]]) -> list[Block]:
    code = region_code(region)
    ctx.used.add("name_prefix")
    return [
        Block(
            "resource",
            ("google_compute_instance", identifier(service, code, r["sku"])),
            (
                ("provider", _alias(ctx, region)),
                ("count", int(r["units"])),
                ("name", Ref(f'"${{var.name_prefix}}-{service.lower()}-{code}-${{count.index}}"')),
                ("machine_type", r["sku"]),
                ("zone", ctx.var("zones", code)),
                Block(
                    "boot_disk",
                    body=(Block("initialize_params", body=(("image", ctx.var("image")),)),),
                ),
                Block("network_interface", body=(("subnetwork", ctx.var("subnetworks", code)),)),
                ("labels", _tags(service, r["role"])),
            ),
            _comment([r]),
        )
        for r in rows
    ]


def _gcp_disk(ctx: Context, service: str, region: str, rows: list[dict[str, Any]]) -> list[Block]:
    code = region_code(region)
    return [
        Block(
            "resource",
            ("google_compute_disk", identifier(service, code, "disk")),
            (
                ("provider", _alias(ctx, region)),
                ("name", _name(ctx, service, region)),
                ("type", "pd-balanced"),
                ("zone", ctx.var("zones", code)),
                ("size", _gb(rows)),
            ),
            _comment(rows),
        )
    ]


def _gcp_db(ctx: Context, service: str, region: str, rows: list[dict[str, Any]]) -> list[Block]:
    code = region_code(region)
    instances, storage = _split(rows)
    ctx.used.add("name_prefix")
    out = []
    for r in instances:
        count = int(r["units"])
        ha = r["sku"].endswith("-ha")
        out.append(
            Block(
                "resource",
                ("google_sql_database_instance", identifier(service, code, r["sku"])),
                (
                    ("provider", _alias(ctx, region)),
                    ("count", count),
                    (
                        "name",
                        Ref(f'"${{var.name_prefix}}-{service.lower()}-{code}-${{count.index}}"'),
                    ),
                    ("region", code),
                    ("database_version", ctx.var("database_version")),
                    ("deletion_protection", True),
                    Block(
                        "settings",
                        body=(
                            ("tier", r["sku"].removesuffix("-ha")),
                            ("availability_type", "REGIONAL" if ha else "ZONAL"),
                            ("disk_type", "PD_SSD"),
                            (
                                "disk_size",
                                max(10, math.ceil(_gb(storage) / count)) if storage else 10,
                            ),
                        ),
                    ),
                ),
                _comment([r, *storage]),
            )
        )
    return out


def _gcp_bucket(ctx: Context, service: str, region: str, rows: list[dict[str, Any]]) -> list[Block]:
    code = region_code(region)
    return [
        Block(
            "resource",
            ("google_storage_bucket", identifier(service, code)),
            (
                ("provider", _alias(ctx, region)),
                ("name", _name(ctx, service, region)),
                ("location", code.upper()),
                ("storage_class", "STANDARD"),
                ("uniform_bucket_level_access", True),
                ("labels", _tags(service, rows[0]["role"])),
            ),
            _comment(rows) + f"\nabout {_gb(rows)} GB planned (a bucket has no size to set)",
        )
    ]


def _gcp_k8s(ctx: Context, service: str, region: str, rows: list[dict[str, Any]]) -> list[Block]:
    code = region_code(region)
    cluster = identifier(service, code)
    out = [
        Block(
            "resource",
            ("google_container_cluster", cluster),
            (
                ("provider", _alias(ctx, region)),
                ("name", _name(ctx, service, region)),
                # a zonal cluster: a node pool's node_count is then the plan's units exactly
                ("location", ctx.var("zones", code)),
                ("remove_default_node_pool", True),
                ("initial_node_count", 1),
                ("network", ctx.var("networks", code)),
                ("subnetwork", ctx.var("subnetworks", code)),
                ("deletion_protection", True),
            ),
            _comment(rows),
        )
    ]
    for r in rows:
        out.append(
            Block(
                "resource",
                ("google_container_node_pool", identifier(service, code, r["sku"])),
                (
                    ("provider", _alias(ctx, region)),
                    ("name", r["sku"]),
                    ("cluster", Ref(f"google_container_cluster.{cluster}.id")),
                    ("node_count", int(r["units"])),
                    Block("node_config", body=(("machine_type", r["sku"].removeprefix("gke-")),)),
                ),
            )
        )
    return out


# ------------------------------------------------------------------ Naver Cloud (ncloud)
def _ncloud_provider(ctx: Context, region: str) -> list[tuple[str, Any] | Block]:
    return [
        ("alias", identifier(region_code(region))),
        ("region", region_code(region)),
        ("site", "public"),
        ("support_vpc", True),
        ("access_key", ctx.var("ncloud_access_key")),
        ("secret_key", ctx.var("ncloud_secret_key")),
    ]


def _ncloud_vm(ctx: Context, service: str, region: str, rows: list[dict[str, Any]]) -> list[Block]:
    code = region_code(region)
    ctx.used.add("name_prefix")
    return [
        Block(
            "resource",
            ("ncloud_server", identifier(service, code, r["sku"])),
            (
                ("provider", _alias(ctx, region)),
                ("count", int(r["units"])),
                ("name", Ref(f'"${{var.name_prefix}}-{service.lower()}-${{count.index}}"')),
                ("subnet_no", ctx.var("subnet_nos", code)),
                ("server_image_number", ctx.var("server_image_numbers", code)),
                ("server_spec_code", r["sku"]),
                ("login_key_name", ctx.var("login_key_name")),
            ),
            _comment([r]),
        )
        for r in rows
    ]


# Naver block storage volumes hold at most 2,000 GB each
_NCLOUD_MAX_VOLUME_GB = 2000


def _ncloud_disk(
    ctx: Context, service: str, region: str, rows: list[dict[str, Any]]
) -> list[Block]:
    code = region_code(region)
    gb = _gb(rows)
    count = max(1, math.ceil(gb / _NCLOUD_MAX_VOLUME_GB))
    return [
        Block(
            "resource",
            ("ncloud_block_storage", identifier(service, code, "volume")),
            (
                ("provider", _alias(ctx, region)),
                ("count", count),
                ("name", Ref(f'"${{var.name_prefix}}-{service.lower()}-${{count.index}}"')),
                ("size", math.ceil(gb / count)),
                # a volume is created attached: give the server it belongs to
                ("server_instance_no", ctx.var("block_storage_server_nos", code)),
            ),
            _comment(rows),
        )
    ]


def _ncloud_db(ctx: Context, service: str, region: str, rows: list[dict[str, Any]]) -> list[Block]:
    code = region_code(region)
    instances, storage = _split(rows)
    ctx.used.add("name_prefix")
    out = []
    for r in instances:
        size = r["sku"].removeprefix("clouddb-postgresql-").removesuffix("-ha")
        out.append(
            Block(
                "resource",
                ("ncloud_postgresql", identifier(service, code, r["sku"])),
                (
                    ("provider", _alias(ctx, region)),
                    ("count", int(r["units"])),
                    (
                        "service_name",
                        Ref(f'"${{var.name_prefix}}-{service.lower()}-${{count.index}}"'),
                    ),
                    ("server_name_prefix", service.lower()[:10]),
                    ("vpc_no", ctx.var("vpc_nos", code)),
                    ("subnet_no", ctx.var("subnet_nos", code)),
                    ("user_name", ctx.var("db_user_name")),
                    ("user_password", ctx.var("db_user_password")),
                    ("client_cidr", ctx.var("db_client_cidr")),
                    ("database_name", service.lower().replace("-", "_")[:30]),
                    ("is_ha", r["sku"].endswith("-ha")),
                    # the NCP product code of this size (vCPU and memory in the key)
                    ("product_code", ctx.var("postgresql_product_codes", size)),
                ),
                _comment([r, *storage]) + f"\nstorage planned: {_gb(storage)} GB",
            )
        )
    return out


def _ncloud_bucket(
    ctx: Context, service: str, region: str, rows: list[dict[str, Any]]
) -> list[Block]:
    code = region_code(region)
    return [
        Block(
            "resource",
            ("ncloud_objectstorage_bucket", identifier(service, code)),
            (
                ("provider", _alias(ctx, region)),
                ("bucket_name", _name(ctx, service, region)),
            ),
            _comment(rows) + f"\nabout {_gb(rows)} GB planned (a bucket has no size to set)",
        )
    ]


def _ncloud_k8s(ctx: Context, service: str, region: str, rows: list[dict[str, Any]]) -> list[Block]:
    code = region_code(region)
    cluster = identifier(service, code)
    out = [
        Block(
            "resource",
            ("ncloud_nks_cluster", cluster),
            (
                ("provider", _alias(ctx, region)),
                ("name", _name(ctx, service, region)),
                ("cluster_type", ctx.var("nks_cluster_type")),
                ("login_key_name", ctx.var("login_key_name")),
                ("zone", ctx.var("zones", code)),
                ("vpc_no", ctx.var("vpc_nos", code)),
                ("subnet_no_list", [ctx.var("subnet_nos", code)]),
                ("lb_private_subnet_no", ctx.var("lb_subnet_nos", code)),
            ),
            _comment(rows),
        )
    ]
    for r in rows:
        out.append(
            Block(
                "resource",
                ("ncloud_nks_node_pool", identifier(service, code, r["sku"])),
                (
                    ("provider", _alias(ctx, region)),
                    ("cluster_uuid", Ref(f"ncloud_nks_cluster.{cluster}.uuid")),
                    ("node_pool_name", r["sku"]),
                    ("node_count", int(r["units"])),
                    ("server_spec_code", r["sku"].removeprefix("nks-")),
                    ("software_code", ctx.var("nks_software_code")),
                    ("subnet_no_list", [ctx.var("subnet_nos", code)]),
                ),
            )
        )
    return out


# ------------------------------------------------------------------ OpenStack
def _openstack_provider(ctx: Context, region: str) -> list[tuple[str, Any] | Block]:
    site = region_code(region)
    return [
        ("alias", identifier(site)),
        ("auth_url", ctx.var("auth_urls", site)),
        ("region", ctx.var("os_regions", site)),
        ("user_name", ctx.var("os_user_name")),
        ("password", ctx.var("os_password")),
        ("tenant_name", ctx.var("os_project_name")),
        ("user_domain_name", ctx.var("os_domain_name")),
    ]


def _openstack_vm(
    ctx: Context, service: str, region: str, rows: list[dict[str, Any]]
) -> list[Block]:
    site = region_code(region)
    ctx.used.add("name_prefix")
    return [
        Block(
            "resource",
            ("openstack_compute_instance_v2", identifier(service, site, r["sku"])),
            (
                ("provider", _alias(ctx, region)),
                ("count", int(r["units"])),
                ("name", Ref(f'"${{var.name_prefix}}-{service.lower()}-{site}-${{count.index}}"')),
                ("flavor_name", r["sku"]),
                ("image_id", ctx.var("image_ids", site)),
                Block("network", body=(("uuid", ctx.var("network_ids", site)),)),
            ),
            _comment([r]),
        )
        for r in rows
    ]


def _openstack_disk(
    ctx: Context, service: str, region: str, rows: list[dict[str, Any]]
) -> list[Block]:
    site = region_code(region)
    return [
        Block(
            "resource",
            ("openstack_blockstorage_volume_v3", identifier(service, site, "volume")),
            (
                ("provider", _alias(ctx, region)),
                ("name", _name(ctx, service, region)),
                ("size", _gb(rows)),
            ),
            _comment(rows),
        )
    ]


_REGION_MAP = "map keyed by region"
_CREDENTIAL = "credential; better given as an environment variable TF_VAR_{name}"

_COMMON = {
    "name_prefix": Variable("string", "prefix of every resource name", default=None),
}

KINDS: dict[str, ProviderKind] = {
    "aws": ProviderKind(
        "aws",
        "hashicorp/aws",
        "~> 5.0",
        _aws_provider,
        {
            "compute.vm": _aws_vm,
            "storage.block": _aws_disk,
            "db.relational": _aws_db,
            "storage.object": _aws_bucket,
            "compute.k8s": _aws_k8s,
        },
        {
            "aws_profile": Variable(
                "string",
                "AWS CLI profile with the credentials (null: the environment's)",
                default="null",
            ),
            "image_ids": Variable(
                "map(string)", f"AMI id of the VMs' image, {_REGION_MAP}", example="ami-..."
            ),
            "subnet_ids": Variable(
                "map(list(string))",
                f"private subnet ids (two zones or more), {_REGION_MAP}",
                example=["subnet-...", "subnet-..."],
            ),
            "availability_zones": Variable(
                "map(string)", f"zone of the EBS volumes, {_REGION_MAP}", example="<region>a"
            ),
            "db_subnet_group_names": Variable(
                "map(string)", f"RDS subnet group, {_REGION_MAP}", example="db-subnets"
            ),
            "db_engine": Variable("string", "RDS engine", default='"postgres"'),
            "db_username": Variable("string", "RDS master user name", example="app"),
            "db_password": Variable(
                "string", _CREDENTIAL.format(name="db_password"), sensitive=True
            ),
            "eks_cluster_role_arn": Variable(
                "string",
                "IAM role ARN of the EKS control plane",
                example="arn:aws:iam::123456789012:role/eks-cluster",
            ),
            "eks_node_role_arn": Variable(
                "string",
                "IAM role ARN of the EKS nodes",
                example="arn:aws:iam::123456789012:role/eks-nodes",
            ),
        },
    ),
    "azure": ProviderKind(
        "azurerm",
        "hashicorp/azurerm",
        "~> 4.0",
        _azure_provider,
        {
            "compute.vm": _azure_vm,
            "storage.block": _azure_disk,
            "db.relational": _azure_db,
            "storage.object": _azure_bucket,
            "compute.k8s": _azure_k8s,
        },
        {
            "subscription_id": Variable(
                "string", "Azure subscription id", example="00000000-0000-0000-0000-000000000000"
            ),
            "image_ids": Variable(
                "map(string)",
                f"image id of the VMs, {_REGION_MAP}",
                example="/subscriptions/.../images/...",
            ),
            "subnet_ids": Variable(
                "map(string)",
                f"subnet id of the VMs and clusters, {_REGION_MAP}",
                example="/subscriptions/.../subnets/...",
            ),
            "db_subnet_ids": Variable(
                "map(string)",
                f"subnet delegated to PostgreSQL flexible server, {_REGION_MAP}",
                example="/subscriptions/.../subnets/db",
            ),
            "admin_username": Variable("string", "VM administrator", example="azureuser"),
            "ssh_public_key": Variable(
                "string", "SSH public key of the administrator", example="ssh-ed25519 AAAA..."
            ),
            "postgresql_version": Variable("string", "PostgreSQL major version", default='"16"'),
            "db_admin_login": Variable("string", "PostgreSQL administrator", example="app"),
            "db_admin_password": Variable(
                "string", _CREDENTIAL.format(name="db_admin_password"), sensitive=True
            ),
        },
    ),
    "gcp": ProviderKind(
        "google",
        "hashicorp/google",
        "~> 6.0",
        _gcp_provider,
        {
            "compute.vm": _gcp_vm,
            "storage.block": _gcp_disk,
            "db.relational": _gcp_db,
            "storage.object": _gcp_bucket,
            "compute.k8s": _gcp_k8s,
        },
        {
            "project_id": Variable("string", "Google Cloud project id", example="my-project"),
            "zones": Variable(
                "map(string)",
                f"zone of the VMs, disks and clusters, {_REGION_MAP}",
                example="<region>-a",
            ),
            "image": Variable(
                "string", "boot image of the VMs", default='"debian-cloud/debian-12"'
            ),
            "networks": Variable("map(string)", f"VPC network, {_REGION_MAP}", example="default"),
            "subnetworks": Variable("map(string)", f"subnetwork, {_REGION_MAP}", example="default"),
            "database_version": Variable("string", "Cloud SQL engine", default='"POSTGRES_16"'),
        },
    ),
    "naver": ProviderKind(
        "ncloud",
        "NaverCloudPlatform/ncloud",
        ">= 3.0",
        _ncloud_provider,
        {
            "compute.vm": _ncloud_vm,
            "storage.block": _ncloud_disk,
            "db.relational": _ncloud_db,
            "storage.object": _ncloud_bucket,
            "compute.k8s": _ncloud_k8s,
        },
        {
            "ncloud_access_key": Variable(
                "string", _CREDENTIAL.format(name="ncloud_access_key"), sensitive=True
            ),
            "ncloud_secret_key": Variable(
                "string", _CREDENTIAL.format(name="ncloud_secret_key"), sensitive=True
            ),
            "vpc_nos": Variable("map(string)", f"VPC number, {_REGION_MAP}", example="12345"),
            "subnet_nos": Variable(
                "map(string)", f"private subnet number, {_REGION_MAP}", example="23456"
            ),
            "lb_subnet_nos": Variable(
                "map(string)",
                f"load-balancer subnet number for NKS, {_REGION_MAP}",
                example="34567",
            ),
            "zones": Variable(
                "map(string)", f"zone of the NKS clusters, {_REGION_MAP}", example="KR-1"
            ),
            "server_image_numbers": Variable(
                "map(string)", f"server image number, {_REGION_MAP}", example="23214590"
            ),
            "login_key_name": Variable(
                "string", "login key of the servers and clusters", example="my-key"
            ),
            "block_storage_server_nos": Variable(
                "map(string)",
                f"server a block volume attaches to, {_REGION_MAP}",
                example="ncloud_server...instance_no",
            ),
            "db_user_name": Variable("string", "Cloud DB for PostgreSQL user", example="app"),
            "db_user_password": Variable(
                "string", _CREDENTIAL.format(name="db_user_password"), sensitive=True
            ),
            "db_client_cidr": Variable(
                "string", "CIDR allowed to reach the database", example="10.0.0.0/16"
            ),
            "postgresql_product_codes": Variable(
                "map(string)",
                "NCP product code of each Cloud DB size, keyed by the size (`2vcpu-8gb`)",
                example="SVR.VPGS...",
            ),
            "nks_cluster_type": Variable(
                "string",
                "NKS cluster type code",
                example="SVR.VNKS.STAND.C002.M008.NET.SSD.B050.G002",
            ),
            "nks_software_code": Variable(
                "string",
                "node image (software) code of the NKS node pools",
                example="SW.VSVR.OS.LNX64.UBNTU.SVR2004.WRKND.B050",
            ),
        },
    ),
    "openstack": ProviderKind(
        "openstack",
        "terraform-provider-openstack/openstack",
        "~> 3.0",
        _openstack_provider,
        {
            "compute.vm": _openstack_vm,
            "storage.block": _openstack_disk,
        },
        {
            "auth_urls": Variable(
                "map(string)",
                "Keystone URL, map keyed by site",
                example="https://keystone.example:5000/v3",
            ),
            "os_regions": Variable(
                "map(string)", "OpenStack region name, map keyed by site", example="RegionOne"
            ),
            "os_user_name": Variable("string", "OpenStack user", example="planner"),
            "os_password": Variable(
                "string", _CREDENTIAL.format(name="os_password"), sensitive=True
            ),
            "os_project_name": Variable("string", "OpenStack project (tenant)", example="shop"),
            "os_domain_name": Variable("string", "user domain", default='"Default"'),
            "image_ids": Variable(
                "map(string)", "Glance image id of the VMs, map keyed by site", example="..."
            ),
            "network_ids": Variable(
                "map(string)", "Neutron network id, map keyed by site", example="..."
            ),
        },
    ),
}


def _variables_tf(ctx: Context) -> str:
    blocks = []
    for name in sorted(ctx.used):
        v = ctx.variables[name]
        body: list[tuple[str, Any] | Block] = [
            ("type", Ref(v.type)),
            ("description", v.description),
        ]
        if v.default is not None:
            body.append(("default", Ref(v.default)))
        if v.sensitive:
            body.append(("sensitive", True))
        blocks.append(Block("variable", (name,), tuple(body)))
    return render_all(blocks)


def _tfvars_example(ctx: Context) -> str:
    lines = ["# Copy to terraform.tfvars and fill in; credentials are better given as TF_VAR_... ."]
    for name in sorted(ctx.used):
        v = ctx.variables[name]
        if v.default is not None or v.sensitive:
            continue
        if v.type.startswith("map("):
            items = ", ".join(f'"{c}" = {_example(v.example, c)}' for c in sorted(ctx.keys[name]))
            lines.append(f"{name} = {{ {items} }}")
        else:
            lines.append(f"{name} = {_example(v.example, '')}")
    return "\n".join(lines) + "\n"


def _example(example: Any, code: str) -> str:
    from .hcl import value

    if isinstance(example, str):
        return value(example.replace("<region>", code))
    if example is None:
        return '""'
    return value(example)


def _readme(ctx: Context, kind: ProviderKind, placements: list[dict[str, Any]], app: str) -> str:
    total = sum(float(p.get("usd_per_month", 0.0)) for p in placements)
    lines = [
        f"# {app}: {kind.tf_name} ({ctx.provider})",
        "",
        f"Written by `mcplan export --to terraform` from the plan of `{app}`. The plan buys "
        f"{total:,.2f} USD/month of units here (fees and traffic come on top; see the plan).",
        "",
        "## What the plan buys here",
        "",
        "| service | region | role | category | SKU | units | USD/month |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in placements:
        lines.append(
            f"| {p['service']} | {p['region']} | {p['role']} | {p['category']} | {p['sku']} | "
            f"{p['units']} | {float(p.get('usd_per_month', 0.0)):,.2f} |"
        )
    lines += [
        "",
        "## Fill in before `terraform plan`",
        "",
        "The plan chooses providers, regions, sizes and counts; it cannot know your networks, "
        "images and credentials. Copy `terraform.tfvars.example` to `terraform.tfvars` and set:",
        "",
        "| variable | type | what to give |",
        "|---|---|---|",
    ]
    for name in sorted(ctx.used):
        v = ctx.variables[name]
        default = f" (default {v.default})" if v.default is not None else ""
        lines.append(f"| `{name}` | `{v.type}` | {v.description}{default} |")
    if ctx.not_generated:
        lines += [
            "",
            "## Not generated",
            "",
            "These placements have no resource here: create them with your own modules, sized "
            "as in the plan.",
            "",
            "| service | region | category | SKU | units | why |",
            "|---|---|---|---|---|---|",
        ]
        for p in ctx.not_generated:
            lines.append(
                f"| {p['service']} | {p['region']} | {p['category']} | {p['sku']} | "
                f"{p['units']} | {p['why']} |"
            )
    lines += [
        "",
        "## Then",
        "",
        "```sh",
        "terraform init",
        "terraform plan -out plan.tfplan",
        "```",
        "",
        "Review the plan before applying it: names, network placement and security groups are "
        "yours to decide.",
        "",
    ]
    return "\n".join(lines)


def export_terraform(plan: dict[str, Any]) -> dict[str, str]:
    """The plan as Terraform: {relative path: file text}, one folder per provider and a
    top-level README.md."""
    plan = check_plan(plan)
    app = str(plan.get("app") or "app")
    by_provider: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for p in plan["placements"]:
        by_provider[str(p["provider"])].append(p)
    files: dict[str, str] = {}
    top = [
        f"# {app}: Terraform from the plan",
        "",
        f"Written by `mcplan export --to terraform`. The plan costs "
        f"{float(plan['objective_usd_per_month']):,.2f} USD/month in all. One folder per provider; "
        "each README.md says what to fill in.",
        "",
        "| folder | Terraform provider | regions |",
        "|---|---|---|",
    ]
    for provider in sorted(by_provider):
        rows = by_provider[provider]
        kind = KINDS.get(provider)
        if kind is None:  # a catalog with a provider this exporter does not write
            top.append(f"| (none) | no Terraform writer for `{provider}` | |")
            continue
        ctx = Context(provider, kind.tf_name, app, {**_COMMON, **kind.variables})
        groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
        for p in rows:
            groups[(str(p["service"]), str(p["region"]), str(p["category"]))].append(p)
        resources: list[Block] = []
        for (service, region, category), group in sorted(groups.items()):
            ctx.regions.add(region)
            builder = kind.builders.get(category)
            if builder is None:
                ctx.not_generated += [
                    {**p, "why": f"no {category} resource is written for {kind.tf_name}"}
                    for p in group
                ]
                continue
            resources += builder(ctx, service, region, group)
        providers = [
            Block("provider", (kind.tf_name,), tuple(kind.provider_body(ctx, region)))
            for region in sorted(ctx.regions)
        ]
        if any(r.labels[0].startswith("azurerm_") for r in resources):
            resources = [
                Block(
                    "resource",
                    ("azurerm_resource_group", identifier(region_code(region))),
                    (
                        ("provider", _alias(ctx, region)),
                        ("name", _name(ctx, "rg", region)),
                        ("location", region_code(region)),
                    ),
                )
                for region in sorted(ctx.regions)
            ] + resources
        versions = Block(
            "terraform",
            body=(
                ("required_version", ">= 1.5"),
                Block(
                    "required_providers",
                    body=((kind.tf_name, {"source": kind.source, "version": kind.version}),),
                ),
            ),
        )
        ctx.used.add("name_prefix")
        ctx.variables["name_prefix"] = Variable(
            "string",
            "prefix of every resource name",
            default=f'"{identifier(app).replace("_", "-")}"',
        )
        files[f"{provider}/versions.tf"] = render_all([versions])
        files[f"{provider}/providers.tf"] = render_all(providers)
        files[f"{provider}/main.tf"] = (
            render_all(resources) if resources else "# nothing generated\n"
        )
        files[f"{provider}/variables.tf"] = _variables_tf(ctx)
        files[f"{provider}/terraform.tfvars.example"] = _tfvars_example(ctx)
        files[f"{provider}/README.md"] = _readme(ctx, kind, rows, app)
        top.append(f"| `{provider}/` | `{kind.source}` | {', '.join(sorted(ctx.regions))} |")
    files["README.md"] = "\n".join(top) + "\n"
    return files
