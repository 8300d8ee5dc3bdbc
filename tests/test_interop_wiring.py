"""The interop formats reached through the spec loader and `mcplan compare` (issue 20)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from planner import load_spec
from planner.cli import main
from planner.errors import SpecError

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "kr-ecommerce.yaml"


def _with_policy(tmp_path: Path, policy: dict[str, object], drop_survive: bool = True) -> Path:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    if drop_survive:
        data["policy"].pop("survive", None)
    data["resilience_policy"] = policy
    path = tmp_path / "app.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_a_resilience_hub_policy_sets_the_planner_policy(tmp_path: Path) -> None:
    path = _with_policy(
        tmp_path,
        {
            "policyName": "critical",
            "dataLocationConstraint": "SameCountry",
            "home": "KR",
            "policy": {
                "AZ": {"rtoInSecs": 300, "rpoInSecs": 60},
                "Provider": {"rtoInSecs": 7200, "rpoInSecs": 600},
            },
        },
    )
    spec = load_spec(path)
    assert spec.policy.survive == "provider"  # the widest disruption type given
    for service in spec.services:
        assert service.residency is not None and list(service.residency) == ["KR"]


def test_a_misspelt_disruption_type_is_refused_with_a_fix(tmp_path: Path) -> None:
    path = _with_policy(tmp_path, {"policy": {"Regoin": {"rtoInSecs": 60, "rpoInSecs": 60}}})
    with pytest.raises(SpecError) as err:
        load_spec(path)
    text = str(err.value)
    assert "Regoin" in text and "Region" in text and "Fix" in text


def test_a_contradicting_survive_is_refused(tmp_path: Path) -> None:
    path = _with_policy(
        tmp_path, {"policy": {"AZ": {"rtoInSecs": 600, "rpoInSecs": 60}}}, drop_survive=False
    )
    with pytest.raises(SpecError, match="survive"):
        load_spec(path)


def test_compare_writes_an_infracost_diff_of_two_strategies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "diff.json"
    args = ["compare", str(EXAMPLE), "--quiet", "--format", "infracost-diff", "--out", str(out)]
    assert main([*args, "--strategies", "multi_region_single_cloud,optimal"]) == 0
    diff = json.loads(out.read_text(encoding="utf-8"))
    meta = diff["projects"][0]["metadata"]["strategies"]
    assert meta == {"base": "multi_region_single_cloud", "head": "optimal"}
    past, now, change = (
        Decimal(str(diff[k]))
        for k in ("pastTotalMonthlyCost", "totalMonthlyCost", "diffTotalMonthlyCost")
    )
    assert abs(now - past - change) < Decimal("0.01")
    assert now < past  # the optimal plan is cheaper than the one-cloud strategy
    # one strategy is not a diff: exit 2 with a fix, nothing written
    capsys.readouterr()
    assert main([*args[:-1], str(tmp_path / "one.json"), "--strategies", "optimal"]) == 2
    assert "BASE,HEAD" in capsys.readouterr().err
    assert not (tmp_path / "one.json").exists()
