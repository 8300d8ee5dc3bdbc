"""The dashboard under Streamlit's AppTest: every page in both languages, and the interactions a
user relies on (choose an example and solve, switch strategy, fail a region and repair, switch
language, upload or edit a bad spec and see each problem, check an exercise answer).

AppTest runs the app in this process, so the dashboard's caches are shared between tests: each
example is solved once. Only the small examples (single-dc, hybrid-dr) are solved here.
"""

from __future__ import annotations

import json
import logging
import re
import string
import tomllib
from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from planner import (
    PlanOptions,
    evaluate_failure,
    failure_from,
    load_catalog,
    load_spec,
    make_plan,
)

ROOT = Path(__file__).resolve().parents[1]
DASH = ROOT / "dashboards"
APP = str(DASH / "app.py")
TIMEOUT = 60
PAGES = {  # page file -> title in each language
    None: ("Catalog", "카탈로그"),
    "app_pages/plan.py": ("Plan", "배치 계획"),
    "app_pages/compare.py": ("Compare strategies", "전략 비교"),
    "app_pages/whatif.py": ("What if...", "장애 가정"),
    "app_pages/learn.py": ("Learn", "학습"),
}
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def _flatten(tree: dict, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in tree.items():
        full = f"{prefix}.{key}" if prefix else str(key)
        out.update(_flatten(value, full) if isinstance(value, dict) else {full: value})
    return out


def _strings(lang: str) -> dict[str, str]:
    return _flatten(yaml.safe_load((DASH / "i18n" / f"{lang}.yaml").read_text(encoding="utf-8")))


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _open(page: str | None = None, lang: str = "en") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["lang"] = lang
    at.run()
    if page is not None:
        at.switch_page(page).run()
    return at


def _texts(at: AppTest) -> list[str]:
    kinds = (
        "title",
        "header",
        "subheader",
        "markdown",
        "caption",
        "info",
        "success",
        "warning",
        "error",
    )
    return [str(el.value) for kind in kinds for el in getattr(at, kind)]


def _assert_clean(at: AppTest) -> None:
    """No exception, no error box, no missing translation on screen."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert not any("⟦" in text for text in _texts(at)), [x for x in _texts(at) if "⟦" in x]


@pytest.fixture
def no_missing_keys(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.WARNING, logger="dashboards")
    yield
    missing = [r.getMessage() for r in caplog.records if "missing i18n key" in r.getMessage()]
    assert not missing, missing
    failures = [
        r.getMessage() for r in caplog.records if r.name.startswith("dashboards") and r.exc_info
    ]
    assert not failures, failures


# ------------------------------------------------------------------------------------ strings
def test_both_languages_have_the_same_keys_and_fields() -> None:
    en, ko = _strings("en"), _strings("ko")
    assert set(en) == set(ko), {
        "only in en": sorted(set(en) - set(ko)),
        "only in ko": sorted(set(ko) - set(en)),
    }
    for key in en:
        assert str(en[key]).strip() and str(ko[key]).strip(), f"empty text for {key}"
        assert _fields(str(en[key])) == _fields(str(ko[key])), (
            f"{key}: placeholders differ between en and ko"
        )


def test_every_literal_key_in_the_code_exists() -> None:
    en = _strings("en")
    used: set[str] = set()
    for path in DASH.rglob("*.py"):
        used |= set(
            re.findall(r"""\bt\(\s*["']([a-z_][\w.\-]*)["']""", path.read_text(encoding="utf-8"))
        )
    assert used, "no t(...) calls found"
    assert not used - set(en), sorted(used - set(en))


def test_korean_strings_are_korean() -> None:
    ko = _strings("ko")
    # identifiers (AWS, SKU, vCPU, IaaS...) may stay as they are; prose must be Korean
    prose = {k: v for k, v in ko.items() if len(str(v)) > 25}
    latin_only = [k for k, v in prose.items() if not HANGUL.search(str(v))]
    assert not latin_only, latin_only


# ------------------------------------------------------------------------------------ every page
@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize(
    "page", list(PAGES), ids=lambda p: (p or "app_pages/catalog.py").split("/")[-1][:-3]
)
def test_page_renders(page: str | None, lang: str, no_missing_keys: None) -> None:
    at = _open(page, lang)
    _assert_clean(at)
    title = PAGES[page][0 if lang == "en" else 1]
    assert [t.value for t in at.title] == [title]
    if lang == "ko":
        for heading in [*at.title, *at.header, *at.subheader]:
            assert HANGUL.search(str(heading.value)), (
                f"English heading on a Korean page: {heading.value}"
            )


# ------------------------------------------------------------------------------------ interactions
def test_language_switch_changes_every_heading(no_missing_keys: None) -> None:
    at = _open("app_pages/plan.py")
    assert at.title[0].value == "Plan"
    at.sidebar.segmented_control(key="lang_picker").set_value("ko").run()
    _assert_clean(at)
    assert at.title[0].value == "배치 계획"
    assert all(HANGUL.search(str(h.value)) for h in [*at.header, *at.subheader])
    at.switch_page("app_pages/whatif.py").run()  # the choice holds on the other pages
    _assert_clean(at)
    assert at.title[0].value == "장애 가정"
    at.sidebar.segmented_control(key="lang_picker").set_value("en").run()
    assert at.title[0].value == "What if..."


def test_catalog_filters_and_responsibility_stack(no_missing_keys: None) -> None:
    at = _open()
    assert at.get("deck_gl_json_chart"), "the region map is missing"
    at.multiselect[0].set_value(["naver"]).run()
    _assert_clean(at)
    regions = next(m for m in at.metric if m.label == "Regions")
    assert int(regions.value) == 5
    at.multiselect[1].set_value(["SaaS"]).run()
    at.multiselect[0].set_value([]).run()
    offering = at.selectbox(key="stack_offering")
    assert offering.value is not None
    assert any("the vendor runs" in m.value for m in at.markdown)


def test_choose_an_example_and_solve(no_missing_keys: None) -> None:
    at = _open("app_pages/plan.py")
    at.selectbox(key="plan_example").select("single-dc.yaml").run()
    assert "app: single-dc" in at.text_area(key="spec_editor").value
    at.button[0].click().run()
    _assert_clean(at)
    assert any("Plan for single-dc" in h.value for h in at.header)
    cost = next(m for m in at.metric if m.label == "Cost per month")
    assert cost.value.startswith("$")
    # survive: none checks no failure: no green "verified in all 0 scenarios" (issue 18)
    assert not any("Independently verified" in s.value for s in at.success)
    assert any("no failure scenario was checked" in i.value for i in at.info)
    assert len(at.get("download_button")) >= 2
    # the map: country outlines shipped with the dashboard (no tile server), each region
    # labelled with its provider and name, the view fitted to the plan (Korea, close)
    deck = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    layers = {layer["@@type"]: layer for layer in deck["layers"]}
    assert {"GeoJsonLayer", "TextLayer", "ScatterplotLayer"} <= set(layers)
    assert len(layers["GeoJsonLayer"]["data"]["features"]) > 150
    labels = [row["label"] for row in layers["TextLayer"]["data"]]
    assert labels == ["OpenStack (private) Seoul DC1 (primary)"], labels
    assert deck["initialViewState"]["zoom"] > 4
    assert deck.get("mapStyle") in (None, "")


def test_repair_with_nowhere_to_go_says_what_would_survive(no_missing_keys: None) -> None:
    """The README's teaching case (issue 18): single-dc in one building, the Pangyo fire, Repair.
    Nothing the spec allows survives it: the page says so and what a design would need, with no
    exception and no $nan."""
    at = _open("app_pages/plan.py")
    at.selectbox(key="plan_example").select("single-dc.yaml").run()
    at.button[0].click().run()
    at.switch_page("app_pages/whatif.py").run()
    at.selectbox(key="whatif_incident").select("pangyo-2022").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("go down" in e.value for e in at.error)  # the fire takes every service down
    repair = next(b for b in at.button if b.label == "Repair")
    repair.click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("No plan the spec allows survives" in e.value for e in at.error)
    assert any("second site" in i.value for i in at.info)
    assert not any("nan" in str(m.value).lower() for m in at.metric)
    # ... and solves the cheapest relaxations: the flow ends with a repaired plan and its cost
    assert any("The cheapest way" in s.value for s in at.success)
    repaired = next(m for m in at.metric if m.label == "Repaired plan, cost per month")
    assert re.fullmatch(r"\$[\d,]+", repaired.value) and repaired.value != "$0"
    at.button(key="whatif_open_relaxed").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Plan"
    assert any("relaxes the spec" in c.value for c in at.caption)


def test_switch_strategy_replans(no_missing_keys: None) -> None:
    at = _open("app_pages/plan.py")
    at.selectbox(key="plan_example").select("hybrid-dr.yaml").run()
    at.button[0].click().run()
    before = next(m for m in at.metric if m.label == "Cost per month").value
    at.selectbox(key="plan_strategy").select("single_region").run()
    at.button[0].click().run()
    _assert_clean(at)
    after = next(m for m in at.metric if m.label == "Cost per month").value
    assert after != before


def test_edited_bad_spec_shows_each_problem_under_the_editor(no_missing_keys: None) -> None:
    at = _open("app_pages/plan.py")
    bad = "app: x\nservices:\n  - name: web\n    category: compute.vm\n    demand: {vcpu: -4}\n"
    at.text_area(key="spec_editor").input(bad).run()
    assert not at.exception
    assert at.error and "problem" in at.error[0].value
    problems = at.dataframe[0].value
    assert "services[0].demand.vcpu" in set(problems["where"])
    solve = at.button[0]
    assert solve.proto.disabled, "Solve must be disabled while the spec has problems"


def test_uploaded_bad_specs_are_refused_with_a_reason(no_missing_keys: None) -> None:
    at = _open("app_pages/plan.py")
    at.file_uploader(key="plan_upload").set_value(
        (
            "evil.yaml",
            b"app: !!python/object/apply:os.system ['echo hi']\nservices: []\n",
            "application/x-yaml",
        )
    ).run()
    assert not at.exception
    assert (
        at.error
        and at.dataframe[0].value["problem"].str.contains("YAML|yaml|constructor|tag").any()
    )
    at.file_uploader(key="plan_upload").set_value(
        ("binary.yaml", b"\xff\xfe\x00\x01garbage", "application/x-yaml")
    ).run()
    assert not at.exception
    assert any("not a UTF-8 text file" in e.value for e in at.error)


def test_oversized_upload_is_refused_by_the_loader(no_missing_keys: None) -> None:
    at = _open("app_pages/plan.py")
    big = b"app: x\n" + b"# padding\n" * 260_000  # 2.6 MB: over the loader's 2 MiB cap
    at.file_uploader(key="plan_upload").set_value(("big.yaml", big, "application/x-yaml")).run()
    assert not at.exception
    assert at.dataframe[0].value["problem"].str.contains("larger than").any()


def test_streamlit_config_caps_uploads_and_hides_error_details() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] <= 2
    assert config["client"]["showErrorDetails"] is False


def _expected_impact(example: str, region: str) -> dict:
    """What failing `region` does to the example's plan, worked out with the library itself (the
    page plans the same spec with the same options, so it shows the same plan)."""
    catalog = load_catalog()
    plan = make_plan(load_spec(ROOT / "examples" / example), catalog, PlanOptions(time_limit=60))
    assert region in plan.regions(), "the failure must hit the plan for the check to mean much"
    return evaluate_failure(plan, catalog, failure_from(catalog, regions=[region])).summary


def test_fail_a_region_and_repair(no_missing_keys: None) -> None:
    # the page's default example, hybrid-dr, survives any site: losing the data centre that holds
    # its primaries takes no service down, and leaves its app tier below full demand until it
    # scales up (which site that is, prices decide: take the one whose loss degrades it)
    site, expected = next(
        (s, e)
        for s in ("openstack/busan-dc2", "openstack/seoul-dc1")
        if (e := _expected_impact("hybrid-dr.yaml", s))["services_degraded"]
    )
    assert expected["services_down"] == 0 and expected["services_degraded"] == 1
    at = _open("app_pages/whatif.py")
    at.multiselect(key="whatif_regions").set_value([site]).run()
    _assert_clean(at)
    metric = {m.label: m.value for m in at.metric}
    assert int(metric["Services down"]) == expected["services_down"]
    assert int(metric["Services degraded"]) == expected["services_degraded"]
    assert int(metric["User groups affected"]) == len(expected["users_affected"])
    assert any(
        "No service goes down, but some run below their full demand" in w.value for w in at.warning
    )
    assert at.dataframe, "the services table is missing"
    at.button[0].click().run()
    _assert_clean(at)
    assert any(m.label == "Cost after" for m in at.metric)
    at.multiselect(key="whatif_regions").set_value([]).run()
    at.selectbox(key="whatif_incident").select("pangyo-2022").run()
    _assert_clean(at)
    for kind in ("zone", "provider"):
        at.segmented_control(key="whatif_sweep_kind").set_value(kind).run()
        _assert_clean(at)


def test_compare_two_strategies(no_missing_keys: None) -> None:
    at = _open("app_pages/compare.py")
    _assert_clean(at)
    assert at.get("vega_lite_chart"), "the trade-off chart is missing"
    # one point per survival level and strategy plus this plan, each with its frontier flag
    points = at.dataframe[0].value
    assert len(points) == 1 + 4 + 5, points
    assert set(points["on_frontier"]) <= {"yes", "no"} and "yes" in set(points["on_frontier"])
    assert not points["status_label"].str.contains("nan").any()
    at.selectbox(key="compare_a").select("optimal").run()
    at.selectbox(key="compare_b").select("multi_cloud_active_active").run()
    _assert_clean(at)
    assert any("change from" in m.value for m in at.markdown)
    assert any(m.label.startswith("Cost of") and m.delta for m in at.metric)


def test_every_learn_topic(no_missing_keys: None) -> None:
    at = _open("app_pages/learn.py")
    for topic in (
        "virtualization",
        "tiers",
        "deployment",
        "clusters",
        "migration",
        "dr",
        "incidents",
        "chargeback",
    ):
        at.radio(key="learn_topic").set_value(topic).run()
        _assert_clean(at)
    at.radio(key="learn_topic").set_value("migration").run()
    at.button[0].click().run()
    _assert_clean(at)


EXERCISES = yaml.safe_load((DASH / "exercises" / "exercises.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("answer, passes", [("starter", False), ("answer", True)])
@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e["incident"])
def test_exercise_checks_the_answer(
    exercise: dict, answer: str, passes: bool, no_missing_keys: None
) -> None:
    incident = exercise["incident"]
    at = _open("app_pages/learn.py")
    at.radio(key="learn_topic").set_value("incidents").run()
    at.selectbox(key="learn_incident").select(incident).run()
    _assert_clean(at)
    if answer == "answer":
        text = (DASH / "exercises" / exercise["answer"]).read_text(encoding="utf-8")
        at.text_area(key=f"exercise_{incident}").input(text).run()
    at.button(key=f"check_{incident}").click().run()
    _assert_clean(at)
    assert any("Correct" in s.value for s in at.success) is passes
    assert any("Not yet" in w.value for w in at.warning) is not passes


# ------------------------------------------------------------------------------------ the guard
def _guarded_app() -> None:
    import sys

    import streamlit as st

    sys.path.insert(0, st.session_state["dash"])
    from ui.widgets import page_body

    from planner.errors import InfeasibleError

    with page_body():
        if st.session_state["raise"] == "infeasible":
            raise InfeasibleError(["db may only run in KR"], ["the monthly budget"])
        raise RuntimeError("secret internals")


@pytest.mark.parametrize("kind", ["infeasible", "other"])
def test_errors_become_friendly_messages(kind: str, caplog: pytest.LogCaptureFixture) -> None:
    at = AppTest.from_function(_guarded_app, default_timeout=TIMEOUT)
    at.session_state["dash"] = str(DASH)
    at.session_state["raise"] = kind
    at.run()
    assert not at.exception
    assert len(at.error) == 1
    shown = " ".join(_texts(at))
    assert "secret internals" not in shown and "Traceback" not in shown
    if kind == "infeasible":
        assert "No plan can meet every requirement" in at.error[0].value
        assert "db may only run in KR" in shown
    else:
        assert "Something went wrong" in at.error[0].value


# ------------------------------------------------------------------------------------ the URL
def test_a_shared_link_shows_the_same_plan_and_keeps_the_language(no_missing_keys: None) -> None:
    """Issue 18: the spec choice, policy and language live in the URL; a reload or a shared link
    shows the same plan, and moving between pages keeps ?lang=ko."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update({"lang": "ko", "example": "hybrid-dr.yaml", "survive": "region"})
    at.run()
    at.switch_page("app_pages/plan.py").run()
    _assert_clean(at)
    assert at.title[0].value == "배치 계획"
    assert any("hybrid-dr" in h.value for h in at.header)
    assert at.selectbox(key="plan_survive").value == "region"
    assert at.selectbox(key="plan_example").value == "hybrid-dr.yaml"
    at.switch_page("app_pages/whatif.py").run()
    _assert_clean(at)
    assert at.query_params["lang"] == "ko"
    assert at.query_params["example"] == "hybrid-dr.yaml"
    assert at.query_params["survive"] == "region"
    # solving another example puts it in the URL
    at.switch_page("app_pages/plan.py").run()
    at.selectbox(key="plan_example").select("single-dc.yaml").run()
    at.selectbox(key="plan_survive").select("").run()
    at.button[0].click().run()
    assert at.query_params["example"] == "single-dc.yaml"
    assert "survive" not in at.query_params


def test_an_infeasible_plan_offers_the_cheapest_relaxations_in_korean(
    no_missing_keys: None, caplog: pytest.LogCaptureFixture
) -> None:
    """single-dc asked to survive a site: one building cannot. The page says why in Korean (the
    library's reasons translated) and solves the relaxations that would make a plan."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update({"lang": "ko", "example": "single-dc.yaml", "survive": "site"})
    at.run()
    at.switch_page("app_pages/plan.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.error) == 1 and "계획이 없습니다" in at.error[0].value
    reasons = " ".join(m.value for m in at.markdown)
    assert "openstack/seoul-dc1" in reasons and "두 번째 리전" in reasons
    assert not any("untranslated" in r.getMessage() for r in caplog.records)
    assert any("가장 싼 방법" in s.value for s in at.success)
    relaxations = at.dataframe[-1].value
    assert relaxations["usd_per_month"].notna().any()


def test_the_incident_story_and_library_notes_are_korean(
    no_missing_keys: None, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 18: the What-if incident story comes from ko.yaml, and the library's notes on each
    service are translated (none is left in English and logged as such)."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update({"lang": "ko", "example": "kr-ecommerce.yaml"})
    at.run()
    at.switch_page("app_pages/whatif.py").run()
    at.selectbox(key="whatif_incident").select("pangyo-2022").run()
    _assert_clean(at)
    story = _strings("ko")["incident.pangyo-2022.story"]
    assert any(story in i.value for i in at.info), [i.value for i in at.info]
    assert not any("Lesson:" in i.value for i in at.info)
    services = at.dataframe[0].value
    notes = [n for n in services["note"] if n]
    assert notes and all(HANGUL.search(n) for n in notes), notes
    assert set(services["status"]) <= {"정상", "성능 저하", "중단", "복구 중"} | set(
        _strings("ko")[f"status.{s}"] for s in ("ok", "degraded", "down", "recovering")
    )
    assert not any("untranslated" in r.getMessage() for r in caplog.records)


def test_a_plan_that_survives_nothing_claims_no_recovery_on_learn(no_missing_keys: None) -> None:
    """Issue 18: single-dc's services are down with their building; Learn must not show them as
    "Active/active, RTO 1 min"."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update({"lang": "en", "example": "single-dc.yaml"})
    at.run()
    at.switch_page("app_pages/learn.py").run()
    at.radio(key="learn_topic").set_value("dr").run()
    _assert_clean(at)
    assert any("survives nothing" in i.value for i in at.info)
    ours = at.dataframe[-1].value
    assert set(ours["strategy"]) == {"none (down until the failed regions return)"}
    assert ours["rto_minutes"].isna().all()
