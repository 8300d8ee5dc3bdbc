"""Catalog validation: one broken copy of the shipped catalog per rule, with the message pinned.

Each test copies the shipped catalog into a temporary folder, corrupts exactly one thing and checks
that `load_catalog` raises a CatalogError naming the file, the row (the line in the CSV, header =
line 1), the field, and a message and fix a user can act on. The shipped catalog itself must
validate and carry provenance on every region and offering row (test T15).
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from planner.catalog import Catalog, default_catalog_dir, load_catalog
from planner.catalog.columns import STATUSES, TIERS
from planner.errors import CatalogError, Problem

SHIPPED = default_catalog_dir()
PUBLIC_PAAS = ("db.relational", "compute.k8s", "storage.object", "compute.serverless", "network.lb")


# ---------------------------------------------------------------- helpers
@pytest.fixture
def shipped(catalog: Catalog) -> Catalog:
    """The shipped catalog (the session-wide `catalog` fixture from conftest.py)."""
    return catalog


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A private, writable copy of the shipped catalog."""
    dst = tmp_path / "catalog"
    shutil.copytree(SHIPPED, dst)
    return dst


def read_rows(path: Path) -> list[list[str]]:
    """All rows of a CSV file, header first."""
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def write_rows(path: Path, rows: list[list[str]]) -> None:
    """Write rows back as a CSV file with Unix line ends."""
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def line_of(path: Path, key_col: str, key: str) -> int:
    """The 1-based line of the first data row whose `key_col` equals `key`."""
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        for row in reader:
            if row[key_col] == key:
                return reader.line_num
    raise AssertionError(f"{path.name}: no row with {key_col} = {key!r}")


def set_cell(path: Path, key_col: str, key: str, col: str, value: str) -> int:
    """Set one cell of the row keyed by `key_col` = `key`; return that row's line number."""
    rows = read_rows(path)
    head = rows[0]
    for n, row in enumerate(rows[1:], start=2):
        if row[head.index(key_col)] == key:
            row[head.index(col)] = value
            write_rows(path, rows)
            return n
    raise AssertionError(f"{path.name}: no row with {key_col} = {key!r}")


def append_copy_of_row(path: Path, key_col: str, key: str) -> int:
    """Append a copy of the row keyed by `key_col` = `key`; return the new row's line number."""
    rows = read_rows(path)
    head = rows[0]
    row = next(r for r in rows[1:] if r[head.index(key_col)] == key)
    rows.append(list(row))
    write_rows(path, rows)
    return len(rows)


def problems_of(root: Path) -> list[Problem]:
    """The problems `load_catalog(root)` reports; fails if it loads, or crashes otherwise."""
    with pytest.raises(CatalogError) as info:
        load_catalog(root)
    assert info.value.problems, "a CatalogError must list at least one problem"
    return info.value.problems


def assert_problem(
    problems: list[Problem],
    *,
    file: str,
    where: str | None = None,
    field: str | None = None,
    message: str | None = None,
    fix: str | None = None,
    value: object = ...,
) -> Problem:
    """Assert one problem matches: file (or a path ending in it), where and field exactly,
    message and fix as substrings."""
    for p in problems:
        if (
            (p.file == file or p.file.endswith("/" + file))
            and (where is None or p.where == where)
            and (field is None or p.field == field)
            and (message is None or message in p.message)
            and (fix is None or fix in p.fix)
            and (value is ... or p.value == value)
        ):
            return p
    shown = "\n".join(f"  {p!r}" for p in problems)
    raise AssertionError(
        f"no problem with file={file!r} where={where!r} field={field!r} "
        f"message~{message!r} fix~{fix!r}; got:\n{shown}"
    )


# ---------------------------------------------------------------- the shipped catalog
def test_shipped_catalog_validates(shipped: Catalog) -> None:
    """The catalog in the repository loads without a single problem."""
    assert len(shipped.providers) >= 5
    assert len(shipped.offerings) > 0


@pytest.mark.parametrize(("provider", "at_least"), [("aws", 30), ("azure", 50), ("gcp", 40)])
def test_shipped_catalog_region_counts(shipped: Catalog, provider: str, at_least: int) -> None:
    """The big public clouds are covered region by region, not by a sample."""
    assert (shipped.regions["provider"] == provider).sum() >= at_least


def test_shipped_catalog_has_the_five_naver_regions(shipped: Catalog) -> None:
    """Naver Cloud's five regions, with canonical ids `naver/<code>`."""
    naver = set(shipped.regions.index[shipped.regions["provider"] == "naver"])
    assert naver == {"naver/KR", "naver/SGN", "naver/JPN", "naver/USWN", "naver/DEN"}


@pytest.mark.parametrize("provider", ["aws", "azure", "gcp", "naver"])
def test_public_providers_offer_every_tier_and_the_paas_categories(
    shipped: Catalog, provider: str
) -> None:
    """Every public provider can serve IaaS, PaaS and SaaS and the common managed services."""
    assert shipped.providers.at[provider, "kind"] == "public"
    offs = shipped.offerings[shipped.offerings["provider"] == provider]
    assert set(offs["tier"]) == set(TIERS)
    paas = set(offs.loc[offs["tier"] == "PaaS", "category"])
    missing = set(PUBLIC_PAAS) - paas
    assert not missing, f"{provider} has no PaaS offering for {sorted(missing)}"


def test_every_public_provider_is_checked(shipped: Catalog) -> None:
    """The list above is every public provider in providers.csv (no provider escapes T15)."""
    public = set(shipped.providers.index[shipped.providers["kind"] == "public"])
    assert public == {"aws", "azure", "gcp", "naver"}


@pytest.mark.parametrize("table", ["regions", "offerings"])
def test_provenance_on_every_row(shipped: Catalog, table: str) -> None:
    """T15: every region and offering row says where its figures come from, when, and how sure."""
    df = getattr(shipped, table)
    assert len(df) > 0
    for key, row in df.iterrows():
        url = str(row["source_url"])
        assert url == "assumption" or url.startswith(("https://", "http://")), (key, url)
        dt.date.fromisoformat(str(row["as_of"]))  # raises on anything but a real date
        assert row["status"] in STATUSES, (key, row["status"])


# ---------------------------------------------------------------- unreadable files
@pytest.mark.parametrize("damage", ["unbalanced quote", "extra field"])
def test_broken_csv_names_file_and_line(tree: Path, damage: str) -> None:
    """A CSV the parser cannot read is one problem naming the file and the line to look at."""
    path = tree / "aws" / "regions.csv"
    line = line_of(path, "region", "ap-northeast-2")
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    if damage == "unbalanced quote":
        lines[line - 1] = lines[line - 1].replace("Asia Pacific", '"Asia Pacific', 1)
    else:
        lines[line - 1] = lines[line - 1].rstrip("\n") + ",extra\n"
    path.write_text("".join(lines), encoding="utf-8")
    p = assert_problem(
        problems_of(tree),
        file="aws/regions.csv",
        message="not a valid CSV file",
        fix="check the quoting",
    )
    # The catalog counts rows as file lines (header = row 1); the parse error must point there too.
    located = f"{p.where} {p.message}"
    assert f"row {line}" in located or f"line {line}" in located, (
        f"the damaged line is {line}, the problem says: {p}"
    )


def test_non_utf8_file(tree: Path) -> None:
    """A file saved in another encoding is reported, not decoded into garbage."""
    path = tree / "aws" / "regions.csv"
    path.write_bytes(path.read_bytes().replace(b"Cape Town", b"Cape T\xf6wn"))
    assert_problem(
        problems_of(tree), file="aws/regions.csv", message="not UTF-8", fix="save it as UTF-8"
    )


# ---------------------------------------------------------------- headers
def test_missing_required_column(tree: Path) -> None:
    """Dropping a required column (header and cells) is reported on the header."""
    path = tree / "aws" / "regions.csv"
    rows = read_rows(path)
    k = rows[0].index("zones")
    write_rows(path, [r[:k] + r[k + 1 :] for r in rows])
    assert_problem(
        problems_of(tree),
        file="aws/regions.csv",
        where="header",
        field="zones",
        message="required column is missing",
        fix="add a `zones` column",
    )


def test_header_missing_a_name_is_reported_not_a_crash(tree: Path) -> None:
    """A header that lost one name while the rows kept their cells is a CatalogError."""
    path = tree / "aws" / "regions.csv"
    rows = read_rows(path)
    rows[0].remove("zones")
    write_rows(path, rows)
    assert_problem(problems_of(tree), file="aws/regions.csv")


def test_unknown_column_with_did_you_mean(tree: Path) -> None:
    """A misspelt header is an unknown column with a suggestion, not silently dropped data."""
    path = tree / "aws" / "regions.csv"
    rows = read_rows(path)
    rows[0][rows[0].index("site")] = "sitee"
    write_rows(path, rows)
    assert_problem(
        problems_of(tree),
        file="aws/regions.csv",
        where="header",
        field="sitee",
        message="unknown column",
        fix="did you mean `site`?",
    )


# ---------------------------------------------------------------- one bad cell
CELL_RULES = [
    # (file, key column, key, column, bad value, message, fix)
    pytest.param(
        "aws/regions.csv",
        "region",
        "ap-northeast-2",
        "city",
        "",
        "empty value",
        None,
        id="empty-required",
    ),
    pytest.param(
        "aws/regions.csv",
        "region",
        "ap-northeast-2",
        "lat",
        "north",
        "not a number",
        "latitude in degrees, -90..90",
        id="non-numeric",
    ),
    pytest.param(
        "aws/regions.csv",
        "region",
        "ap-northeast-2",
        "lat",
        "200",
        "above 90",
        "latitude in degrees, -90..90",
        id="latitude-200",
    ),
    pytest.param(
        "aws/regions.csv",
        "region",
        "ap-northeast-2",
        "lon",
        "-181",
        "below -180",
        "longitude in degrees, -180..180",
        id="longitude-below",
    ),
    pytest.param(
        "aws/regions.csv",
        "region",
        "ap-northeast-2",
        "lon",
        "181",
        "above 180",
        "longitude in degrees, -180..180",
        id="longitude-above",
    ),
    pytest.param(
        "aws/regions.csv",
        "region",
        "ap-northeast-2",
        "zones",
        "2.5",
        "not a whole number",
        None,
        id="zones-not-integer",
    ),
    pytest.param(
        "aws/regions.csv",
        "region",
        "ap-northeast-2",
        "continent",
        "ASIA",
        "not a known value",
        "use one of: AF, AS, EU, NA, OC, SA",
        id="unknown-continent",
    ),
    pytest.param(
        "aws/regions.csv",
        "region",
        "ap-northeast-2",
        "status",
        "X",
        "not a known value",
        "use one of: V, S, U",
        id="unknown-status",
    ),
    pytest.param(
        "aws/regions.csv",
        "region",
        "ap-northeast-2",
        "as_of",
        "26/11/2026",
        "not a date",
        "YYYY-MM-DD",
        id="date-wrong-format",
    ),
    pytest.param(
        "aws/regions.csv",
        "region",
        "ap-northeast-2",
        "as_of",
        "2026-13-45",
        "not a date",
        "YYYY-MM-DD",
        id="date-impossible",
    ),
    pytest.param(
        "aws/offerings.csv",
        "sku",
        "m5.large",
        "price_usd",
        "-0.096",
        "negative",
        "a positive list price",
        id="negative-price",
    ),
    pytest.param(
        "aws/offerings.csv",
        "sku",
        "m5.large",
        "tier",
        "Paas",
        "not a known value",
        "use one of: IaaS, PaaS, SaaS",
        id="unknown-tier",
    ),
    pytest.param(
        "aws/offerings.csv",
        "sku",
        "m5.large",
        "managed_layers",
        "hardware firmware",
        "unknown entries ['firmware']",
        None,
        id="unknown-layer",
    ),
    pytest.param(
        "aws/offerings.csv",
        "sku",
        "m5.large",
        "sla_pct",
        "99.9%",
        "not a number",
        "a monthly uptime percentage",
        id="sla-with-percent-sign",
    ),
    pytest.param(
        "strategies.csv",
        "strategy",
        "warm_standby",
        "backup_copies",
        "maybe",
        "not true or false",
        None,
        id="not-a-bool",
    ),
    pytest.param(
        "latency_measured.csv",
        "dst",
        "aws/ap-northeast-1",
        "rtt_ms",
        "nan",
        "not a finite number",
        None,
        id="rtt-nan",
    ),
]


@pytest.mark.parametrize(("rel", "key_col", "key", "col", "bad", "message", "fix"), CELL_RULES)
def test_bad_cell(
    tree: Path, rel: str, key_col: str, key: str, col: str, bad: str, message: str, fix: str | None
) -> None:
    """One bad cell is one problem at that file, row and column, with the bad value shown."""
    row = set_cell(tree / rel, key_col, key, col, bad)
    assert_problem(
        problems_of(tree),
        file=rel,
        where=f"row {row}",
        field=col,
        message=message,
        fix=fix,
        value=bad,
    )


# ---------------------------------------------------------------- rows that clash
def test_duplicate_region_id(tree: Path) -> None:
    """The second copy of a region row is reported at its own line."""
    row = append_copy_of_row(tree / "aws" / "regions.csv", "region", "ap-northeast-2")
    assert_problem(
        problems_of(tree),
        file="aws/regions.csv",
        where=f"row {row}",
        field="region",
        message="duplicate region id",
        value="ap-northeast-2",
    )


def test_duplicate_sku(tree: Path) -> None:
    """The second copy of an offering row is reported at its own line."""
    row = append_copy_of_row(tree / "aws" / "offerings.csv", "sku", "m5.large")
    assert_problem(
        problems_of(tree),
        file="aws/offerings.csv",
        where=f"row {row}",
        field="sku",
        message="duplicate sku",
        value="m5.large",
    )


def test_offering_in_unknown_region_suggests_the_real_one(tree: Path) -> None:
    """An offering listing a region code that does not exist gets a did-you-mean."""
    path = tree / "aws" / "offerings.csv"
    rows = read_rows(path)
    head = rows[0]
    n, row = next((n, r) for n, r in enumerate(rows[1:], start=2) if r[head.index("regions")])
    codes = row[head.index("regions")].split()
    codes[0] = codes[0] + "x"
    row[head.index("regions")] = " ".join(codes)
    write_rows(path, rows)
    assert_problem(
        problems_of(tree),
        file="aws/offerings.csv",
        where=f"row {n}",
        field="regions",
        message=f"offering in a region that does not exist: `{codes[0]}`",
        fix=f"did you mean `{codes[0][:-1]}`",
    )


def test_offering_without_capacity(tree: Path) -> None:
    """An offering that provides nothing would be a free, useless candidate."""
    path = tree / "aws" / "offerings.csv"
    set_cell(path, "sku", "m5.large", "vcpu", "")
    row = set_cell(path, "sku", "m5.large", "mem_gib", "")
    assert_problem(
        problems_of(tree),
        file="aws/offerings.csv",
        where=f"row {row}",
        message="an offering must provide some capacity",
        fix="set at least one of",
    )


# ---------------------------------------------------------------- references between files
def test_price_for_unknown_sku(tree: Path) -> None:
    """prices.csv may only price SKUs that offerings.csv lists."""
    path = tree / "aws" / "prices.csv"
    rows = read_rows(path)
    head = rows[0]
    sku = rows[1][head.index("sku")]
    rows[1][head.index("sku")] = sku + "x"
    write_rows(path, rows)
    assert_problem(
        problems_of(tree),
        file="aws/prices.csv",
        where="row 2",
        field="sku",
        message="sku not in offerings.csv",
        fix=f"did you mean `{sku}`",
    )


def test_price_in_unknown_region(tree: Path) -> None:
    """prices.csv may only price regions that regions.csv lists."""
    path = tree / "aws" / "prices.csv"
    rows = read_rows(path)
    head = rows[0]
    region = rows[1][head.index("region")]
    rows[1][head.index("region")] = region + "x"
    write_rows(path, rows)
    assert_problem(
        problems_of(tree),
        file="aws/prices.csv",
        where="row 2",
        field="region",
        message="region does not exist",
        fix=f"did you mean `{region}`",
    )


def test_egress_rule_from_nowhere(tree: Path) -> None:
    """An egress `from` must be a region of the provider, a continent code or `*`."""
    row = set_cell(tree / "aws" / "egress.csv", "from", "AS", "from", "ASIA")
    assert_problem(
        problems_of(tree),
        file="aws/egress.csv",
        where=f"row {row}",
        field="from",
        message="neither a region of this provider, a continent nor `*`",
        fix="did you mean",
        value="ASIA",
    )


def test_measured_latency_for_unknown_region(tree: Path) -> None:
    """latency_measured.csv uses canonical ids; a typo gets the closest id suggested."""
    path = tree / "latency_measured.csv"
    rows = read_rows(path)
    head = rows[0]
    src = rows[1][head.index("src")]
    rows[1][head.index("src")] = src + "9"
    write_rows(path, rows)
    assert_problem(
        problems_of(tree),
        file="latency_measured.csv",
        where="row 2",
        field="src",
        message="unknown region",
        fix=f"did you mean `{src}`",
    )


def test_incident_in_unknown_region(tree: Path) -> None:
    """incidents.csv may only take down regions the catalog knows."""
    row = set_cell(
        tree / "incidents.csv", "incident", "pangyo-2022", "regions", "openstack/seoul-dc9"
    )
    assert_problem(
        problems_of(tree),
        file="incidents.csv",
        where=f"row {row}",
        field="regions",
        message="unknown region",
        fix="did you mean `openstack/seoul-dc1`",
        value="openstack/seoul-dc9",
    )


def test_incident_of_unknown_provider(tree: Path) -> None:
    """incidents.csv names a catalog provider or `-`."""
    row = set_cell(tree / "incidents.csv", "incident", "aws-use1-2021", "provider", "amazon")
    assert_problem(
        problems_of(tree),
        file="incidents.csv",
        where=f"row {row}",
        field="provider",
        message="unknown provider",
        value="amazon",
    )


# ---------------------------------------------------------------- providers and folders
def test_provider_folder_missing(tree: Path) -> None:
    """A provider listed in providers.csv needs its folder."""
    shutil.rmtree(tree / "naver")
    assert_problem(
        problems_of(tree),
        file="providers.csv",
        field="provider",
        message="provider `naver` has no folder naver/",
        fix="create naver/",
    )


def test_unknown_provider_without_folder(tree: Path) -> None:
    """A new row in providers.csv without data is reported, not ignored."""
    with (tree / "providers.csv").open("a", encoding="utf-8") as f:
        f.write("ibm,IBM Cloud,public,USD list prices\n")
    assert_problem(
        problems_of(tree),
        file="providers.csv",
        field="provider",
        message="provider `ibm` has no folder ibm/",
    )


def test_not_a_catalog_folder(tmp_path: Path) -> None:
    """A folder without providers.csv is refused with a hint, whatever else it holds."""
    (tmp_path / "notes.txt").write_text("hello\n", encoding="utf-8")
    assert_problem(
        problems_of(tmp_path),
        file=str(tmp_path),
        message="not a catalog folder (no providers.csv)",
        fix="omit --catalog",
    )


def test_catalog_folder_that_does_not_exist(tmp_path: Path) -> None:
    """A path that does not exist is the same input error, not a FileNotFoundError."""
    assert_problem(
        problems_of(tmp_path / "nope"), file=str(tmp_path / "nope"), message="not a catalog folder"
    )


# ---------------------------------------------------------------- private cloud YAML
def test_sites_yaml_not_yaml(tree: Path) -> None:
    """Broken YAML in sites.yaml is located by line and column."""
    path = tree / "openstack" / "sites.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "allocation_ratio: {cpu: 4.0, ram: 1.0, disk: 1.0}",
            "allocation_ratio: {cpu: 4.0, ram: 1.0, disk: 1.0",
            1,
        ),
        encoding="utf-8",
    )
    p = assert_problem(
        problems_of(tree),
        file="openstack/sites.yaml",
        message="not valid YAML",
        fix="check indentation",
    )
    assert p.where.startswith("line ") and ", column " in p.where, p


def test_sites_yaml_schema_error(tree: Path) -> None:
    """A negative host count is reported at its path inside sites.yaml."""
    path = tree / "openstack" / "sites.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("count: 24,", "count: -24,", 1), encoding="utf-8"
    )
    assert_problem(
        problems_of(tree),
        file="openstack/sites.yaml",
        where="sites.0.hosts.0.count",
        message="greater than 0",
        value=-24,
    )


def test_sites_yaml_unknown_key(tree: Path) -> None:
    """A misspelt key in sites.yaml is reported, not ignored."""
    path = tree / "openstack" / "sites.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("zones: 1", "zonez: 1", 1), encoding="utf-8"
    )
    assert_problem(
        problems_of(tree),
        file="openstack/sites.yaml",
        where="sites.0.zonez",
        message="extra inputs are not permitted",
    )


# ---------------------------------------------------------------- several at once
def test_every_problem_is_reported_in_one_pass(tree: Path) -> None:
    """Three independent mistakes in three files give (at least) three problems in one error."""
    set_cell(tree / "aws" / "regions.csv", "region", "ap-northeast-2", "lat", "200")
    set_cell(tree / "aws" / "offerings.csv", "sku", "m5.large", "price_usd", "-1")
    set_cell(tree / "strategies.csv", "strategy", "warm_standby", "status", "X")
    problems = problems_of(tree)
    assert_problem(problems, file="aws/regions.csv", field="lat", message="above 90")
    assert_problem(problems, file="aws/offerings.csv", field="price_usd", message="negative")
    assert_problem(problems, file="strategies.csv", field="status", message="not a known value")


# ---------------------------------------------------------------- through the CLI
def test_cli_validate_broken_catalog(tree: Path) -> None:
    """`mcplan catalog validate --catalog BROKEN` exits 2 naming the file and row, no traceback."""
    row = set_cell(tree / "aws" / "regions.csv", "region", "ap-northeast-2", "lat", "200")
    proc = subprocess.run(
        [sys.executable, "-m", "planner", "catalog", "validate", "--catalog", str(tree)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert "aws/regions.csv" in proc.stderr
    assert f"row {row}" in proc.stderr
    assert "above 90" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stdout == ""


def test_cli_validate_shipped_catalog() -> None:
    """`mcplan catalog validate` on the shipped catalog says OK and exits 0."""
    proc = subprocess.run(
        [sys.executable, "-m", "planner", "catalog", "validate"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "OK" in proc.stdout


def test_cli_validate_crash_is_still_input_error(tree: Path) -> None:
    """Even the header mistake that trips the loader must come back as exit 2, not a bug report."""
    path = tree / "aws" / "regions.csv"
    rows = read_rows(path)
    rows[0].remove("zones")
    write_rows(path, rows)
    proc = subprocess.run(
        [sys.executable, "-m", "planner", "catalog", "validate", "--catalog", str(tree)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.returncode == 2, proc.stderr
    assert "aws/regions.csv" in proc.stderr
