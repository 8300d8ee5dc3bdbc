"""Studies: identical tables from every executor, resume, bounded failures, no silent overwrite."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from planner.errors import InputError, OutputExistsError
from planner.study import (
    BASELINE,
    COLUMNS,
    StudyFailedError,
    comparable,
    load_study,
    plain_main,
    run_study,
    study_from_data,
)

ROOT = Path(__file__).resolve().parents[1]
KR = ROOT / "examples" / "kr-ecommerce.yaml"
KR_STUDY = ROOT / "examples" / "studies" / "kr-ecommerce-study.yaml"


def small_study(**changes: object):
    data = {
        "name": "small",
        "apps": [str(KR)],
        "strategies": ["optimal", "single_region"],
        "failures": ["single-region"],
        "replan": True,
        "time_limit": 20,
        "base_dir": str(ROOT),
    }
    data.update(changes)
    return study_from_data(data)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("ref") / "serial"
    return run_study(small_study(), executor="serial", out=out, progress=None)


def test_serial_table_shape(reference) -> None:
    t = reference.table
    assert list(t.columns) == COLUMNS
    # optimal uses 4 regions, single_region 1: 2 plans + 5 failure scenarios
    assert reference.tasks == 7 and len(t) == 7 and reference.failed == 0
    assert (t["error"] == "").all()
    assert list(t.sort_values(["app", "strategy", "scenario"])["scenario"]) == list(t["scenario"])
    single = t[(t["strategy"] == "single_region") & (t["scenario"] != BASELINE)].iloc[0]
    assert (
        single["services_down"] == 4
        and not single["survived"]
        and single["replan_usd_per_month"] > 0
    )
    for f in reference.files.values():
        assert f.exists()
    assert pd.read_parquet(reference.files["parquet"]).equals(t)
    s = reference.summary.set_index("strategy")
    assert s.loc["optimal", "scenarios"] == 4 and s.loc["optimal", "scenarios_survived"] == 4
    assert s.loc["single_region", "scenarios_survived"] == 0
    assert not (reference.files["parquet"].parent / "serial.parts").exists()


def test_processes_and_dask_match_serial(reference, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    procs = run_study(
        small_study(), executor="processes", workers=2, out=tmp_path / "procs", progress=None
    )
    pd.testing.assert_frame_equal(comparable(procs.table), comparable(reference.table))
    assert procs.executed == 7
    # workers are spawned: give them a plain __main__ (other tests may leave theirs in place)
    with plain_main():
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
    with cluster, distributed.Client(cluster) as client:
        dask = run_study(
            small_study(), executor="dask", scheduler=client, out=tmp_path / "dask", progress=None
        )
    pd.testing.assert_frame_equal(comparable(dask.table), comparable(reference.table))
    assert comparable(dask.table).equals(comparable(procs.table))


def test_resume_runs_only_missing_tasks(reference, tmp_path: Path) -> None:
    seen = []

    def stop_after_three(p) -> None:
        seen.append(p)
        if p.executed == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_study(small_study(), executor="serial", out=tmp_path / "r", progress=stop_after_three)
    parts = tmp_path / "r.parts"
    assert len(list(parts.glob("*.pkl"))) == 3
    assert not (tmp_path / "r.parquet").exists()
    assert seen[-1].eta is not None and seen[-1].total >= 3

    second = []
    res = run_study(small_study(), executor="serial", out=tmp_path / "r", progress=second.append)
    assert res.skipped == 3 and res.executed == 4
    assert second[-1].done == second[-1].total == 7
    pd.testing.assert_frame_equal(comparable(res.table), comparable(reference.table))
    assert not parts.exists()


def test_failing_task_is_recorded_and_study_continues(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import planner.analysis.whatif as whatif

    real = whatif.replan

    def flaky(plan, catalog, failure, options=None, **kw):  # noqa: ANN001, ANN202
        if failure.regions == frozenset({"naver/KR"}):
            raise RuntimeError("boom in naver")
        return real(plan, catalog, failure, options, **kw)

    monkeypatch.setattr(whatif, "replan", flaky)
    res = run_study(
        small_study(max_failures=5), executor="serial", out=tmp_path / "f", progress=None
    )
    t = res.table
    bad = t[t["scenario"] == "region:naver/KR"]
    assert len(bad) == 2 and res.failed == 2
    assert bad["error"].str.contains("RuntimeError: boom in naver").all()
    assert (t.loc[t["scenario"] != "region:naver/KR", "error"] == "").all()
    assert len(t) == 7

    with pytest.raises(StudyFailedError, match="boom in naver"):
        run_study(small_study(max_failures=0), executor="serial", out=tmp_path / "g", progress=None)
    # failures are not saved as finished (a resumed study tries them again); the rest are kept
    assert 0 < len(list((tmp_path / "g.parts").glob("*.pkl"))) < 7


def test_explicit_region_lists_and_providers_without_replan(tmp_path: Path) -> None:
    res = run_study(
        small_study(
            strategies=["multi_region_single_cloud"],
            failures=[["naver/KR", "azure/koreasouth"], "providers"],
            replan=False,
        ),
        executor="serial",
        out=tmp_path / "x",
        progress=None,
    )
    t = res.table
    assert list(t["scenario"]) == [BASELINE, "provider:azure", "regions:azure/koreasouth+naver/KR"]
    assert t.loc[1, "services_down"] > 0 and "azure/koreacentral" in t.loc[1, "failed_regions"]
    assert t["replan_usd_per_month"].isna().all()


def test_refuses_to_overwrite_without_force(reference, tmp_path: Path) -> None:
    out = tmp_path / "o"
    (tmp_path / "o.csv").write_text("mine\n")
    with pytest.raises(OutputExistsError):
        run_study(
            small_study(strategies=["single_region"]), executor="serial", out=out, progress=None
        )
    assert (tmp_path / "o.csv").read_text() == "mine\n"
    res = run_study(
        small_study(strategies=["single_region"]),
        executor="serial",
        out=out,
        force=True,
        progress=None,
    )
    assert len(pd.read_csv(tmp_path / "o.csv")) == len(res.table) == 2


def test_bad_study_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown strategy `optimall`"):
        small_study(strategies=["optimall"])
    with pytest.raises(InputError, match="failures"):
        small_study(failures=["everything"])
    with pytest.raises(InputError, match="spec file not found"):
        small_study(apps=["nope.yaml"])
    with pytest.raises(InputError, match="unknown region"):
        run_study(
            small_study(failures=[["mars/olympus"]]),
            executor="serial",
            out=tmp_path / "b",
            progress=None,
        )
    bad = tmp_path / "s.yaml"
    bad.write_text("apps: [x.yaml]\nsurprise: 1\n")
    with pytest.raises(InputError, match="surprise"):
        load_study(bad)


def test_executor_names_are_checked_and_backend_is_the_old_name_of_executor() -> None:
    with pytest.raises(InputError, match="unknown executor `threads`"):
        run_study(small_study(), executor="threads", progress=None)
    with pytest.raises(InputError, match="unknown executor `threads`"):
        run_study(small_study(), backend="threads", progress=None)


def test_example_study_loads() -> None:
    study = load_study(KR_STUDY)
    assert study.spec_paths()[0].resolve() == KR.resolve()
    assert study.strategies == "all" and study.replan and study.failures == ("single-region",)
