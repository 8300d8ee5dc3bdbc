"""Named benchmark runs: the command-line options a preset stands for.

Takes nothing; holds, per preset, the option values it sets (the names are `runner`'s
`argparse` destinations) and a line saying what it is for. A preset only sets defaults: an option
given on the command line wins. It exists so that the run a document quotes ("the issue 19 run",
"the smoke run") is one name, not a long command to copy without a mistake.
"""

from __future__ import annotations

from typing import Any

from .generate import FAMILIES

# the example whose first plan and compare the smoke run times: the quickest to compare of the
# bundled examples (2-4 s at load 3-10 in this session and the eighth)
QUICK_EXAMPLE = "single-dc"

PRESETS: dict[str, dict[str, Any]] = {
    # every code path once, on instances small enough that the whole run stays well under a
    # minute on a loaded 2-core machine: our method with its analyses and the hand-drawn
    # baselines, the monolithic model with HiGHS and CBC, a bundled example's first plan and
    # compare
    "quick": {
        "families": "region,provider",
        "sizes": "5",
        "families_at": [],
        "default_sizes": "all",
        "mono_sizes": "5",
        "mono_families": "region",
        "catalog": "synthetic:12",
        "time_limit": 5.0,
        "our_time_limit": 10.0,
        "examples": QUICK_EXAMPLE,
        "compare_budget": 20.0,
    },
    # issue 19's "every family and size measured in one run", fitted into 40 minutes on 2 cores
    # (`--list` works it out): every family at 50 and 200 services with the default options and
    # the target's; region and mix at 1000 (the earlier sessions' instance and every coupling at
    # once) with the target's only, since its 90 s exceed the default 60 s; the monolithic model
    # at 50 on provider, the outside instance (region as well adds about 4 minutes);
    # every bundled example, compare stopped at twice its 10 s target
    "issue19": {
        "families": ",".join(FAMILIES),
        "sizes": "50,200,1000",
        "families_at": ["1000=region,mix"],
        "default_sizes": "50,200",
        "mono_sizes": "50",
        "mono_families": "provider",
        "catalog": "shipped",
        "time_limit": 120.0,
        "our_time_limit": None,
        "examples": "all",
        "compare_budget": 20.0,
    },
}

PURPOSE = {
    "quick": "smoke run under a minute: region and provider at 5 services on synthetic:12, "
    "monolithic at 5 s, our limit 10 s, one bundled example",
    "issue19": "every family at 50 and 200 services, region and mix at 1000 (target options "
    "only), monolithic HiGHS and CBC (120 s) at 50 on provider, every bundled example",
}
