"""Tests for planner.catalog.importers, on the real public data sets where they are present.

The reference files (skyplane latency and egress tables, SkyPilot catalog subsets) are not part of
the repository; tests that need them skip with a clear reason when the folder is absent. Expected
values are read off the files independently (the csv module, no importer code) or quoted from
SOURCES.md, so a reader bug cannot make its own expectation.
"""

from __future__ import annotations

import csv
from pathlib import Path
from statistics import mean

import pandas as pd
import pytest

from planner.catalog import default_catalog_dir, load_catalog
from planner.catalog.importers import (
    ImportSummary,
    import_into_catalog,
    read_egress_table,
    read_internet_egress,
    read_latency_table,
    read_skypilot_vms,
)
from planner.errors import CatalogError, OutputExistsError

REPO = Path(__file__).resolve().parents[1]
BASE = default_catalog_dir()  # the shipped catalog, wherever the package is installed from
SKYPLANE_URL = "https://github.com/skyplane-project/skyplane"
SKYPILOT_URL = "https://github.com/skypilot-org/skypilot-catalog"


def reference_dir() -> Path:
    """The shared public data sets next to the repository, or skip: they are not shipped with it."""
    ref = REPO.parent / "shared" / "reference-data"
    if not ref.is_dir():
        pytest.skip("reference data folder ../shared/reference-data not present")
    return ref


@pytest.fixture(scope="module")
def ref() -> Path:
    return reference_dir()


def _data_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _pair(df: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    return df[(df["src"] == a) & (df["dst"] == b)]


# ---------------------------------------------------------------- readers on the real files
def test_latency_table_real(ref: Path) -> None:
    path = ref / "skyplane" / "latency.csv"
    raw = _data_rows(path)
    assert len(raw) == 8010
    lat = read_latency_table(path)
    assert list(lat.columns) == ["src", "dst", "rtt_ms"]
    regions = set(lat["src"]) | set(lat["dst"])
    by_provider = pd.Series(sorted(regions)).str.split("/").str[0].value_counts().to_dict()
    assert by_provider == {"aws": 21, "azure": 21, "gcp": 27}  # 69 regions, as SOURCES.md says
    # every pair once, both directions folded into one row: of the 69 * 68 / 2 = 2,346 pairs, the
    # 16 measured only over GCP's Standard tier or only in spiky runs are left out (docs/latency.md)
    assert len(lat) == 69 * 68 // 2 - 16
    assert (lat["src"] < lat["dst"]).all()
    assert not lat.duplicated(["src", "dst"]).any()
    # GCP zones collapse to their region
    assert "gcp/asia-northeast3" in regions
    assert not any(r.startswith("gcp/") and r[-2] == "-" for r in regions)

    # Seoul <-> Tokyo, averaged over both directions independently of the importer
    def directed(s: str, d: str) -> float:
        return mean(
            float(r["avg_rtt"]) for r in raw if r["src_region"] == s and r["dst_region"] == d
        )

    expected = mean(
        [
            directed("aws:ap-northeast-2", "aws:ap-northeast-1"),
            directed("aws:ap-northeast-1", "aws:ap-northeast-2"),
        ]
    )
    got = _pair(lat, "aws/ap-northeast-1", "aws/ap-northeast-2")["rtt_ms"].item()
    assert got == pytest.approx(expected)
    assert got == pytest.approx(32, abs=1.5)


def test_aws_transfer_costs_real(ref: Path) -> None:
    path = ref / "skyplane" / "aws_transfer_costs.csv"
    raw = _data_rows(path)
    assert len(raw) == 674
    n_internet = sum(r["dst"] == "internet" for r in raw)
    eg = read_egress_table(path)
    # documented: internet rows are dropped from the pair table and returned by read_internet_egress
    assert len(eg) == len(raw) - n_internet == 648
    assert not eg["dst"].str.contains("internet").any()
    assert eg["src"].str.startswith("aws/").all() and eg["dst"].str.startswith("aws/").all()
    assert _pair(eg, "aws/us-east-1", "aws/us-east-2")["usd_per_gb"].item() == pytest.approx(0.01)
    assert set(eg.loc[eg["src"] == "aws/ap-northeast-2", "usd_per_gb"]) == {0.08}
    net = read_internet_egress(path).set_index("src")["usd_per_gb"]
    assert len(net) == n_internet
    assert net["aws/us-east-1"] == pytest.approx(0.09)
    assert net["aws/ap-northeast-2"] == pytest.approx(0.126)


def test_broadcast_cost_real(ref: Path) -> None:
    path = ref / "skyplane" / "broadcast_cost.csv"
    raw = _data_rows(path)
    assert len(raw) == 4970
    eg = read_egress_table(path)  # `dest` column accepted
    assert len(eg) == 4970  # one zone per GCP region in this file, so nothing collapses
    assert not (eg["src"] == eg["dst"]).any()
    assert _pair(eg, "aws/us-east-2", "azure/eastus")["usd_per_gb"].item() == pytest.approx(0.09)
    assert _pair(eg, "gcp/asia-northeast3", "gcp/australia-southeast1")[
        "usd_per_gb"
    ].item() == pytest.approx(0.15)
    assert eg["usd_per_gb"].between(0.01, 0.2).all()


def test_skypilot_subsets_real(ref: Path) -> None:
    aws = read_skypilot_vms(ref / "skypilot-catalog" / "aws_m5_large_by_region.csv", "aws")
    assert list(aws.columns) == ["sku", "region", "vcpu", "mem_gib", "price_usd"]
    assert len(aws) == 24
    prices = aws.set_index("region")["price_usd"]
    assert prices["ap-northeast-2"] == pytest.approx(0.118)
    assert prices["us-east-1"] == pytest.approx(0.096)
    assert (aws["vcpu"] == 2).all() and (aws["mem_gib"] == 8).all()
    gcp = read_skypilot_vms(ref / "skypilot-catalog" / "gcp_n2_standard_2_by_region.csv", "gcp")
    assert len(gcp) == 37
    assert gcp.set_index("region").at["asia-northeast3", "price_usd"] == pytest.approx(0.12472)


def test_skypilot_full_format(tmp_path: Path) -> None:
    """The full vms.csv layout: one row per AZ, GPU rows, and empty prices where not sold."""
    f = tmp_path / "vms.csv"
    f.write_text(
        "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,"
        "Region,AvailabilityZone,Arch\n"
        "m5.large,,,2.0,8.0,,0.096,0.04,us-east-1,use1-az1,x86_64\n"
        "m5.large,,,2.0,8.0,,0.097,0.04,us-east-1,use1-az2,x86_64\n"
        "m5.large,,,2.0,8.0,,0.118,0.03,ap-northeast-2,apne2-az1,x86_64\n"
        "p3.2xlarge,V100,1.0,8.0,61.0,{},3.06,1.0,us-east-1,use1-az1,x86_64\n"
        "m5.xlarge,,,4.0,16.0,,,,us-east-1,use1-az1,x86_64\n"
        "m5.2xlarge,,,8.0,32.0,,0,,us-east-1,use1-az1,x86_64\n",
        encoding="utf-8",
    )
    df = read_skypilot_vms(f, "aws")
    assert df.to_dict("records") == [
        {
            "sku": "m5.large",
            "region": "ap-northeast-2",
            "vcpu": 2.0,
            "mem_gib": 8.0,
            "price_usd": 0.118,
        },
        {"sku": "m5.large", "region": "us-east-1", "vcpu": 2.0, "mem_gib": 8.0, "price_usd": 0.096},
    ]


def test_latency_duplicates_and_zones(tmp_path: Path) -> None:
    f = tmp_path / "lat.csv"
    f.write_text(
        "src,dst,rtt_ms\n"
        "gcp:asia-northeast3-a,aws:ap-northeast-2,2.0\n"
        "gcp:asia-northeast3-b,aws:ap-northeast-2,4.0\n"  # same pair via another zone
        "aws:ap-northeast-2,gcp:asia-northeast3-c,9.0\n"  # reverse direction
        "gcp:asia-northeast3-a,gcp:asia-northeast3-b,0.5\n",  # inside one region: dropped
        encoding="utf-8",
    )
    lat = read_latency_table(f)
    # a->b averages to 3, b->a is 9, the pair is their mean
    assert lat.to_dict("records") == [
        {"src": "aws/ap-northeast-2", "dst": "gcp/asia-northeast3", "rtt_ms": 6.0}
    ]


def test_egress_zone_collapse_takes_max(tmp_path: Path) -> None:
    f = tmp_path / "eg.csv"
    f.write_text(
        "src,dest,cost\n"
        "gcp:us-east1-b,aws:us-east-1,0.12\n"
        "gcp:us-east1-c,aws:us-east-1,0.19\n"
        "us-east-1,gcp:us-east1-b,0.09\n"
        "us-east-1,internet,0.09\n",
        encoding="utf-8",
    )
    eg = read_egress_table(f)
    assert eg.to_dict("records") == [
        {"src": "aws/us-east-1", "dst": "gcp/us-east1", "usd_per_gb": 0.09},
        {"src": "gcp/us-east1", "dst": "aws/us-east-1", "usd_per_gb": 0.19},
    ]
    assert read_internet_egress(f).to_dict("records") == [
        {"src": "aws/us-east-1", "usd_per_gb": 0.09}
    ]


# ---------------------------------------------------------------- import into a catalog copy
def test_import_new_sku_latency_and_aws_egress(ref: Path, tmp_path: Path) -> None:
    out = tmp_path / "cat"
    lat_file = ref / "skyplane" / "latency.csv"
    eg_file = ref / "skyplane" / "aws_transfer_costs.csv"
    summary = import_into_catalog(
        BASE,
        out,
        skypilot=ref / "skypilot-catalog" / "aws_m5a_large_by_region_partial.csv",
        provider="aws",
        latency=lat_file,
        egress=eg_file,
        source_url=SKYPLANE_URL,
        as_of="2024-01-09",
    )
    assert isinstance(summary, ImportSummary) and summary.out_dir == out
    assert summary.skus_added == ("m5a.large",)
    assert summary.prices_written == 11 and summary.prices_replaced == 0
    assert summary.latency_pairs_written == 2330 and summary.latency_pairs_dropped == 0
    # us-gov-east-1 is not a catalog region: its pairs are dropped and named
    eg = read_egress_table(eg_file)
    gov = (eg["src"] == "aws/us-gov-east-1") | (eg["dst"] == "aws/us-gov-east-1")
    assert summary.egress_pairs_dropped == int(gov.sum()) > 0
    assert summary.egress_pairs_written == len(eg) - int(gov.sum())
    assert summary.unknown_regions == ("aws/us-gov-east-1",)

    base = load_catalog(BASE)
    cat = load_catalog(out)
    # measured RTT comes from the imported table (the shipped catalog already holds this import)
    lat = read_latency_table(lat_file)
    row = _pair(lat, "aws/eu-north-1", "azure/eastus")
    i, j = cat.region_pos["aws/eu-north-1"], cat.region_pos["azure/eastus"]
    assert cat.latency_measured_mask[i, j]
    expected = pytest.approx(row["rtt_ms"].item(), abs=1e-3)
    assert cat.rtt_ms("aws/eu-north-1", "azure/eastus") == expected
    assert cat.rtt_ms("azure/eastus", "aws/eu-north-1") == expected
    # an imported exact egress price overrides the provider rule (0.02 -> 0.01), in one direction
    assert base.egress_rate("aws/us-east-1", "aws/us-east-2") == pytest.approx(0.02)
    assert cat.egress_rate("aws/us-east-1", "aws/us-east-2") == pytest.approx(0.01)
    # the new SKU: offered only where priced, at the exact list price, provenance as given
    m5a = cat.offerings[cat.offerings["sku"] == "m5a.large"]
    assert len(m5a) == 11 and "aws/us-east-1" not in set(m5a["region"])
    seoul = m5a.loc["aws/ap-northeast-2/m5a.large"]
    assert seoul["usd_per_month"] == pytest.approx(0.106 * 730)
    assert seoul["price_basis"] == "list" and seoul["status"] == "V"
    assert seoul["sla_pct"] == base.offerings.loc["aws/us-east-1/m5.large", "sla_pct"]
    assert seoul["price_usd"] == pytest.approx(0.056)  # no base-region price: cheapest region
    # the shipped catalog was not touched
    assert "m5a.large" not in set(base.offerings["sku"])


def test_import_existing_sku_and_broadcast_egress(ref: Path, tmp_path: Path) -> None:
    out = tmp_path / "cat"
    summary = import_into_catalog(
        BASE,
        out,
        skypilot=ref / "skypilot-catalog" / "gcp_n2_standard_2_by_region.csv",
        provider="gcp",
        egress=ref / "skyplane" / "broadcast_cost.csv",
        source_url=SKYPILOT_URL,
        as_of="2026-11-26",
    )
    assert summary.skus_added == () and summary.skus_already_listed == ("n2-standard-2",)
    assert summary.prices_written == 37 and summary.prices_replaced == 37
    assert summary.egress_pairs_written == 4970 and summary.egress_pairs_dropped == 0
    prices = pd.read_csv(out / "gcp" / "prices.csv", dtype=str, keep_default_na=False)
    assert not prices.duplicated(["sku", "region"]).any()
    assert set(prices["as_of"]) == {"2026-11-26"}
    offerings_before = (BASE / "gcp" / "offerings.csv").read_text(encoding="utf-8")
    assert (out / "gcp" / "offerings.csv").read_text(encoding="utf-8") == offerings_before
    cat = load_catalog(out)
    assert cat.offerings.loc["gcp/asia-northeast3/n2-standard-2", "usd_per_month"] == pytest.approx(
        0.12472 * 730
    )
    assert cat.egress_rate("gcp/asia-northeast3", "gcp/australia-southeast1") == pytest.approx(0.15)
    assert cat.egress_rate("gcp/asia-northeast3", "gcp/asia-northeast3") == 0.0


def test_import_drops_unknown_regions_and_keeps_other_rows(tmp_path: Path) -> None:
    lat = tmp_path / "lat.csv"
    lat.write_text(
        "src_region,dst_region,avg_rtt\n"
        "aws:ap-northeast-2,aws:ap-northeast-1,31.0\n"
        "aws:ap-northeast-2,aws:mars-1,900.0\n",
        encoding="utf-8",
    )
    summary = import_into_catalog(
        BASE, tmp_path / "out", latency=lat, source_url=SKYPLANE_URL, as_of="2022-11-02"
    )
    assert summary.latency_pairs_written == 1 and summary.latency_pairs_dropped == 1
    assert summary.unknown_regions == ("aws/mars-1",)
    cat = load_catalog(tmp_path / "out")
    base = load_catalog(BASE)
    assert cat.rtt_ms("aws/ap-northeast-1", "aws/ap-northeast-2") == 31.0  # replaced
    assert len(cat.latency_measured) == len(base.latency_measured)  # others kept, no duplicate


def test_out_dir_not_empty_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(OutputExistsError, match="not empty"):
        import_into_catalog(BASE, out, source_url=SKYPLANE_URL, as_of="2022-11-02")
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_empty_out_dir_is_used(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    import_into_catalog(BASE, out, source_url=SKYPLANE_URL, as_of="2022-11-02")
    assert (out / "providers.csv").exists()


def test_bad_input_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "lat.csv"
    bad.write_text("src,dst,rtt_ms\naws:us-east-1,aws:us-east-2,fast\n", encoding="utf-8")
    with pytest.raises(CatalogError):
        import_into_catalog(
            BASE, tmp_path / "out", latency=bad, source_url=SKYPLANE_URL, as_of="2022-11-02"
        )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"as_of": "26/11/2026"}, "as_of"),
        ({"source_url": " "}, "source_url"),
        ({"skypilot": "vms.csv"}, "provider"),  # a price file without its provider
    ],
)
def test_bad_arguments(tmp_path: Path, kwargs: dict[str, str], field: str) -> None:
    args = {"source_url": SKYPLANE_URL, "as_of": "2022-11-02", **kwargs}
    with pytest.raises(CatalogError) as err:
        import_into_catalog(BASE, tmp_path / "out", **args)  # type: ignore[arg-type]
    assert err.value.problems[0].field == field
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- bad inputs
SKY_HEADER = "InstanceType,vCPUs,MemoryGiB,Region,Price\n"
READERS = {
    "skypilot": lambda p: read_skypilot_vms(p, "aws"),
    "latency": read_latency_table,
    "egress": read_egress_table,
}


@pytest.mark.parametrize(
    "reader, text, where, column, message",
    [
        (
            "skypilot",
            "InstanceType,vCPUs,Region,Price\nm5.large,2,us-east-1,0.1\n",
            "header",
            "MemoryGiB",
            "required column is missing",
        ),
        (
            "skypilot",
            SKY_HEADER + "m5.large,2,8,us-east-1,0.096\nm5.large,2,8,us-east-2,-0.1\n",
            "row 3",
            "Price",
            "negative",
        ),
        (
            "skypilot",
            SKY_HEADER + "m5.large,2,8,us-east-1,cheap\n",
            "row 2",
            "Price",
            "not a number",
        ),
        (
            "skypilot",
            SKY_HEADER + "m5.large,two,8,us-east-1,0.1\n",
            "row 2",
            "vCPUs",
            "not a number",
        ),
        (
            "latency",
            "src,dst\naws:us-east-1,aws:us-east-2\n",
            "header",
            "avg_rtt",
            "required column is missing",
        ),
        (
            "latency",
            "src,dst,rtt_ms\naws:us-east-1,aws:us-east-2,-3\n",
            "row 2",
            "rtt_ms",
            "negative",
        ),
        (
            "latency",
            "src,dst,rtt_ms\naws:us-east-1,aws:us-east-2,n/a\n",
            "row 2",
            "rtt_ms",
            "not a number",
        ),
        (
            "latency",
            "src,dst,rtt_ms\nus-east-1,aws:us-east-2,5\n",
            "row 2",
            "src",
            "not a `provider:region` key",
        ),
        (
            "egress",
            "src,to,cost\nus-east-1,us-east-2,0.01\n",
            "header",
            "dst",
            "required column is missing",
        ),
        (
            "egress",
            "src,dst,cost\nus-east-1,us-east-2,0.01\n\nus-east-1,internet,-0.09\n",
            "row 4",
            "cost",
            "negative",
        ),
        ("egress", "src,dst,cost\nus-east-1,us-east-2,1e9\n", "row 2", "cost", "above"),
    ],
)
def test_bad_rows_are_located(
    tmp_path: Path, reader: str, text: str, where: str, column: str, message: str
) -> None:
    f = tmp_path / "in.csv"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError) as err:
        READERS[reader](f)
    problems = err.value.problems
    assert len(problems) == 1
    p = problems[0]
    assert (p.file, p.where, p.field) == (str(f), where, column)
    assert message in p.message and p.fix
    assert where in str(err.value)


def test_every_bad_row_is_reported(tmp_path: Path) -> None:
    f = tmp_path / "vms.csv"
    f.write_text(
        SKY_HEADER + "a.large,2,8,r1,-1\nb.large,2,8,r1,x\nc.large,2,8,r1,0.1\nd.large,2,8,r1,-2\n",
        encoding="utf-8",
    )
    with pytest.raises(CatalogError) as err:
        read_skypilot_vms(f, "aws")
    assert [p.where for p in err.value.problems] == ["row 2", "row 3", "row 5"]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "file is empty"),
        (b"\n\n", "file is empty"),
        (SKY_HEADER.encode(), "no data rows"),
        (bytes(range(256)) * 8, "binary"),
        (b"InstanceType,Price\n\xff\xfe caf\xe9,0.1\n", "not UTF-8"),
    ],
)
@pytest.mark.parametrize("reader", sorted(READERS))
def test_unreadable_files(tmp_path: Path, reader: str, content: bytes, message: str) -> None:
    f = tmp_path / "in.csv"
    f.write_bytes(content)
    with pytest.raises(CatalogError, match=message):
        READERS[reader](f)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="file not found"):
        read_latency_table(tmp_path / "nope.csv")
