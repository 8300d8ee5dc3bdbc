"""Single or multi writer: the catalog states, for every database and cache offering, whether one
primary takes its writes or every replica does (catalogs/writers.csv; docs/model.md, rule 3)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import planner
from planner import Catalog
from planner.catalog import default_catalog_dir
from planner.catalog.columns import SINGLE_WRITER_CATEGORIES, WRITER_CATEGORIES
from planner.synthetic import SynthOffering, SynthRegion, make_catalog


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "catalog"
    shutil.copytree(default_catalog_dir(), folder)
    return folder


def _refusal(folder: Path) -> str:
    with pytest.raises(planner.CatalogError) as err:
        planner.load_catalog(folder)
    return str(err.value)


def test_every_database_and_cache_offering_states_its_writers(catalog: Catalog) -> None:
    off = catalog.offerings
    stateful = off[off["category"].isin(WRITER_CATEGORIES)]
    assert set(stateful["provider"]) >= {"aws", "azure", "gcp", "naver"}
    assert set(off["writers"]) <= {"single", "multi"}
    writers = dict(
        zip(stateful["provider"] + "/" + stateful["sku"], stateful["writers"], strict=True)
    )
    assert writers["aws/db.m5.large"] == "single"
    assert writers["aws/db.m5.large-multiaz"] == "single"  # the standby takes no writes
    assert writers["aws/rds-gp3-storage"] == "single"
    assert writers["aws/cache.m5.large"] == "single"
    assert writers["aws/dynamodb-storage"] == "multi"
    assert writers["aws/dynamodb-on-demand-requests"] == "multi"
    assert {w for o, w in writers.items() if not o.startswith("aws/")} == {"single"}
    # only DynamoDB is multi-writer; everything else (compute, storage) counts as single
    multi = off.loc[sorted(catalog.multi_writer_offerings)]
    assert set(multi["sku"]) == {"dynamodb-storage", "dynamodb-on-demand-requests"}
    assert set(SINGLE_WRITER_CATEGORIES) == {"db.relational", "cache"}


def test_single_writer_answers_per_offering_id(catalog: Catalog) -> None:
    ids = [
        "aws/ap-northeast-2/db.m5.large",
        "aws/ap-northeast-2/dynamodb-storage",
        "aws/ap-northeast-2/cache.m5.large",
        "aws/ap-northeast-2/m5.large",
        "aws/us-east-1/dynamodb-on-demand-requests",
    ]
    single = catalog.single_writer(ids)
    assert single.dtype == bool
    assert single.tolist() == [True, False, True, True, False]
    assert catalog.single_writer(iter(ids[:2])).tolist() == [True, False]  # any iterable
    assert catalog.single_writer([]).shape == (0,)
    with pytest.raises(KeyError):
        catalog.single_writer(["aws/ap-northeast-2/no-such-sku"])


def test_a_database_offering_without_a_row_is_a_catalog_problem(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    path = folder / "writers.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(x for x in lines if ",dynamodb-storage," not in x) + "\n")
    message = _refusal(folder)
    assert "writers.csv" in message and "aws/dynamodb-storage has no writers row" in message
    assert "Fix: add a row `aws,dynamodb-storage,single|multi," in message


def test_a_bad_writers_value_is_a_catalog_problem(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    path = folder / "writers.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("aws,cache.m5.large,single,", "aws,cache.m5.large,both,"))
    message = _refusal(folder)
    line = next(x for x in message.splitlines() if "'both'" in x)
    assert "writers.csv, row " in line and "aws/cache.m5.large" in line
    assert "Fix: `single`" in line and "`multi`" in line


def test_a_row_for_an_offering_that_is_not_a_database_is_a_problem(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    with (folder / "writers.csv").open("a", encoding="utf-8") as f:
        f.write("aws,m5.large,single,assumption,2026-12-02,U\n")
        f.write("aws,db.m5.large,multi,assumption,2026-12-02,U\n")
    message = _refusal(folder)
    assert "aws/m5.large is not a database or cache offering" in message
    assert "aws/db.m5.large has a second row" in message


def test_without_the_file_each_category_takes_its_default(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "writers.csv").unlink()
    cat = planner.load_catalog(folder)
    off = cat.offerings
    by_category = off.groupby("category")["writers"].agg(set).to_dict()
    assert by_category["db.relational"] == {"single"}
    assert by_category["cache"] == {"single"}
    assert by_category["db.keyvalue"] == {"multi"}
    assert by_category["compute.vm"] == {"single"}


def test_a_synthetic_catalog_states_writers_by_category() -> None:
    region = "p0/r0"
    cat = make_catalog(
        [SynthRegion("p0", "r0")],
        [
            SynthOffering(region, "vm", "compute.vm", 10.0, vcpu=2),
            SynthOffering(region, "pg", "db.relational", 10.0, tier="PaaS", vcpu=2),
            SynthOffering(region, "kv", "db.keyvalue", 10.0, tier="PaaS", requests_m=1),
            SynthOffering(region, "redis", "cache", 10.0, tier="PaaS", mem_gib=4),
            SynthOffering(region, "kv1", "db.keyvalue", 10.0, tier="PaaS", writers="single"),
        ],
    )
    ids = [f"{region}/{s}" for s in ("vm", "pg", "kv", "redis", "kv1")]
    assert cat.offerings.loc[ids, "writers"].tolist() == ["single"] * 2 + ["multi"] + ["single"] * 2
    np.testing.assert_array_equal(cat.single_writer(ids), [True, True, False, True, True])
