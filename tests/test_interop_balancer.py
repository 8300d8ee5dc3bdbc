"""An imported load balancer stays near the services it fronts: both importers give it a
dependency with a latency budget on each backend (Kubernetes by the Service's selector, Terraform
through listeners, target groups, backend pools and the like), and the plans of the bundled
samples keep every balancer region within that budget of a backend region."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from planner import PlanOptions, make_plan, plan_to_dict
from planner.catalog import Catalog
from planner.interop.defaults import BALANCER_LATENCY_MS
from planner.interop.kubernetes_in import import_kubernetes, read_manifests
from planner.interop.terraform_in import import_terraform
from planner.spec import check_against_catalog, spec_from_text

SAMPLES = Path(__file__).resolve().parents[1] / "examples" / "interop"
SEOUL = "aws/ap-northeast-2"


def _resource(rtype: str, name: str, provider: str, values: dict[str, Any]) -> dict[str, Any]:
    return {
        "address": f"{rtype}.{name}",
        "mode": "managed",
        "type": rtype,
        "name": name,
        "provider_name": f"registry.terraform.io/hashicorp/{provider}",
        "values": values,
    }


def _plan_json(
    planned: list[dict[str, Any]], refs: dict[str, list[str]], region: str
) -> dict[str, Any]:
    """A Terraform plan's JSON: `planned` resources, and `refs` (address -> the addresses its
    expressions name) in the configuration, every resource on one provider block."""
    provider = planned[0]["provider_name"].rsplit("/", 1)[-1]
    config = [
        {
            "address": address,
            "mode": "managed",
            "type": address.split(".")[0],
            "name": address.split(".")[1],
            "provider_config_key": provider,
            "expressions": {"x": {"references": [f"{r}.id" for r in named] + named}},
        }
        for address, named in refs.items()
    ]
    key = "location" if provider == "azurerm" else "region"
    return {
        "format_version": "1.2",
        "planned_values": {"root_module": {"resources": planned}},
        "configuration": {
            "provider_config": {provider: {"expressions": {key: {"constant_value": region}}}},
            "root_module": {"resources": config},
        },
    }


def _dependencies(result: Any) -> list[dict[str, Any]]:
    return list(result.spec.get("dependencies", []))


def _balanced(result: Any) -> list[tuple[str, str]]:
    return [(d["from"], d["to"]) for d in _dependencies(result) if "max_latency_ms" in d]


def test_terraform_sample_balancer_fronts_the_web_servers(catalog: Catalog) -> None:
    """aws_lb.web <- listener -> target group <- attachments -> aws_instance.web."""
    import json

    data = json.loads((SAMPLES / "three-tier.tfplan.json").read_text(encoding="utf-8"))
    result = import_terraform(data, catalog.regions, "three-tier.tfplan.json")
    assert _dependencies(result)[0] == {
        "from": "web-lb",
        "to": "web",
        "max_latency_ms": BALANCER_LATENCY_MS,
    }
    assert _balanced(result) == [("web-lb", "web")]
    assert any("within 5 ms" in n and "web-lb -> web" in n for n in result.notes)
    assert not any("no backend found" in n for n in result.notes)


def test_azure_balancer_reaches_its_vms_through_pool_and_interface(catalog: Catalog) -> None:
    """azurerm_lb <- backend pool <- association -> network interface <- VM; the database on the
    same subnet is not a backend."""
    planned = [
        _resource("azurerm_lb", "front", "azurerm", {}),
        _resource("azurerm_linux_virtual_machine", "app", "azurerm", {"size": "Standard_D4s_v5"}),
        _resource(
            "azurerm_postgresql_flexible_server",
            "db",
            "azurerm",
            {"sku_name": "GP_Standard_D2ds_v5", "storage_mb": 65536},
        ),
        _resource("azurerm_lb_backend_address_pool", "pool", "azurerm", {}),
        _resource("azurerm_network_interface", "app", "azurerm", {}),
        _resource(
            "azurerm_network_interface_backend_address_pool_association", "app", "azurerm", {}
        ),
        _resource("azurerm_subnet", "shared", "azurerm", {}),
    ]
    refs = {
        "azurerm_lb.front": ["azurerm_subnet.shared"],
        "azurerm_lb_backend_address_pool.pool": ["azurerm_lb.front"],
        "azurerm_network_interface_backend_address_pool_association.app": [
            "azurerm_network_interface.app",
            "azurerm_lb_backend_address_pool.pool",
        ],
        "azurerm_network_interface.app": ["azurerm_subnet.shared"],
        "azurerm_linux_virtual_machine.app": [
            "azurerm_network_interface.app",
            "azurerm_postgresql_flexible_server.db",
        ],
        "azurerm_postgresql_flexible_server.db": ["azurerm_subnet.shared"],
    }
    result = import_terraform(_plan_json(planned, refs, "koreacentral"), catalog.regions, "az")
    assert _balanced(result) == [("front", "app")]
    assert ("app", "db") in [(d["from"], d["to"]) for d in _dependencies(result)]
    skipped = {s.address: s.reason for s in result.skipped}
    assert "load balancer to its backends" in skipped["azurerm_lb_backend_address_pool.pool"]
    check_against_catalog(spec_from_text(result.text()), catalog)


def test_google_forwarding_rule_reaches_instances_through_backend_service(
    catalog: Catalog,
) -> None:
    planned = [
        _resource("google_compute_forwarding_rule", "fr", "google", {}),
        _resource("google_compute_instance", "vm", "google", {"machine_type": "n2-standard-8"}),
        _resource("google_compute_region_backend_service", "be", "google", {}),
        _resource("google_compute_instance_group", "ig", "google", {}),
    ]
    refs = {
        "google_compute_forwarding_rule.fr": ["google_compute_region_backend_service.be"],
        "google_compute_region_backend_service.be": ["google_compute_instance_group.ig"],
        "google_compute_instance_group.ig": ["google_compute_instance.vm"],
    }
    result = import_terraform(_plan_json(planned, refs, "asia-northeast3"), catalog.regions, "g")
    assert _balanced(result) == [("fr", "vm")]


def test_eks_node_group_behind_an_autoscaling_attachment(catalog: Catalog) -> None:
    planned = [
        _resource("aws_lb", "api", "aws", {}),
        _resource("aws_eks_cluster", "main", "aws", {"name": "shop"}),
        _resource(
            "aws_eks_node_group",
            "nodes",
            "aws",
            {
                "cluster_name": "shop",
                "instance_types": ["m5.large"],
                "scaling_config": [{"desired_size": 2}],
            },
        ),
        _resource("aws_lb_target_group", "api", "aws", {}),
        _resource("aws_autoscaling_attachment", "nodes", "aws", {}),
        _resource("aws_lb_listener", "https", "aws", {}),
    ]
    refs = {
        "aws_lb_listener.https": ["aws_lb.api", "aws_lb_target_group.api"],
        "aws_autoscaling_attachment.nodes": ["aws_eks_node_group.nodes", "aws_lb_target_group.api"],
        "aws_eks_node_group.nodes": ["aws_eks_cluster.main"],
    }
    result = import_terraform(_plan_json(planned, refs, "ap-northeast-2"), catalog.regions, "eks")
    # the node group joins its cluster: the balancer fronts the cluster's service
    assert _balanced(result) == [("api", "main")]


def test_shared_subnet_and_security_group_make_no_backend(catalog: Catalog) -> None:
    """A balancer without listeners or target groups fronts nothing the plan shows: no guessed
    dependency (not the database on its subnet), and a note says to add one by hand."""
    planned = [
        _resource("aws_lb", "web", "aws", {}),
        _resource("aws_db_instance", "db", "aws", {"instance_class": "db.m5.large"}),
        _resource("aws_security_group", "all", "aws", {}),
        _resource("aws_subnet", "all", "aws", {}),
    ]
    refs = {
        "aws_lb.web": ["aws_security_group.all", "aws_subnet.all"],
        "aws_db_instance.db": ["aws_security_group.all", "aws_subnet.all"],
    }
    result = import_terraform(_plan_json(planned, refs, "ap-northeast-2"), catalog.regions, "x")
    assert _dependencies(result) == []
    (note,) = [n for n in result.notes if "no backend found" in n]
    assert "aws_lb.web" in note and f"max_latency_ms: {BALANCER_LATENCY_MS:g}" in note


def test_a_backend_naming_its_balancer_keeps_the_balancers_tie(catalog: Catalog) -> None:
    """The web servers' user_data names the balancer's DNS name (web -> lb), and the balancer
    fronts them (lb -> web): the spec refuses the loop, and the balancer's budget is what must
    hold, so its tie is the one kept."""
    planned = [
        _resource("aws_lb", "front", "aws", {}),
        _resource("aws_instance", "web", "aws", {"instance_type": "m5.large"}),
        _resource("aws_lb_target_group", "web", "aws", {}),
        _resource("aws_lb_target_group_attachment", "web", "aws", {}),
        _resource("aws_lb_listener", "http", "aws", {}),
    ]
    refs = {
        "aws_instance.web": ["aws_lb.front"],
        "aws_lb_listener.http": ["aws_lb.front", "aws_lb_target_group.web"],
        "aws_lb_target_group_attachment.web": ["aws_lb_target_group.web", "aws_instance.web"],
    }
    result = import_terraform(_plan_json(planned, refs, "ap-northeast-2"), catalog.regions, "x")
    assert _dependencies(result) == [
        {"from": "front", "to": "web", "max_latency_ms": BALANCER_LATENCY_MS}
    ]
    check_against_catalog(spec_from_text(result.text()), catalog)


def _deployment(name: str, labels: dict[str, str], cpu: str | None = "1") -> dict[str, Any]:
    resources = {"requests": {"cpu": cpu, "memory": "1Gi"}} if cpu else {}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 2,
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": name, "resources": resources}]},
            },
        },
    }


def _balancer(name: str, selector: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"type": "LoadBalancer", "selector": selector},
    }


def test_kubernetes_balancer_fronts_every_workload_it_selects(catalog: Catalog) -> None:
    docs = [
        _deployment("shop", {"tier": "front", "app": "shop"}),
        _deployment("blog", {"tier": "front", "app": "blog"}),
        _deployment("batch", {"tier": "back"}),
        _balancer("edge", {"tier": "front"}),
    ]
    result = import_kubernetes([("m.yaml", d) for d in docs], catalog.regions, region=SEOUL)
    assert _balanced(result) == [("edge", "shop"), ("edge", "blog")]
    assert all(d["max_latency_ms"] == BALANCER_LATENCY_MS for d in _dependencies(result))
    check_against_catalog(spec_from_text(result.text()), catalog)


def test_kubernetes_balancer_of_an_unsized_workload_is_noted(catalog: Catalog) -> None:
    """The workload behind the balancer is skipped (no requests): nothing to tie it to, and the
    note says so instead of leaving the balancer free to go anywhere unannounced."""
    docs = [
        _deployment("shop", {"app": "shop"}, cpu=None),
        _deployment("api", {"app": "api"}),
        _balancer("shop", {"app": "shop"}),
    ]
    result = import_kubernetes([("m.yaml", d) for d in docs], catalog.regions, region=SEOUL)
    assert _balanced(result) == []
    assert any("no backend found for Service/shop" in n for n in result.notes)


def _within_budget(plan: dict[str, Any], catalog: Catalog, balancer: str, backend: str) -> None:
    regions: dict[str, set[str]] = {balancer: set(), backend: set()}
    for row in plan["placements"]:
        if row["service"] in regions and row["role"] != "backup":
            regions[row["service"]].add(row["region"])
    assert regions[balancer] and regions[backend], regions
    for r in sorted(regions[balancer]):
        nearest = min(catalog.rtt_ms(r, b) for b in regions[backend])
        assert nearest <= BALANCER_LATENCY_MS, (r, sorted(regions[backend]), nearest)


@pytest.mark.parametrize("sample", ["kubernetes", "terraform"])
def test_planned_balancer_sits_near_its_backends(catalog: Catalog, sample: str) -> None:
    """The bundled samples, planned: every region running web-lb has a region running web within
    the budget (before, the Kubernetes sample's balancer went to India, its backends to Korea
    and Singapore)."""
    import json

    if sample == "kubernetes":
        docs = read_manifests(SAMPLES / "k8s-three-tier")
        result = import_kubernetes(docs, catalog.regions, "k8s", region=SEOUL)
    else:
        data = json.loads((SAMPLES / "three-tier.tfplan.json").read_text(encoding="utf-8"))
        result = import_terraform(data, catalog.regions, "tf")
    spec = spec_from_text(result.text(), sample)
    plan = plan_to_dict(make_plan(spec, catalog, PlanOptions(time_limit=20)))
    assert plan["verification"]["ok"]
    _within_budget(plan, catalog, "web-lb", "web")


def test_a_malformed_address_beside_a_balancer_is_no_crash(catalog: Catalog) -> None:
    """A configuration resource whose address has no type (`x`) refers to the balancer: it is
    neither a backend nor a link, and the import goes on."""
    planned = [
        _resource("aws_lb", "web", "aws", {}),
        _resource("aws_instance", "web", "aws", {"instance_type": "m5.large"}),
    ]
    data = _plan_json(planned, {"aws_instance.web": []}, "ap-northeast-2")
    data["configuration"]["root_module"]["resources"].append(
        {"address": "x", "expressions": {"y": {"references": ["aws_lb.web.arn", "aws_lb.web"]}}}
    )
    result = import_terraform(data, catalog.regions, "x")
    assert _balanced(result) == []
    assert any("no backend found for aws_lb.web" in n for n in result.notes)


def test_a_counted_balancer_without_backends_is_named_once(catalog: Catalog) -> None:
    planned = [
        {**_resource("aws_lb", "web", "aws", {}), "address": f"aws_lb.web[{i}]", "index": i}
        for i in range(2)
    ] + [_resource("aws_instance", "app", "aws", {"instance_type": "m5.large"})]
    result = import_terraform(_plan_json(planned, {}, "ap-northeast-2"), catalog.regions, "x")
    (note,) = [n for n in result.notes if "no backend found" in n]
    assert "no backend found for aws_lb.web:" in note and "[0]" not in note


def test_naver_balancer_reaches_servers_through_listener_and_target_group(
    catalog: Catalog,
) -> None:
    planned = [
        _resource("ncloud_lb", "front", "ncloud", {}),
        _resource("ncloud_server", "app", "ncloud", {"server_spec_code": "s2-g3"}),
        _resource("ncloud_lb_listener", "http", "ncloud", {}),
        _resource("ncloud_lb_target_group", "app", "ncloud", {}),
        _resource("ncloud_lb_target_group_attachment", "app", "ncloud", {}),
    ]
    refs = {
        "ncloud_lb_listener.http": ["ncloud_lb.front", "ncloud_lb_target_group.app"],
        "ncloud_lb_target_group_attachment.app": [
            "ncloud_lb_target_group.app",
            "ncloud_server.app",
        ],
    }
    result = import_terraform(_plan_json(planned, refs, "KR"), catalog.regions, "naver")
    assert _balanced(result) == [("front", "app")]
    assert [u["name"] for u in result.spec["users"]] == ["near naver/KR"]
