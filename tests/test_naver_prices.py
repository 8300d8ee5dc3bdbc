"""Naver Cloud prices (issue 16): every shipped Naver price is a cited third-party figure (status S)
or a labelled assumption (source `assumption`, status U); no other provider's prices stand in for
Naver's any more (catalogs/README.md, "Naver Cloud prices")."""

from __future__ import annotations

import pandas as pd
import pytest

from planner import Catalog
from planner.catalog import default_catalog_dir
from planner.catalog.offerings import HOURS_PER_MONTH

NAVER = default_catalog_dir() / "naver"
TUMBLEBUG = (
    "https://github.com/cloud-barista/cb-tumblebug/blob/"
    "c40a6a5ca8afedeb20373292561599739a3fa0a6/assets/cloudspec.csv"
)
BLOG = "https://blog.greatpark.co.kr/71"
KRW_PER_USD = 1241.59  # Federal Reserve H.10, 2023-01-13 (catalogs/README.md)

# USD per hour in cb-tumblebug's assets/cloudspec.csv at the commit above
SERVER_PRICES = {
    ("s2-g3", "KR"): 0.0848,
    ("s2-g3", "SGN"): 0.0892,
    ("s2-g3", "JPN"): 0.0922,
    ("s4-g3", "KR"): 0.1747,
    ("s4-g3", "SGN"): 0.1836,
    ("s4-g3", "JPN"): 0.1895,
    ("s8-g3", "KR"): 0.3546,
    ("s8-g3", "SGN"): 0.3723,
    ("s8-g3", "JPN"): 0.3833,
    ("s16-g3", "KR"): 0.7151,
    ("s16-g3", "SGN"): 0.7512,
    ("s16-g3", "JPN"): 0.7726,
    ("ci2-g3", "KR"): 0.0730,
    ("ci4-g3", "KR"): 0.1511,
    ("ci8-g3", "KR"): 0.3074,
    ("ci16-g3", "KR"): 0.6207,
}
MEMORY_CONFIRMED = {"s2-g3", "s4-g3", "ci2-g3"}  # by cloud-barista/cm-beetle's test results
MEMORY_INFERRED = {"s8-g3", "s16-g3", "ci4-g3", "ci8-g3", "ci16-g3"}  # from the naming rule


def _csv(name: str) -> pd.DataFrame:
    return pd.read_csv(NAVER / name, dtype=str, keep_default_na=False)


def _naver(catalog: Catalog) -> pd.DataFrame:
    off = catalog.offerings
    return off[off["provider"] == "naver"]


@pytest.mark.parametrize("name", ["offerings.csv", "prices.csv"])
def test_no_naver_row_cites_a_proxy(name: str) -> None:
    """No Naver row borrows another provider's prices: each cites its own source or says
    `assumption`; none points at the SkyPilot catalog (which has no Naver prices)."""
    rows = _csv(name)
    assert len(rows) > 0
    assert not rows["source_url"].str.contains("skypilot", case=False).any()
    cited = rows[rows["source_url"] != "assumption"]
    assert set(cited["source_url"]) <= {TUMBLEBUG, BLOG}


def test_no_loaded_naver_offering_cites_a_proxy(catalog: Catalog) -> None:
    naver = _naver(catalog)
    assert not naver["source_url"].str.contains("skypilot", case=False).any()
    assert set(naver["source_url"]) <= {TUMBLEBUG, BLOG, "assumption"}


def test_s2_g3_in_korea_costs_its_cited_hourly_price(catalog: Catalog) -> None:
    row = catalog.offerings.loc["naver/KR/s2-g3"]
    assert HOURS_PER_MONTH == 730
    assert row["usd_per_month"] == pytest.approx(0.0848 * 730)
    assert row["price_basis"] == "list"
    assert (row["vcpu"], row["mem_gib"]) == (2, 8)


@pytest.mark.parametrize(("sku", "region"), sorted(SERVER_PRICES))
def test_every_server_price_is_the_cited_one(catalog: Catalog, sku: str, region: str) -> None:
    row = catalog.offerings.loc[f"naver/{region}/{sku}"]
    assert row["usd_per_month"] == pytest.approx(SERVER_PRICES[sku, region] * 730)
    assert row["price_basis"] == "list"
    assert row["source_url"] == TUMBLEBUG and row["as_of"] == "2025-07-22"


def test_servers_only_where_the_source_prices_them(catalog: Catalog) -> None:
    """No base x factor estimate for a server: USWN and DEN (Classic-only) have none."""
    naver = _naver(catalog)
    vms = naver[naver["category"] == "compute.vm"]
    assert set(zip(vms["sku"], vms["region"].str.removeprefix("naver/"), strict=True)) == set(
        SERVER_PRICES
    )
    assert (vms["price_basis"] == "list").all()


def test_cited_price_rows_are_secondary_source_rows() -> None:
    prices = _csv("prices.csv")
    cited = prices[prices["source_url"] != "assumption"]
    assert (cited["status"] == "S").all()
    assert set(cited.loc[cited["source_url"] == TUMBLEBUG, "as_of"]) == {"2025-07-22"}
    assert set(cited.loc[cited["source_url"] == BLOG, "as_of"]) == {"2023-01-22"}
    keyed = {
        (s, r): float(p)
        for s, r, p in zip(cited["sku"], cited["region"], cited["price_usd"], strict=True)
        if s in MEMORY_CONFIRMED | MEMORY_INFERRED
    }
    assert keyed == SERVER_PRICES


def test_memory_follows_the_documented_rule() -> None:
    """s = 4 GiB and ci = 2 GiB per vCPU; an offering row whose memory is only inferred from the
    naming rule is status U (its price in prices.csv stays S)."""
    offs = _csv("offerings.csv").set_index("sku")
    for sku in MEMORY_CONFIRMED | MEMORY_INFERRED:
        vcpu, mem = float(offs.at[sku, "vcpu"]), float(offs.at[sku, "mem_gib"])
        assert vcpu == float(sku.split("-")[0].lstrip("cis"))
        assert mem == vcpu * (4 if sku.startswith("s") else 2)
        assert offs.at[sku, "source_url"] == TUMBLEBUG
        assert offs.at[sku, "status"] == ("S" if sku in MEMORY_CONFIRMED else "U")


@pytest.mark.parametrize("name", ["offerings.csv", "prices.csv"])
def test_each_assumption_row_is_unverified(name: str) -> None:
    rows = _csv(name)
    assumed = rows[rows["source_url"] == "assumption"]
    assert len(assumed) > 0
    assert (assumed["status"] == "U").all()
    # the only U rows with a cited source are servers whose memory is inferred
    cited_u = rows[(rows["status"] == "U") & (rows["source_url"] != "assumption")]
    assert set(cited_u["sku"]) <= MEMORY_INFERRED


def test_figures_without_a_source_stay_labelled_assumptions() -> None:
    """Besides servers and object storage nothing has a cited price: Cloud DB, Functions, LB,
    block storage, SSO, WORKS and NKS stay assumptions."""
    offs = _csv("offerings.csv")
    rest = offs[~offs["sku"].isin(MEMORY_CONFIRMED | MEMORY_INFERRED | {"object-storage"})]
    assert set(rest["category"]) == {
        "db.relational",
        "compute.serverless",
        "compute.k8s",
        "network.lb",
        "storage.block",
        "saas.identity",
        "saas.email",
    }
    assert (rest["source_url"] == "assumption").all()
    assert (rest["status"] == "U").all()


def test_nks_nodes_cost_the_server_of_their_size(catalog: Catalog) -> None:
    """Assumption: NKS worker nodes are billed as servers, with no cluster fee."""
    naver = _naver(catalog)
    nks = naver[naver["category"] == "compute.k8s"]
    assert len(nks) == 9
    for offering, row in nks.iterrows():
        server = str(offering).replace("/nks-", "/")
        assert row["usd_per_month"] == pytest.approx(catalog.offerings.at[server, "usd_per_month"])
        assert row["fixed_usd_per_month"] == 0
        assert row["source_url"] == "assumption" and row["status"] == "U"


def test_object_storage_is_28_krw_per_gb_month(catalog: Catalog) -> None:
    row = catalog.offerings.loc["naver/KR/object-storage"]
    assert row["source_url"] == BLOG and row["status"] == "S"
    assert row["price_basis"] == "list"
    usd_per_gb = row["usd_per_month"] / row["storage_gb"]
    assert usd_per_gb == pytest.approx(28 / KRW_PER_USD, rel=1e-3)


def test_the_exchange_rate_is_documented() -> None:
    readme = (default_catalog_dir() / "README.md").read_text(encoding="utf-8")
    assert "1 USD = 1,241.59 KRW" in readme
    assert "https://www.federalreserve.gov/releases/h10/20230117/" in readme
    assert "28 KRW per GB-month" in readme
