"""The failed-runs sensor: partitions requested once, cursor advanced once per evaluation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from error_assets.resources import CISourceResource, HomeResource
from error_assets.sensors.failed_runs import build_failed_runs_sensor
from error_assets.stores.documents import partition_key
from tests.github.scenario import REPO, job, make_source, run
from tests.support.fake_github import TOKEN, FakeGitHub


def _partitions(end_offset: int) -> dg.HourlyPartitionsDefinition:
    start = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%d-%H:00")
    return dg.HourlyPartitionsDefinition(start_date=start, timezone="UTC", end_offset=end_offset)


def _sensor(end_offset: int) -> dg.SensorDefinition:
    partitions = _partitions(end_offset)

    @dg.asset(partitions_def=partitions)
    def raw_ci_jobs() -> None: ...

    pipeline = dg.define_asset_job("pipeline", selection=[raw_ci_jobs], partitions_def=partitions)
    return build_failed_runs_sensor(pipeline, partitions_def=partitions)


def _resources(fake: FakeGitHub, home: Path) -> dict[str, object]:
    home_resource = HomeResource(home=str(home), archive=str(home / "archive"))
    source = CISourceResource(
        home=home_resource, github_token=TOKEN, repos=REPO, github_api_url=fake.url
    )
    return {"ci_source": source}


def _tick(
    sensor: dg.SensorDefinition, cursor: str | None, resources: dict[str, object]
) -> dg.SensorResult:
    with dg.build_sensor_context(cursor=cursor, resources=resources) as context:
        result = sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def test_sensor_requests_partitions_once_and_advances_its_cursor(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    run(
        fake_github,
        now - timedelta(minutes=90),
        [
            job("unit", "failure", now - timedelta(minutes=65)),
            job("lint", "success", now - timedelta(minutes=70)),
        ],
    )
    run(
        fake_github,
        now - timedelta(minutes=40),
        [job("unit", "success", now - timedelta(minutes=30))],
    )
    sensor = _sensor(end_offset=1)
    resources = _resources(fake_github, tmp_path)

    listings_before = len(fake_github.api_requests(r"/actions/runs\?"))
    first = _tick(sensor, None, resources)
    assert len(fake_github.api_requests(r"/actions/runs\?")) == listings_before + 1

    partition = partition_key(now - timedelta(minutes=65))
    assert [r.partition_key for r in first.run_requests] == [partition]
    assert first.run_requests[0].run_key.startswith(f"{partition}:")
    assert first.cursor

    # Nothing new: no request; one poll, and the cursor never moves backwards.
    second = _tick(sensor, first.cursor, resources)
    assert second.run_requests == [] and second.skip_reason
    assert (
        json.loads(second.cursor)["poll"]["checked_until"]
        >= json.loads(first.cursor)["poll"]["checked_until"]
    )
    assert len(fake_github.api_requests(r"/actions/runs\?")) == listings_before + 2

    # A new failed run: only it is requested, and replaying the same tick gives the same run key.
    completed = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=30)
    fresh = run(fake_github, completed - timedelta(minutes=5), [job("e2e", "timed_out", completed)])
    third = _tick(sensor, second.cursor, resources)
    replay = _tick(sensor, second.cursor, resources)
    assert [r.partition_key for r in third.run_requests] == [partition_key(completed)]
    assert [r.run_key for r in replay.run_requests] == [r.run_key for r in third.run_requests]
    assert f"{REPO}:{fresh.id}:1" in json.loads(third.cursor)["poll"]["seen"]
    fourth = _tick(sensor, third.cursor, resources)
    assert fourth.run_requests == []


def test_partition_that_does_not_exist_yet_waits_in_the_cursor(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    if (now.minute == 0 and now.second < 20) or (now.minute == 59 and now.second > 30):
        # The job must complete, and both ticks run, inside the current hour.
        pytest.skip("too close to the hour boundary to place a job in the current hour")
    completed = now - timedelta(seconds=10)
    run(fake_github, completed - timedelta(minutes=1), [job("unit", "failure", completed)])
    resources = _resources(fake_github, tmp_path)

    closed_hours_only = _sensor(end_offset=0)
    first = _tick(closed_hours_only, None, resources)
    assert first.run_requests == []
    assert json.loads(first.cursor)["pending"] == {
        partition_key(completed): [f"{REPO}:{fake_github.repos[REPO][0].id}:1"]
    }

    # Once the partition exists (here: a definition that includes the current hour) it is requested.
    later = _tick(_sensor(end_offset=1), first.cursor, resources)
    assert [r.partition_key for r in later.run_requests] == [partition_key(completed)]
    assert json.loads(later.cursor)["pending"] == {}


def test_sensor_skips_without_github(tmp_path: Path) -> None:
    home = HomeResource(home=str(tmp_path), archive=str(tmp_path / "archive"))
    resources = {"ci_source": CISourceResource(home=home)}
    with dg.build_sensor_context(resources=resources) as context:
        result = _sensor(end_offset=1)(context)
    assert isinstance(result, dg.SkipReason)
    assert "GITHUB_TOKEN" in (result.skip_message or "")


def test_sensor_is_stopped_by_default() -> None:
    sensor = _sensor(end_offset=1)
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    assert sensor.minimum_interval_seconds == 120


def test_poll_reports_each_failed_attempt_once(fake_github: FakeGitHub, tmp_path: Path) -> None:
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    first_try = job("unit", "failure", now - timedelta(minutes=50))
    r = run(fake_github, now - timedelta(minutes=55), [first_try])
    source = make_source(fake_github, tmp_path / "raw")

    poll1 = source.poll_failed_runs(None, now=now)
    assert [(e.run_id, e.run_attempt, e.partitions) for e in poll1.events] == [
        (r.id, 1, ("2026-11-28-11:00",))
    ]

    # Re-run: attempt 2 fails too, later; the overlap re-reads attempt 1 but does not repeat it.
    r.jobs.append(job("unit", "failure", now + timedelta(minutes=4), attempt=2))
    poll2 = source.poll_failed_runs(poll1.cursor, now=now + timedelta(minutes=5))
    assert [(e.run_id, e.run_attempt, e.partitions) for e in poll2.events] == [
        (r.id, 2, ("2026-11-28-12:00",))
    ]
    poll3 = source.poll_failed_runs(poll2.cursor, now=now + timedelta(minutes=7))
    assert poll3.events == []
