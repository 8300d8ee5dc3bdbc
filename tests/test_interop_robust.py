"""The importers take user files: whatever a Terraform plan's JSON or a manifest holds, they either
write a spec or refuse with an input error (exit 2), never crash (exit 1). Property tests over
plans and manifests whose values are random JSON in the right skeleton."""

from __future__ import annotations

import contextlib
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from planner.catalog import load_catalog
from planner.errors import InputError
from planner.interop.kubernetes_in import import_kubernetes
from planner.interop.terraform_in import MAPPINGS, import_terraform
from planner.spec import spec_from_text

REGIONS = load_catalog().regions  # hypothesis tests take no function-scoped fixtures

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["m5.large", "500m", "2Gi", "ap-northeast-2", "KR", "x", ""]),
    st.text(max_size=8),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)
KEYS = st.sampled_from(
    [
        "instance_type",
        "size",
        "machine_type",
        "instance_class",
        "allocated_storage",
        "region",
        "location",
        "zone",
        "availability_zone",
        "instance_types",
        "scaling_config",
        "settings",
        "sku_name",
        "storage_mb",
        "flavor_name",
        "server_spec_code",
        "cluster_name",
        "node_count",
        "default_node_pool",
        "node_config",
        "name",
        "product_code",
        "num_cache_nodes",
        "node_type",
    ]
)
values = st.dictionaries(KEYS, json_values, max_size=6)
PROVIDERS = [
    "hashicorp/aws",
    "hashicorp/azurerm",
    "hashicorp/google",
    "NaverCloudPlatform/ncloud",
    "terraform-provider-openstack/openstack",
    "hashicorp/random",
]


# addresses a configuration may hold: mapped types, a balancer and what joins it to its
# backends, and a malformed one without a dot
ADDRESSES = [
    f"{t}.{n}"
    for t in [*list(MAPPINGS)[:8], "aws_lb", "aws_lb_listener", "aws_lb_target_group"]
    for n in ("a", "b")
] + ["x"]
REFERENCES = st.sampled_from(
    [f"{a}.id" for a in ADDRESSES if "." in a] + ["var.x", "module.m.out", "x", ""]
)


@st.composite
def resources(draw: st.DrawFn) -> Any:
    rtype = draw(st.sampled_from([*MAPPINGS, "aws_vpc", "random_id"]))
    name = draw(st.sampled_from(["a", "b", "this"]))
    return draw(
        st.one_of(
            st.fixed_dictionaries(
                {
                    "address": st.just(f"{rtype}.{name}"),
                    "mode": st.sampled_from(["managed", "data"]),
                    "type": st.just(rtype),
                    "name": st.just(name),
                    "provider_name": st.sampled_from(PROVIDERS).map(
                        lambda p: f"registry.terraform.io/{p}"
                    ),
                    "values": st.one_of(values, json_values),
                }
            ),
            json_values,
        )
    )


plans = st.fixed_dictionaries(
    {
        "planned_values": st.one_of(
            st.fixed_dictionaries(
                {
                    "root_module": st.fixed_dictionaries(
                        {
                            "resources": st.lists(resources(), max_size=5),
                            "child_modules": st.one_of(
                                json_values,
                                st.lists(
                                    st.fixed_dictionaries(
                                        {"resources": st.lists(resources(), max_size=3)}
                                    ),
                                    max_size=2,
                                ),
                            ),
                        }
                    )
                }
            ),
            json_values,
        ),
        "resource_changes": json_values,
        "configuration": st.one_of(
            json_values,
            st.fixed_dictionaries(
                {
                    "root_module": st.fixed_dictionaries(
                        {
                            "resources": st.lists(
                                st.fixed_dictionaries(
                                    {
                                        "address": st.sampled_from(ADDRESSES),
                                        "expressions": st.one_of(
                                            json_values,
                                            st.dictionaries(
                                                KEYS,
                                                st.fixed_dictionaries(
                                                    {
                                                        "references": st.lists(
                                                            st.one_of(REFERENCES, json_values),
                                                            max_size=3,
                                                        )
                                                    }
                                                ),
                                                max_size=2,
                                            ),
                                        ),
                                    }
                                ),
                                max_size=4,
                            ),
                            "module_calls": json_values,
                        }
                    )
                }
            ),
        ),
    }
)


def _outcome_is_a_spec_or_an_input_error(call: Any) -> None:
    try:
        result = call()
    except InputError:
        return
    try:
        spec_from_text(result.text(), "imported")
    except InputError:
        return  # e.g. a size beyond the spec's bounds: refused with exit 2, as it should be


@given(plans)
def test_any_terraform_plan_gives_a_spec_or_an_input_error(plan: dict[str, Any]) -> None:
    _outcome_is_a_spec_or_an_input_error(lambda: import_terraform(plan, REGIONS, "fuzz.json"))


CONTAINER = st.fixed_dictionaries(
    {
        "name": st.text(max_size=4),
        "resources": st.one_of(
            json_values,
            st.fixed_dictionaries(
                {
                    "requests": st.dictionaries(
                        st.sampled_from(["cpu", "memory"]), scalars, max_size=2
                    )
                }
            ),
        ),
        "env": st.one_of(
            json_values, st.lists(st.fixed_dictionaries({"value": scalars}), max_size=2)
        ),
    }
)
WORKLOAD_SPEC = st.fixed_dictionaries(
    {
        "replicas": scalars,
        "template": st.one_of(
            json_values,
            st.fixed_dictionaries(
                {
                    "metadata": st.one_of(json_values, st.just({"labels": {"app": "a"}})),
                    "spec": st.fixed_dictionaries(
                        {
                            "containers": st.one_of(json_values, st.lists(CONTAINER, max_size=2)),
                            "volumes": json_values,
                        }
                    ),
                }
            ),
        ),
        "volumeClaimTemplates": json_values,
        "selector": json_values,
    }
)
DOCS = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {
                "kind": st.sampled_from(
                    [
                        "Deployment",
                        "StatefulSet",
                        "Service",
                        "PersistentVolumeClaim",
                        "ConfigMap",
                        "Widget",
                    ]
                ),
                "metadata": st.one_of(
                    json_values, st.fixed_dictionaries({"name": st.sampled_from(["a", "b", "web"])})
                ),
                "spec": st.one_of(json_values, WORKLOAD_SPEC),
            }
        ),
        st.dictionaries(st.text(max_size=5), json_values, max_size=3),
    ),
    max_size=5,
)


@given(DOCS)
def test_any_manifests_give_a_spec_or_an_input_error(docs: list[dict[str, Any]]) -> None:
    _outcome_is_a_spec_or_an_input_error(
        lambda: import_kubernetes(
            [("fuzz.yaml", d) for d in docs], REGIONS, "fuzz", region="aws/ap-northeast-2"
        )
    )


# ------------------------------------------------------------------ the exporters
def _valid_plan() -> dict[str, Any]:
    placement = {
        "service": "web",
        "provider": "aws",
        "region": "aws/ap-northeast-2",
        "sku": "eks-m5.large",
        "offering": "aws/ap-northeast-2/eks-m5.large",
        "category": "compute.k8s",
        "tier": "PaaS",
        "role": "active",
        "units": 2,
        "capacity": {"per_unit": {"vcpu": 2.0, "mem_gib": 8.0}},
        "usd_per_unit_month": 70.08,
        "usd_per_month": 140.16,
    }
    return {
        "app": "fuzz",
        "objective_usd_per_month": 213.16,
        "services": [],
        "placements": [placement, {**placement, "sku": "m5.large", "category": "compute.vm"}],
        "fees": [
            {
                "service": "web",
                "region": "aws/ap-northeast-2",
                "category": "compute.k8s",
                "usd_per_month": 73.0,
            }
        ],
        "traffic": [],
    }


@st.composite
def damaged_plans(draw: st.DrawFn) -> dict[str, Any]:
    """A valid plan with one field of one row, or one top-level key, replaced by random JSON."""
    plan = _valid_plan()
    where = draw(st.sampled_from(["top", "placements", "fees"]))
    if where == "top":
        plan[draw(st.sampled_from(sorted(plan)))] = draw(json_values)
    else:
        row = plan[where][0]
        row[draw(st.sampled_from(sorted(row)))] = draw(json_values)
    return plan


@given(damaged_plans())
def test_any_damaged_plan_exports_or_is_refused(plan: dict[str, Any]) -> None:
    from planner.interop import export_infracost, export_karmada, export_terraform

    for export in (export_terraform, export_karmada, export_infracost):
        with contextlib.suppress(InputError):  # refused with the problem: exit 2
            export(plan)
