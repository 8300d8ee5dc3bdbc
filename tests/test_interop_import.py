"""`mcplan import terraform` and `mcplan import kubernetes` (planner.interop): the bundled samples
map to the expected services and demand, every resource not mapped is listed with its reason
(in the spec's comment block too), the spec loads and passes the catalog checks, every provider
family is recognised, and the size table and docs stay in step with the code."""

from __future__ import annotations

import copy
import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from planner.catalog import Catalog
from planner.errors import InputError
from planner.interop.defaults import BALANCER_LATENCY_MS
from planner.interop.kubernetes_in import (
    cpu_cores,
    import_kubernetes,
    memory_gib,
    read_manifests,
)
from planner.interop.sizes import SIZES_FILE, size_of
from planner.interop.terraform_in import MAPPINGS, import_terraform
from planner.spec import check_against_catalog, spec_from_text

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "examples" / "interop"
TF_SAMPLE = SAMPLES / "three-tier.tfplan.json"
K8S_SAMPLE = SAMPLES / "k8s-three-tier"


def tf_sample() -> dict[str, Any]:
    return json.loads(TF_SAMPLE.read_text(encoding="utf-8"))


def services_by_name(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in spec["services"]}


def test_terraform_sample_maps_each_tier(catalog: Catalog) -> None:
    result = import_terraform(tf_sample(), catalog.regions, TF_SAMPLE.name, app="shop")
    services = services_by_name(result.spec)
    assert set(services) == {"web", "web-lb", "orders", "assets", "app_cluster"}
    web = services["web"]
    # three m5.large (2 vCPU, 8 GiB each) with 20 GB root volumes
    assert (web["category"], web["tiers"]) == ("compute.vm", ["IaaS"])
    assert web["demand"] == {"vcpu": 6, "mem_gib": 24, "storage_gb": 60}
    assert services["orders"]["category"] == "db.relational"
    assert services["orders"]["demand"] == {"vcpu": 2, "mem_gib": 8, "storage_gb": 200}
    assert services["orders"]["stateful"] is True
    assert services["assets"] == {
        "name": "assets",
        "category": "storage.object",
        "tiers": ["PaaS"],
        "demand": {"storage_gb": 100},
    }
    assert services["web-lb"]["demand"] == {"lb": 1} and services["web-lb"]["user_facing"]
    # the EKS cluster takes its node group's size: 2 x m5.xlarge
    assert services["app_cluster"]["category"] == "compute.k8s"
    assert services["app_cluster"]["demand"] == {"vcpu": 8, "mem_gib": 32}
    # the balancer fronts the web servers (its listener forwards to a target group they are
    # attached to): it must stay near them. The web servers' user_data names the database and the
    # bucket: they call them; references to subnets, security groups and the password are to
    # skipped resources and say nothing
    assert result.spec["dependencies"] == [
        {"from": "web-lb", "to": "web", "max_latency_ms": BALANCER_LATENCY_MS},
        {"from": "web", "to": "orders"},
        {"from": "web", "to": "assets"},
    ]
    # the source region becomes a user group, not a constraint
    assert [u["name"] for u in result.spec["users"]] == ["near aws/ap-northeast-2"]
    assert all("providers" not in s and "residency" not in s for s in result.spec["services"])


def test_terraform_sample_lists_every_skipped_resource_with_a_reason(catalog: Catalog) -> None:
    result = import_terraform(tf_sample(), catalog.regions, TF_SAMPLE.name)
    skipped = {s.address: s.reason for s in result.skipped}
    assert set(skipped) == {
        "aws_instance.legacy",
        "aws_lb_listener.http",
        "aws_lb_target_group.web",
        "aws_lb_target_group_attachment.web[0]",
        "aws_lb_target_group_attachment.web[1]",
        "aws_lb_target_group_attachment.web[2]",
        "aws_vpc.main",
        "aws_subnet.private[0]",
        "aws_subnet.private[1]",
        "aws_security_group.web",
        "random_password.db",
        "module.app_cluster.aws_iam_role.cluster",
    }
    assert skipped["aws_instance.legacy"] == "the plan deletes it"
    assert skipped["aws_vpc.main"].startswith("network plumbing")
    assert "utility" in skipped["random_password.db"]
    # mapped + skipped = every resource of the plan and every deletion
    planned = json.dumps(tf_sample()["planned_values"])
    addresses = set(re.findall(r'"address": "([^"]+\.[^"]+)"', planned)) - {"module.app_cluster"}
    assert {a for a, _ in result.mapped} | set(skipped) == addresses | {"aws_instance.legacy"}
    head = [line for line in result.text().splitlines() if line.startswith("#")]
    for address, reason in skipped.items():
        assert f"#   - {address}: {reason}" in head


def test_imported_specs_load_and_pass_the_catalog_checks(catalog: Catalog) -> None:
    tf = import_terraform(tf_sample(), catalog.regions, TF_SAMPLE.name)
    k8s = import_kubernetes(
        read_manifests(K8S_SAMPLE), catalog.regions, "k8s", region="aws/ap-northeast-2"
    )
    for result in (tf, k8s):
        spec = spec_from_text(result.text(), "imported")
        check_against_catalog(spec, catalog)
        assert yaml.safe_load(result.text()) == result.spec  # the comments are only comments


def test_kubernetes_demand_is_replicas_times_requests(catalog: Catalog) -> None:
    result = import_kubernetes(
        read_manifests(K8S_SAMPLE), catalog.regions, "k8s", region="aws/ap-northeast-2"
    )
    services = services_by_name(result.spec)
    assert set(services) == {"web", "api", "orders-db", "web-lb"}
    assert services["web"]["demand"] == {"vcpu": 2, "mem_gib": 4}  # 4 x (500m, 1Gi)
    assert services["web"]["user_facing"] is True  # behind the LoadBalancer Service
    api = services["api"]["demand"]  # 3 x (1 + 0.1 cores, 2Gi + 128Mi) and a 50Gi claim
    assert api["vcpu"] == pytest.approx(3.3)
    assert api["mem_gib"] == pytest.approx(6.375)
    assert api["storage_gb"] == pytest.approx(50 * 2**30 / 1e9, abs=1e-3)
    db = services["orders-db"]
    assert db["demand"]["vcpu"] == 4 and db["demand"]["mem_gib"] == 16
    assert db["demand"]["storage_gb"] == pytest.approx(2 * 100 * 2**30 / 1e9, abs=1e-3)
    assert db["stateful"] is True
    assert services["web-lb"]["category"] == "network.lb"
    balancer, *calls = result.spec["dependencies"]
    assert balancer == {"from": "web-lb", "to": "web", "max_latency_ms": BALANCER_LATENCY_MS}
    assert calls in (
        [{"from": "web", "to": "api"}, {"from": "api", "to": "orders-db"}],
        [{"from": "api", "to": "orders-db"}, {"from": "web", "to": "api"}],
    )
    skipped = {s.address: s.reason for s in result.skipped}
    assert set(skipped) == {
        "Deployment/mailer",
        "ConfigMap/shop-config",
        "HorizontalPodAutoscaler/web",
    }
    assert "resources.requests" in skipped["Deployment/mailer"]


def test_kubernetes_without_region_has_no_users(catalog: Catalog) -> None:
    result = import_kubernetes(read_manifests(K8S_SAMPLE), catalog.regions, "k8s")
    assert "users" not in result.spec
    assert any("--region" in n for n in result.notes)


def test_kubernetes_cycle_in_environment_keeps_the_spec_valid(
    catalog: Catalog, tmp_path: Path
) -> None:
    """Two workloads naming each other: one direction is kept, the spec still loads."""
    docs = []
    for me, other in (("a", "b"), ("b", "a")):
        docs += [
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": me},
                "spec": {
                    "replicas": 1,
                    "template": {
                        "metadata": {"labels": {"app": me}},
                        "spec": {
                            "containers": [
                                {
                                    "name": me,
                                    "env": [{"name": "PEER", "value": f"http://{other}:80"}],
                                    "resources": {"requests": {"cpu": "1", "memory": "1Gi"}},
                                }
                            ]
                        },
                    },
                },
            },
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": me},
                "spec": {"selector": {"app": me}},
            },
        ]
    result = import_kubernetes([("m.yaml", d) for d in docs], catalog.regions)
    assert len(result.spec["dependencies"]) == 1
    check_against_catalog(spec_from_text(result.text()), catalog)


@pytest.mark.parametrize(
    ("text", "cores"), [("500m", 0.5), ("2", 2.0), ("0.25", 0.25), ("1500m", 1.5)]
)
def test_cpu_quantities(text: str, cores: float) -> None:
    assert cpu_cores(text) == pytest.approx(cores)


@pytest.mark.parametrize(
    ("text", "gib"),
    [("512Mi", 0.5), ("1Gi", 1.0), ("2G", 2e9 / 2**30), ("1073741824", 1.0), ("1Ti", 1024.0)],
)
def test_memory_quantities(text: str, gib: float) -> None:
    assert memory_gib(text) == pytest.approx(gib)


def test_bad_quantity_is_skipped_with_the_reason(catalog: Catalog) -> None:
    doc = {
        "kind": "Deployment",
        "metadata": {"name": "w"},
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "lots"}}}]}
            }
        },
    }
    ok = copy.deepcopy(doc)
    ok["metadata"]["name"] = "fine"
    ok["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] = "1"
    result = import_kubernetes([("m", doc), ("m", ok)], catalog.regions)
    assert [s.address for s in result.skipped] == ["Deployment/w"]
    assert "lots" in result.skipped[0].reason


def _resource(rtype: str, name: str, provider: str, values: dict[str, Any]) -> dict[str, Any]:
    return {
        "address": f"{rtype}.{name}",
        "mode": "managed",
        "type": rtype,
        "name": name,
        "provider_name": f"registry.terraform.io/{provider}",
        "values": values,
    }


def test_every_provider_family_is_recognised(catalog: Catalog) -> None:
    plan = {
        "format_version": "1.2",
        "planned_values": {
            "root_module": {
                "resources": [
                    _resource(
                        "azurerm_linux_virtual_machine",
                        "app",
                        "hashicorp/azurerm",
                        {"size": "Standard_D4s_v5", "location": "koreacentral"},
                    ),
                    _resource(
                        "azurerm_postgresql_flexible_server",
                        "db",
                        "hashicorp/azurerm",
                        {
                            "sku_name": "GP_Standard_D2ds_v5",
                            "storage_mb": 65536,
                            "location": "Korea Central",
                        },
                    ),
                    _resource(
                        "google_compute_instance",
                        "vm",
                        "hashicorp/google",
                        {"machine_type": "n2-standard-8", "zone": "asia-northeast3-a"},
                    ),
                    _resource(
                        "google_sql_database_instance",
                        "sql",
                        "hashicorp/google",
                        {
                            "region": "asia-northeast3",
                            "settings": [{"tier": "db-custom-2-8192", "disk_size": 50}],
                        },
                    ),
                    _resource(
                        "google_storage_bucket",
                        "media",
                        "hashicorp/google",
                        {"location": "ASIA-NORTHEAST3"},
                    ),
                    _resource(
                        "ncloud_server",
                        "batch",
                        "NaverCloudPlatform/ncloud",
                        {"server_product_code": "SVR.VSVR.STAND.C004.M016.NET.SSD.B050.G002"},
                    ),
                    _resource(
                        "openstack_compute_instance_v2",
                        "legacy",
                        "terraform-provider-openstack/openstack",
                        {"flavor_name": "m1.large"},
                    ),
                    _resource(
                        "openstack_blockstorage_volume_v3",
                        "data",
                        "terraform-provider-openstack/openstack",
                        {"size": 500},
                    ),
                    _resource("aws_instance", "odd", "hashicorp/aws", {"instance_type": "x9.huge"}),
                    _resource("aws_sqs_queue", "jobs", "hashicorp/aws", {}),
                    _resource("alicloud_instance", "ali", "aliyun/alicloud", {}),
                ]
            }
        },
    }
    result = import_terraform(plan, catalog.regions, "multi.json", bucket_gb=250)
    s = services_by_name(result.spec)
    assert s["app"]["demand"] == {"vcpu": 4, "mem_gib": 16}
    assert s["db"]["demand"] == {"vcpu": 2, "mem_gib": 8, "storage_gb": 64}
    assert s["vm"]["demand"] == {"vcpu": 8, "mem_gib": 32}
    assert s["sql"]["demand"] == {"vcpu": 2, "mem_gib": 8, "storage_gb": 50}
    assert s["media"]["demand"] == {"storage_gb": 250}
    assert s["batch"]["demand"] == {"vcpu": 4, "mem_gib": 16}
    assert s["legacy"]["demand"] == {"vcpu": 4, "mem_gib": 8}
    assert s["data"]["category"] == "storage.block"
    skipped = {x.address: x.reason for x in result.skipped}
    assert "x9.huge" in skipped["aws_instance.odd"] and "sizes.csv" in skipped["aws_instance.odd"]
    assert "mapping table" in skipped["aws_sqs_queue.jobs"]
    assert "provider" in skipped["alicloud_instance.ali"]
    # Azure's two spellings and Google's zone all resolve to catalog regions
    users = {u["name"] for u in result.spec["users"]}
    assert users == {"near azure/koreacentral", "near gcp/asia-northeast3"}
    check_against_catalog(spec_from_text(result.text()), catalog)


def test_size_table_rows_have_sources_and_rules_read_names() -> None:
    with SIZES_FILE.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) >= 80
    for row in rows:
        assert row["source_url"].strip(), row
        assert float(row["vcpu"]) > 0 and float(row["mem_gib"]) > 0
    assert len({(r["provider"], r["size"]) for r in rows}) == len(rows)
    assert size_of("gcp", "custom-4-16384") == (4.0, 16.0)
    assert size_of("naver", "SVR.VSVR.STAND.C008.M032.NET.SSD.B050.G002") == (8.0, 32.0)
    assert size_of("azure", "GP_Standard_D4ds_v5") == (4.0, 16.0)
    assert size_of("aws", "no.such") is None


def test_catalog_sizes_agree_with_the_size_table(catalog: Catalog) -> None:
    """Where the catalog sells a size the table lists, the two agree on vCPU and memory."""
    offers = catalog.offerings.reset_index()
    checked = 0
    for _, o in offers[offers["category"] == "compute.vm"].drop_duplicates("sku").iterrows():
        cap = size_of(str(o["provider"]), str(o["sku"]))
        if cap is not None:
            assert cap == (float(o["vcpu"]), float(o["mem_gib"])), o["sku"]
            checked += 1
    assert checked >= 15


def test_docs_list_every_mapped_type() -> None:
    doc = (ROOT / "docs" / "interop.md").read_text(encoding="utf-8")
    missing = [t for t in MAPPINGS if f"`{t}`" not in doc]
    assert not missing, f"docs/interop.md does not list {missing}"


def test_not_a_terraform_plan_says_how_to_make_one(catalog: Catalog) -> None:
    with pytest.raises(InputError, match="terraform show -json"):
        import_terraform({"values": {}}, catalog.regions, "state.json")
    with pytest.raises(InputError, match="top level"):
        import_terraform([1, 2], catalog.regions, "list.json")


def test_a_plan_of_only_plumbing_is_refused(catalog: Catalog) -> None:
    plan = {
        "planned_values": {
            "root_module": {"resources": [_resource("aws_vpc", "v", "hashicorp/aws", {})]}
        }
    }
    with pytest.raises(InputError, match="no resource of this plan maps"):
        import_terraform(plan, catalog.regions, "vpc.json")


def test_dependencies_keep_the_first_pairs_and_never_a_loop() -> None:
    from planner.interop.imported import acyclic

    pairs = [("a", "b"), ("b", "c"), ("c", "a"), ("a", "b"), ("a", "a"), ("a", "x"), ("c", "d")]
    assert acyclic(pairs, {"a", "b", "c", "d"}) == [("a", "b"), ("b", "c"), ("c", "d")]
