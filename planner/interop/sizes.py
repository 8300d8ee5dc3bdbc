"""Instance sizes as capacity: the vCPU and memory of a size name, for the importers.

The table is data (`sizes.csv` beside this module, one row per size with its source); a few
families encode their capacity in the name itself (Google's `custom-4-16384` and
`db-custom-2-8192`, Naver's product codes `SVR.VSVR.STAND.C002.M008...`), and are read by rule.
"""

from __future__ import annotations

import csv
import re
from functools import cache
from pathlib import Path

SIZES_FILE = Path(__file__).with_name("sizes.csv")

# Google custom machine types: vCPUs, then memory in MiB
_GCP_CUSTOM = re.compile(r"^(?:db-)?(?:[a-z0-9]+-)?custom-(\d+)-(\d+)(?:-ext)?$")
# Naver product codes carry the core count after C and the memory (GB) after M
_NAVER_CODE = re.compile(r"\.C(\d{3})\.M(\d{3})\.")
# Azure managed-database SKUs prefix the VM size with their tier: GP_, B_, MO_
_AZURE_TIER = re.compile(r"^(?:GP|B|MO)_")


@cache
def size_table() -> dict[tuple[str, str], tuple[float, float]]:
    """(provider, size) -> (vcpu, mem_gib), from sizes.csv."""
    with SIZES_FILE.open(encoding="utf-8", newline="") as f:
        return {
            (row["provider"], row["size"]): (float(row["vcpu"]), float(row["mem_gib"]))
            for row in csv.DictReader(f)
        }


def size_of(provider: str, size: str) -> tuple[float, float] | None:
    """The (vcpu, mem_gib) of a size of a provider, or None when neither the table nor a naming
    rule knows it."""
    table = size_table()
    if (provider, size) in table:
        return table[(provider, size)]
    if provider == "azure":
        bare = _AZURE_TIER.sub("", size)
        bare = bare if bare.startswith("Standard_") else f"Standard_{bare}"
        return table.get((provider, bare))
    if provider == "gcp" and (m := _GCP_CUSTOM.match(size)):
        return float(m.group(1)), int(m.group(2)) / 1024
    if provider == "naver" and (m := _NAVER_CODE.search(f".{size}.")):
        return float(int(m.group(1))), float(int(m.group(2)))
    return None
