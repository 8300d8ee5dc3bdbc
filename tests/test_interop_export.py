"""`mcplan export` (planner.interop): the round trip from the bundled samples (import, plan, export,
parse) and the shape of every exported file, read back with a real parser for its format:
python-hcl2 for Terraform, PyYAML for Karmada, JSON for Infracost."""

from __future__ import annotations

import json
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

from planner import PlanOptions, make_plan, plan_to_dict
from planner.catalog import Catalog
from planner.cli import main
from planner.errors import InputError
from planner.interop.hcl import identifier
from planner.interop.infracost import export_infracost, infracost_diff
from planner.interop.karmada import cluster_name, export_karmada
from planner.interop.kubernetes_in import import_kubernetes, read_manifests
from planner.interop.terraform_in import import_terraform
from planner.interop.terraform_out import export_terraform
from planner.spec import spec_from_text

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "examples" / "interop"
TF_SAMPLE = SAMPLES / "three-tier.tfplan.json"
K8S_SAMPLE = SAMPLES / "k8s-three-tier"
SOURCES = {
    "aws": "hashicorp/aws",
    "azure": "hashicorp/azurerm",
    "gcp": "hashicorp/google",
    "naver": "NaverCloudPlatform/ncloud",
    "openstack": "terraform-provider-openstack/openstack",
}
# resource types that carry a plan's compute units, and the attribute holding the count
COUNTED = {
    "aws_instance": "count",
    "azurerm_linux_virtual_machine": "count",
    "google_compute_instance": "count",
    "ncloud_server": "count",
    "openstack_compute_instance_v2": "count",
}
NODE_POOLS = {
    "aws_eks_node_group": ("scaling_config", "desired_size"),
    "azurerm_kubernetes_cluster": ("default_node_pool", "node_count"),
    "azurerm_kubernetes_cluster_node_pool": (None, "node_count"),
    "google_container_node_pool": (None, "node_count"),
    "ncloud_nks_node_pool": (None, "node_count"),
}


def _plan(text: str, catalog: Catalog) -> dict[str, Any]:
    spec = spec_from_text(text, "imported")
    return plan_to_dict(make_plan(spec, catalog, PlanOptions(time_limit=20)))


@pytest.fixture(scope="module")
def tf_plan(catalog: Catalog) -> dict[str, Any]:
    data = json.loads(TF_SAMPLE.read_text(encoding="utf-8"))
    return _plan(
        import_terraform(data, catalog.regions, TF_SAMPLE.name, app="shop").text(), catalog
    )


@pytest.fixture(scope="module")
def k8s_plan(catalog: Catalog) -> dict[str, Any]:
    result = import_kubernetes(
        read_manifests(K8S_SAMPLE),
        catalog.regions,
        "k8s",
        app="shop-k8s",
        region="aws/ap-northeast-2",
    )
    return _plan(result.text(), catalog)


@pytest.fixture(scope="module")
def every_provider_plan(catalog: Catalog) -> dict[str, Any]:
    """A hand-made plan buying every exported category at every provider (prices made up)."""
    offers = catalog.offerings.reset_index()
    placements = []
    for provider in SOURCES:
        mine = offers[offers["provider"] == provider]
        # the region selling the most categories (not every Naver region sells them all)
        region = mine.groupby("region")["category"].nunique().sort_index().idxmax()
        here = mine[mine["region"] == region]
        for category in (
            "compute.vm",
            "storage.block",
            "db.relational",
            "storage.object",
            "compute.k8s",
            "network.lb",
        ):
            for _, o in here[here["category"] == category].head(2).iterrows():
                per_unit = {
                    k: float(o[k]) for k in ("vcpu", "mem_gib", "storage_gb", "lb") if o[k] > 0
                }
                placements.append(
                    {
                        "service": f"svc-{category.replace('.', '-')}",
                        "provider": provider,
                        "region": region,
                        "sku": o["sku"],
                        "offering": o["offering"],
                        "category": category,
                        "tier": o["tier"],
                        "role": "active",
                        "units": 3,
                        "capacity": {"per_unit": per_unit},
                        "usd_per_unit_month": 10.0,
                        "usd_per_month": 30.0,
                    }
                )
    return {
        "app": "every-provider",
        "objective_usd_per_month": 30.0 * len(placements),
        "services": [],
        "placements": placements,
        "fees": [],
        "traffic": [],
    }


def _strip(value: Any) -> Any:
    """hcl2 keeps the quotes of strings and wraps expressions in ${...}."""
    if isinstance(value, str):
        if value.startswith('"') and value.endswith('"'):
            return value[1:-1]
        if value.startswith("${") and value.endswith("}"):
            return value[2:-1]
    return value


def _blocks(mapping: dict[str, Any]) -> dict[str, Any]:
    """A parsed mapping without hcl2's `__is_block__` marker."""
    return {k: v for k, v in mapping.items() if not k.startswith("__")}


def _resources(parsed: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for item in parsed.get("resource", []):
        for rtype, named in _blocks(item).items():
            for name, body in _blocks(named).items():
                out.append((_strip(rtype), _strip(name), body))
    return out


def check_terraform(files: dict[str, str], plan: dict[str, Any]) -> None:
    """Every file parses; providers, variables and references hang together; the units the plan
    buys are the counts the code creates."""
    by_provider: dict[str, list[dict[str, Any]]] = {}
    for p in plan["placements"]:
        by_provider.setdefault(p["provider"], []).append(p)
    assert set(files) == {"README.md"} | {
        f"{p}/{f}"
        for p in by_provider
        for f in (
            "versions.tf",
            "providers.tf",
            "main.tf",
            "variables.tf",
            "terraform.tfvars.example",
            "README.md",
        )
    }
    for provider, rows in by_provider.items():
        parsed = {
            name: hcl2.loads(files[f"{provider}/{name}"])
            for name in ("versions.tf", "providers.tf", "main.tf", "variables.tf")
        }
        hcl2.loads(files[f"{provider}/terraform.tfvars.example"])
        required = _blocks(parsed["versions.tf"]["terraform"][0]["required_providers"][0])
        ((local, spec),) = required.items()
        assert _strip(spec["source"]) == SOURCES[provider]
        aliases = set()
        for block in parsed["providers.tf"]["provider"]:
            ((name, body),) = _blocks(block).items()
            assert _strip(name) == local
            aliases.add(f"{local}.{_strip(body['alias'])}")
        regions = {p["region"] for p in rows}
        assert len(aliases) == len(regions)
        declared = {_strip(k) for v in parsed["variables.tf"]["variable"] for k in v}
        text = files[f"{provider}/main.tf"] + files[f"{provider}/providers.tf"]
        used = set(re.findall(r"\bvar\.([a-z_0-9]+)", text))
        assert used <= declared, used - declared
        readme = files[f"{provider}/README.md"]
        assert all(f"`{v}`" in readme for v in declared)
        resources = _resources(parsed["main.tf"])
        for rtype, name, body in resources:
            assert _strip(body["provider"]) in aliases, (rtype, name)
        vm_units = sum(p["units"] for p in rows if p["category"] == "compute.vm")
        assert sum(int(b["count"]) for t, _, b in resources if t in COUNTED) == vm_units
        node_units = sum(p["units"] for p in rows if p["category"] == "compute.k8s")
        counted = 0
        for rtype, _, body in resources:
            if rtype in NODE_POOLS:
                block, key = NODE_POOLS[rtype]
                holder = body[block][0] if block else body
                counted += int(holder[key])
        assert counted == node_units
        # each service's VMs are of the SKUs the plan chose
        for p in rows:
            if p["category"] == "compute.vm":
                code = p["region"].split("/", 1)[1]
                names = {n for _, n, _ in resources}
                assert identifier(p["service"], code, p["sku"]) in names


def test_round_trip_terraform_sample(tf_plan: dict[str, Any]) -> None:
    assert tf_plan["verification"]["ok"]
    files = export_terraform(tf_plan)
    check_terraform(files, tf_plan)
    assert "Fill in before `terraform plan`" in next(
        v for k, v in files.items() if k.endswith("/README.md")
    )


def test_every_provider_and_category_exports(every_provider_plan: dict[str, Any]) -> None:
    files = export_terraform(every_provider_plan)
    check_terraform(files, every_provider_plan)
    main_tf = {p: hcl2.loads(files[f"{p}/main.tf"]) for p in SOURCES}
    types = {p: {t for t, _, _ in _resources(m)} for p, m in main_tf.items()}
    assert {
        "aws_instance",
        "aws_ebs_volume",
        "aws_db_instance",
        "aws_s3_bucket",
        "aws_eks_cluster",
    } <= types["aws"]
    assert {
        "azurerm_linux_virtual_machine",
        "azurerm_managed_disk",
        "azurerm_postgresql_flexible_server",
        "azurerm_storage_account",
        "azurerm_kubernetes_cluster",
        "azurerm_resource_group",
    } <= types["azure"]
    assert {
        "google_compute_instance",
        "google_compute_disk",
        "google_sql_database_instance",
        "google_storage_bucket",
        "google_container_cluster",
    } <= types["gcp"]
    assert {
        "ncloud_server",
        "ncloud_block_storage",
        "ncloud_postgresql",
        "ncloud_objectstorage_bucket",
        "ncloud_nks_cluster",
    } <= types["naver"]
    assert {"openstack_compute_instance_v2", "openstack_blockstorage_volume_v3"} <= types[
        "openstack"
    ]
    azure_db = [
        b for t, _, b in _resources(main_tf["azure"]) if t == "azurerm_postgresql_flexible_server"
    ]
    assert azure_db and all(_strip(b["sku_name"]).startswith("GP_Standard_D") for b in azure_db)
    assert all(int(b["storage_mb"]) >= 32768 for b in azure_db)
    # load balancers are listed for the user to create, not silently dropped
    assert "## Not generated" in files["aws/README.md"] and "network.lb" in files["aws/README.md"]


def test_round_trip_karmada_sample(k8s_plan: dict[str, Any]) -> None:
    files = export_karmada(k8s_plan)
    k8s = [p for p in k8s_plan["placements"] if p["category"] == "compute.k8s"]
    services = {p["service"] for p in k8s}
    assert services == {"web", "api", "orders-db"}
    assert set(files) == {"README.md"} | {f"{s}-propagationpolicy.yaml" for s in services}
    for service in services:
        (doc,) = list(yaml.safe_load_all(files[f"{service}-propagationpolicy.yaml"]))
        assert doc["apiVersion"] == "policy.karmada.io/v1alpha1"
        assert doc["kind"] == "PropagationPolicy"
        assert {"kind": "Deployment", "apiVersion": "apps/v1", "name": service} in doc["spec"][
            "resourceSelectors"
        ]
        placement = doc["spec"]["placement"]
        mine = [p for p in k8s if p["service"] == service]
        vcpu: Counter[str] = Counter()
        for p in mine:
            vcpu[cluster_name(p["region"])] += p["capacity"]["per_unit"]["vcpu"] * p["units"]
        assert sorted(placement["clusterAffinity"]["clusterNames"]) == sorted(vcpu)
        weights = {
            w["targetCluster"]["clusterNames"][0]: w["weight"]
            for w in placement["replicaScheduling"]["weightPreference"]["staticWeightList"]
        }
        first = next(iter(vcpu))
        for cluster, v in vcpu.items():  # weights are proportional to the vCPU held there
            assert weights[cluster] * vcpu[first] == pytest.approx(weights[first] * v)
        assert placement["replicaScheduling"]["replicaDivisionPreference"] == "Weighted"
    for cluster in {cluster_name(p["region"]) for p in k8s}:
        assert cluster in files["README.md"]


def test_karmada_without_kubernetes_says_so(tf_plan: dict[str, Any]) -> None:
    plan = {
        **tf_plan,
        "placements": [p for p in tf_plan["placements"] if p["category"] != "compute.k8s"],
    }
    files = export_karmada(plan)
    assert set(files) == {"README.md"} and "nothing to propagate" in files["README.md"]


@pytest.mark.parametrize("which", ["tf_plan", "k8s_plan"])
def test_infracost_total_is_the_objective_to_the_cent(
    which: str, request: pytest.FixtureRequest
) -> None:
    plan = request.getfixturevalue(which)
    out = json.loads(json.dumps(export_infracost(plan)))  # what a reader of the file gets
    assert out["version"] == "0.2" and out["currency"] == "USD"
    total = Decimal(out["totalMonthlyCost"])
    assert round(total, 2) == round(Decimal(repr(plan["objective_usd_per_month"])), 2)
    (project,) = out["projects"]
    resources = project["breakdown"]["resources"]
    assert sum(Decimal(r["monthlyCost"]) for r in resources) == total
    for r in resources:
        assert sum(Decimal(c["monthlyCost"]) for c in r["costComponents"]) == Decimal(
            r["monthlyCost"]
        )
        for c in r["costComponents"]:
            assert {"name", "unit", "monthlyQuantity", "price", "monthlyCost", "hourlyCost"} <= set(
                c
            )
    components = [c for r in resources for c in r["costComponents"]]
    assert len(components) == len(plan["placements"]) + len(plan["fees"]) + len(plan["traffic"])
    assert project["breakdown"]["totalMonthlyCost"] == out["totalMonthlyCost"]


def test_infracost_diff_shape(tf_plan: dict[str, Any], k8s_plan: dict[str, Any]) -> None:
    diff = json.loads(json.dumps(infracost_diff(tf_plan, k8s_plan)))
    past, head = Decimal(diff["pastTotalMonthlyCost"]), Decimal(diff["totalMonthlyCost"])
    assert Decimal(diff["diffTotalMonthlyCost"]) == head - past
    assert past == Decimal(export_infracost(tf_plan)["totalMonthlyCost"])
    assert head == Decimal(export_infracost(k8s_plan)["totalMonthlyCost"])
    (project,) = diff["projects"]
    assert {"pastBreakdown", "breakdown", "diff"} <= set(project)
    changed = project["diff"]["resources"]
    assert sum(Decimal(r["monthlyCost"]) for r in changed) == head - past
    same = infracost_diff(tf_plan, tf_plan)
    assert same["diffTotalMonthlyCost"] == "0" and same["projects"][0]["diff"]["resources"] == []


def test_exporters_refuse_what_is_not_a_plan() -> None:
    for bad in (
        [],
        {},
        {"planned_values": {}},
        {"placements": [{"service": "x"}], "services": [], "objective_usd_per_month": 1},
    ):
        for export in (export_terraform, export_karmada, export_infracost):
            with pytest.raises(InputError, match="Fix:"):
                export(bad)  # type: ignore[arg-type]


# ------------------------------------------------------------------ the command line
def test_readme_round_trip_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's lines: import the bundled Terraform plan, plan it, export it three ways."""
    monkeypatch.chdir(tmp_path)
    assert main(["import", "terraform", str(TF_SAMPLE), "--out", "shop.yaml"]) == 0
    err = capsys.readouterr().err
    assert "skipped aws_vpc.main" in err and "wrote shop.yaml" in err
    assert (
        main(
            [
                "plan",
                "shop.yaml",
                "--format",
                "json",
                "--out",
                "plan.json",
                "--time-limit",
                "20",
                "--quiet",
            ]
        )
        == 0
    )
    assert main(["export", "plan.json", "--to", "terraform", "terraform"]) == 0
    assert main(["export", "plan.json", "--to", "infracost", "infracost.json"]) == 0
    assert main(["export", "plan.json", "--to", "karmada", "karmada"]) == 0
    plan = json.loads((tmp_path / "plan.json").read_text())
    files = {
        str(p.relative_to(tmp_path / "terraform")): p.read_text()
        for p in (tmp_path / "terraform").rglob("*")
        if p.is_file()
    }
    check_terraform(files, plan)
    cost = json.loads((tmp_path / "infracost.json").read_text())
    assert round(Decimal(cost["totalMonthlyCost"]), 2) == round(
        Decimal(repr(plan["objective_usd_per_month"])), 2
    )
    assert (tmp_path / "karmada" / "README.md").is_file()
    # never overwrite without --force; with it, the same files again
    capsys.readouterr()
    assert main(["export", "plan.json", "--to", "terraform", "terraform"]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["export", "plan.json", "--to", "infracost", "infracost.json"]) == 2
    assert main(["export", "plan.json", "--to", "terraform", "terraform", "--force"]) == 0
    assert main(["import", "terraform", str(TF_SAMPLE), "--out", "shop.yaml"]) == 2


def test_kubernetes_import_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "k8s.yaml"
    assert (
        main(
            [
                "import",
                "kubernetes",
                str(K8S_SAMPLE),
                "--region",
                "aws/ap-northeast-2",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert "skipped Deployment/mailer" in err
    text = out.read_text()
    assert text.startswith("# Imported by `mcplan import kubernetes`")
    assert "#   - Deployment/mailer:" in text
    spec_from_text(text)
    assert main(["import", "kubernetes", str(K8S_SAMPLE / "web.yaml")]) == 0
    assert "category: network.lb" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["import", "terraform", "{missing}"], "no such file"),
        (["import", "terraform", "{notjson}"], "not JSON"),
        (["import", "terraform", "{state}"], "not the JSON of a Terraform plan"),
        (["import", "kubernetes", "{empty}"], "holds no manifest"),
        (["import", "kubernetes", "{badyaml}"], "not valid YAML"),
        (
            ["import", "kubernetes", str(K8S_SAMPLE), "--region", "aws/nowhere"],
            "not a catalog region",
        ),
        (["export", "{notjson}", "--to", "infracost"], "not JSON"),
        (["export", "{state}", "--to", "infracost"], "missing or not a list"),
        (["export", "{tfplan}", "--to", "karmada", "{empty}"], "mcplan import terraform"),
        (["export", "{plan}", "--to", "terraform"], "writes a folder"),
        (["export", "{plan}", "--to", "helm", "x"], "not a format"),
        (["import", "terraform", str(TF_SAMPLE), "--max-latency-ms", "-3"], "positive"),
    ],
)
def test_bad_input_exits_2_with_a_fix(
    argv: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notjson.json").write_text("app: not json\n")
    (tmp_path / "state.json").write_text(json.dumps({"format_version": "1.0", "values": {}}))
    (tmp_path / "empty").mkdir()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.yaml").write_text("kind: Deployment\n  metadata: [\n")
    (tmp_path / "plan.json").write_text(
        json.dumps({"app": "a", "objective_usd_per_month": 0, "services": [], "placements": []})
    )
    names = {
        "missing": tmp_path / "missing.json",
        "notjson": tmp_path / "notjson.json",
        "state": tmp_path / "state.json",
        "empty": tmp_path / "empty",
        "badyaml": bad,
        "tfplan": TF_SAMPLE,
        "plan": tmp_path / "plan.json",
    }
    code = run([a.format(**names) for a in argv])
    assert code == 2
    err = capsys.readouterr().err
    assert expected in err
    assert "Traceback" not in err
    # file problems carry a fix; argument mistakes say the valid choice in the message itself
    if "{" in " ".join(argv):
        assert any(w in err for w in ("Fix:", "e.g.", "use one of", "did you mean")), err


def run(argv: list[str]) -> int:
    """`mcplan ARGV` in this process; an argument error (argparse) exits as SystemExit."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


def test_strategy_diff_for_compare(catalog: Catalog) -> None:
    """What `mcplan compare --format infracost-diff` returns: two strategies' plans, diffed."""
    from planner.interop.infracost import strategy_diff
    from planner.spec import load_spec

    spec = load_spec(ROOT / "examples" / "single-dc.yaml")
    options = PlanOptions(time_limit=20)
    diff = strategy_diff(spec, catalog, options, ["single_region", "optimal"])
    past, head = Decimal(diff["pastTotalMonthlyCost"]), Decimal(diff["totalMonthlyCost"])
    assert Decimal(diff["diffTotalMonthlyCost"]) == head - past
    assert diff["projects"][0]["metadata"]["strategies"] == {
        "base": "single_region",
        "head": "optimal",
    }
    with pytest.raises(InputError, match="two strategies"):
        strategy_diff(spec, catalog, options, ["optimal"])
    with pytest.raises(InputError, match="unknown strategy"):
        strategy_diff(spec, catalog, options, ["optimal", "cheapest"])


def test_zip_files_is_deterministic_and_complete(tf_plan: dict[str, Any]) -> None:
    import io
    import zipfile

    from planner.interop import zip_files

    files = export_terraform(tf_plan)
    first, again = (
        zip_files(files, "terraform"),
        zip_files(dict(reversed(list(files.items()))), "terraform"),
    )
    assert first == again
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {
            n.removeprefix("terraform/"): archive.read(n).decode() for n in archive.namelist()
        } == files


def test_the_command_line_does_not_load_the_formats_to_start() -> None:
    """`mcplan plan` registers import/export but must not pay for them (nor for the catalog)."""
    import subprocess
    import sys

    code = (
        "import sys, planner.cli; planner.cli.build_parser(); "
        "print(sorted(m for m in sys.modules "
        "if m.startswith('planner.interop.') or m == 'networkx'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['planner.interop.commands', 'planner.interop.defaults']"


def test_the_same_input_gives_the_same_files(catalog: Catalog, tf_plan: dict[str, Any]) -> None:
    data = json.loads(TF_SAMPLE.read_text(encoding="utf-8"))
    first = import_terraform(data, catalog.regions, "a.json").text()
    assert (
        import_terraform(json.loads(TF_SAMPLE.read_text()), catalog.regions, "a.json").text()
        == first
    )
    docs = read_manifests(K8S_SAMPLE)
    assert (
        import_kubernetes(docs, catalog.regions).text()
        == import_kubernetes(read_manifests(K8S_SAMPLE), catalog.regions).text()
    )
    assert export_terraform(tf_plan) == export_terraform(json.loads(json.dumps(tf_plan)))
    assert export_karmada(tf_plan) == export_karmada(json.loads(json.dumps(tf_plan)))
    assert json.dumps(export_infracost(tf_plan)) == json.dumps(
        export_infracost(json.loads(json.dumps(tf_plan)))
    )
