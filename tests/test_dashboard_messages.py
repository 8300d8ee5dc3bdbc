"""The planner library's messages in Korean (issue 18): dashboards/i18n/messages.yaml turns each
kind of library sentence into a Korean template. Every pattern is well formed, and every message
the library writes while planning, verifying, repairing and comparing the bundled examples has a
translation (the incident accounts are told from ko.yaml's stories instead)."""

from __future__ import annotations

import re
import string
import sys
from pathlib import Path

import pytest
import yaml

DASH = Path(__file__).resolve().parents[1] / "dashboards"
sys.path.insert(0, str(DASH))

from ui.messages import is_incident_note, patterns, translate  # noqa: E402

HANGUL = re.compile(r"[\uac00-\ud7a3]")


def test_every_pattern_is_well_formed() -> None:
    found = patterns()
    assert len(found) > 40
    for p in found:
        if p.name == "incident_note":  # told from ko.yaml instead
            assert "ko" not in p.templates
            continue
        template = p.templates["ko"]
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name}
        assert fields <= set(p.regex.groupindex), (p.name, fields - set(p.regex.groupindex))
        # Korean words, unless the template only rearranges the message's own parts
        assert HANGUL.search(template) or not re.sub(r"\{\w+\}|[\W_]", "", template), p.name
        assert set(p.nested) <= set(p.regex.groupindex), p.name


@pytest.mark.parametrize(
    "message, expected",
    [
        (
            "time limit reached: the plan is the best found, not proven optimal",
            "제한 시간에 도달했습니다",
        ),
        (
            "25% of demand left; scales up (warm_standby, RTO 15 min); growth in aws/us-east-2 "
            "needs aws's control plane during its outage",
            "웜 스탠바이",
        ),
        ("strategy single_region: $1,561.16/month, optimal", "단일 리전"),
        (
            "no repaired plan exists without the failed regions: `messaging` is limited to "
            "openstack and must be within its users' latency budgets; surviving a site outage "
            "needs a second region for `messaging`, but only openstack/seoul-dc1 is allowed; "
            "allow it another region (residency, providers, policy exclusions)",
            "두 번째 리전",
        ),
    ],
)
def test_library_sentences_in_korean(message: str, expected: str) -> None:
    text, ok = translate(message, "ko")
    assert ok, text
    assert expected in text
    assert translate(message, "en") == (message, True)


def test_an_unknown_message_stays_and_says_so() -> None:
    assert translate("something new from the library", "ko") == (
        "something new from the library",
        False,
    )


def _collect() -> dict[str, set[str]]:
    """Every message the library writes on the bundled examples: progress while planning, a
    plan's notes and verification, what-if notes and per-service notes for each single region and
    each incident, a repair's policy note, and the strategies' progress."""
    import planner
    from planner import PlanOptions, load_catalog, load_spec, make_plan
    from planner.examples import examples_dir

    catalog = load_catalog()
    found: dict[str, set[str]] = {}

    def add(kind: str, message: str) -> None:
        if message:
            found.setdefault(kind, set()).add(message)

    def progress(message: str) -> None:
        add("progress", message)

    quick = PlanOptions(time_limit=10, progress=progress)
    for path in sorted(examples_dir().glob("*.yaml")):
        spec = load_spec(path)
        try:
            plan = make_plan(spec, catalog, quick)
        except planner.PlannerError as exc:
            for reason in getattr(exc, "reasons", [str(exc)]):
                add("reason", reason)
            continue
        for note in plan.notes:
            add("note", note)
        for violation in plan.verification.violations:
            add("violation", violation)
        failures = [catalog_failure for catalog_failure in plan.regions()]
        for region in failures:
            impact = planner.evaluate_failure(
                plan, catalog, planner.failure_from(catalog, regions=[region])
            )
            _impact_messages(impact, add)
        for incident in catalog.incidents.index:
            impact = planner.evaluate_failure(
                plan, catalog, planner.failure_from(catalog, incident=incident)
            )
            _impact_messages(impact, add)
        if path.name in ("single-dc.yaml", "hybrid-dr.yaml"):
            for region in plan.regions():
                fixed = planner.replan(
                    plan, catalog, planner.failure_from(catalog, regions=[region]), quick
                )
                add("policy_note", fixed.policy_note)
            planner.compare(spec, catalog, quick)
    return found


def _impact_messages(impact, add) -> None:  # noqa: ANN001
    for note in impact.summary.get("notes", []):
        add("whatif_note", note)
    for column in ("reason", "note"):
        if column in impact.services:
            for value in impact.services[column].dropna():
                add("service_" + column, str(value))


@pytest.mark.slow
def test_every_library_message_on_the_bundled_examples_has_a_korean_translation() -> None:
    found = _collect()
    assert found.get("progress") and found.get("whatif_note"), found.keys()
    untranslated = sorted(
        (kind, message)
        for kind, messages in found.items()
        for message in messages
        if not is_incident_note(message) and not translate(message, "ko")[1]
    )
    assert not untranslated, untranslated
    # the incident accounts are told from ko.yaml: every incident of the catalog has its story
    ko = yaml.safe_load((DASH / "i18n" / "ko.yaml").read_text(encoding="utf-8"))
    from planner import load_catalog

    for incident in load_catalog().incidents.index:
        assert HANGUL.search(ko["incident"][incident]["story"]), incident
