"""The trend report and chart: a valid PNG of the promised size, and numbers that match the store.

The store is filled with documents built by the real `build_document`; the expected numbers
are computed here from the raw documents, independently of the store's aggregations.
"""

from __future__ import annotations

import base64
import os
import random
import struct
import subprocess
import sys
import uuid
import zlib
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from error_assets.resources import build_resources
from error_assets.settings import Settings
from error_assets.stores.base import ErrorStore
from error_assets.stores.documents import partition_key
from error_assets.stores.local_store import LocalStore
from error_assets.taxonomy import CATEGORY_NAMES, CODE, INFRASTRUCTURE
from error_assets.trends import CHART_HEIGHT_PX, CHART_WIDTH_PX, render_chart, write_report
from tests.operations.documents import documents_for_hour
from tests.support.opensearch_node import drop_index

REPO_ROOT = Path(__file__).resolve().parents[2]


def fill_store(
    store: ErrorStore, first_hour: datetime, hours: int, seed: int = 5, every: int = 1
) -> None:
    """Documents for the hours from `first_hour` (each `every`-th one), some hours left quiet."""
    rng = random.Random(seed)
    seen: set[str] = set()
    for h in range(0, hours, every):
        hour = first_hour + timedelta(hours=h)
        if rng.random() < 0.15:  # quiet hours exist; the report must show them as zeros
            continue
        store.replace_partition(partition_key(hour), documents_for_hour(hour, rng, seen))


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR, after checking the signature and the chunk CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    body = data[16 : 16 + length]
    (crc,) = struct.unpack(">I", data[16 + length : 20 + length])
    assert zlib.crc32(kind + body) == crc, "IHDR checksum mismatch"
    width, height = struct.unpack(">II", body[:8])
    assert data.endswith(b"IEND\xaeB`\x82"), "PNG is truncated"
    return width, height


def table(markdown: str, heading: str) -> list[list[str]]:
    """The rows (cells stripped) of the first table under `## heading`."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("## ") and heading in line)
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith("## "):
            break
        if line.startswith("|") and not line.startswith("|---"):
            rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows[1:]  # without the header


@pytest.fixture(params=["local", pytest.param("opensearch", marks=pytest.mark.opensearch)])
def filled_store(request: pytest.FixtureRequest, tmp_path: Path):
    """The day before `end` hour by hour, and every fifth hour of the 15 days before it, in
    each store implementation (their aggregations are separate code)."""
    end = datetime(2026, 11, 28, tzinfo=UTC)
    if request.param == "local":
        store = LocalStore(tmp_path / "store.sqlite3")
    else:
        from error_assets.stores.opensearch_store import OpenSearchStore

        url = request.getfixturevalue("opensearch_url")
        index = f"test_trends_{uuid.uuid4().hex[:10]}"
        store = OpenSearchStore(url, index=index, retry_backoff=0.2)
        store.ensure_ready()
        request.addfinalizer(lambda: drop_index(url, index))
    fill_store(store, end - timedelta(days=16), 15 * 24, every=5)
    fill_store(store, end - timedelta(days=1), 24, seed=6)
    yield store, end
    store.close()


def test_chart_is_a_valid_png_of_the_expected_size(filled_store, tmp_path: Path) -> None:
    store, end = filled_store
    files = write_report(store, end, 14, tmp_path / "r" / "day.md", tmp_path / "r" / "day.png")
    data = files.chart_path.read_bytes()
    assert png_size(data) == (CHART_WIDTH_PX, CHART_HEIGHT_PX) == (1200, 800)
    import matplotlib.image

    pixels = matplotlib.image.imread(files.chart_path)
    assert pixels.shape[:2] == (800, 1200)
    # Both category colours are drawn (the bars are there, not just axes).
    rgb = {tuple(round(float(v) * 255) for v in px[:3]) for px in pixels[::7, ::7].reshape(-1, 4)}
    assert (0xD9, 0x77, 0x06) in rgb and (0x25, 0x63, 0xEB) in rgb
    assert "![infrastructure vs code errors](day.png)" in files.markdown


def test_report_numbers_match_the_store(filled_store, tmp_path: Path) -> None:
    store, end = filled_store
    files = write_report(store, end, 14, tmp_path / "day.md", tmp_path / "day.png")
    markdown = files.markdown
    day_docs = store.documents_between(end - timedelta(days=1), end)
    assert day_docs, "the fixture must put documents in the day"

    # Day by category: distinct clusters, cluster-hours, occurrences.
    summary = {row[0]: row[1:4] for row in table(markdown, "The day by category")}
    for category in CATEGORY_NAMES:
        docs = [d for d in day_docs if d["s_primary_category"] == category]
        assert summary[category] == [
            str(len({d["s_error_hash"] for d in docs})),
            str(len(docs)),
            str(sum(d["l_occurrence_count"] for d in docs)),
        ]
    assert summary["**total**"][2] == str(sum(d["l_occurrence_count"] for d in day_docs))

    # Per hour: every hour of the day is listed, quiet ones as zero.
    per_hour: dict[str, Counter] = defaultdict(Counter)
    for d in day_docs:
        per_hour[d["s_partition"][-5:]][d["s_primary_category"]] += d["l_occurrence_count"]
    hour_rows = table(markdown, "Per hour")
    assert [r[0] for r in hour_rows] == [f"{h:02d}:00" for h in range(24)]
    for hour, infra, code, total in hour_rows:
        assert int(infra) == per_hour[hour][INFRASTRUCTURE]
        assert int(code) == per_hour[hour][CODE]
        assert int(total) == int(infra) + int(code)
    assert any(r[3] == "0" for r in hour_rows), "the fixture has a quiet hour"

    # Last 14 days.
    history = store.documents_between(end - timedelta(days=14), end)
    per_day: dict[str, Counter] = defaultdict(Counter)
    for d in history:
        per_day[d["s_partition"][:10]][d["s_primary_category"]] += d["l_occurrence_count"]
    day_rows = table(markdown, "Last 14 days")
    assert len(day_rows) == 14
    assert day_rows[0][0] == "2026-11-14" and day_rows[-1][0] == "2026-11-27"
    for day, infra, code, _ in day_rows:
        assert (int(infra), int(code)) == (per_day[day][INFRASTRUCTURE], per_day[day][CODE])

    # Classifier mix and the cost of the day.
    kinds = Counter(d["s_classifier"].split(":", 1)[0] for d in day_docs)
    mix = {row[0]: int(row[1]) for row in table(markdown, "Classifier mix")}
    assert mix == {k: kinds.get(k, 0) for k in ("rules", "cache", "llm", "offline", "human")}
    cost = sum(d["f_cost_usd"] for d in day_docs)
    assert f"cost of the day: **${cost:.4f}**" in markdown
    assert f"LLM requests: **{kinds['llm']}**" in markdown

    # Top clusters: occurrences summed over the day's hours, largest first.
    totals: Counter = Counter()
    for d in day_docs:
        totals[d["s_error_hash"]] += d["l_occurrence_count"]
    top = table(markdown, "Top clusters")
    assert [int(r[1]) for r in top] == sorted(totals.values(), reverse=True)[: len(top)]
    for row in top:
        assert totals[row[6].strip("`")] == int(row[1])


def test_new_clusters_are_listed(tmp_path: Path) -> None:
    end = datetime(2026, 11, 28, tzinfo=UTC)
    with LocalStore(tmp_path / "store.sqlite3") as store:
        # Nothing before the day: every cluster of the day is new.
        fill_store(store, end - timedelta(days=1), 24, seed=9)
        files = write_report(store, end, 3, tmp_path / "d.md", tmp_path / "d.png")
        first_docs = [
            d for d in store.documents_between(end - timedelta(days=1), end) if d["b_is_new"]
        ]
    rows = table(files.markdown, "New clusters")
    assert {r[5].strip("`") for r in rows} == {d["s_error_hash"] for d in first_docs}


def test_an_empty_store_gives_a_report_of_zeros(tmp_path: Path) -> None:
    end = datetime(2026, 11, 28, tzinfo=UTC)
    with LocalStore(tmp_path / "store.sqlite3") as store:
        files = write_report(store, end, 14, tmp_path / "e.md", tmp_path / "e.png")
    assert png_size(files.chart_path.read_bytes()) == (1200, 800)
    assert "_none_" in files.markdown
    assert all(r[3] == "0" for r in table(files.markdown, "Per hour"))


def test_error_trends_asset_writes_files_and_shows_the_chart(tmp_path: Path) -> None:
    from error_assets.assets.report import error_trends

    home = tmp_path / "home"
    settings = Settings.from_env({"ERROR_ASSETS_HOME": str(home)})
    yesterday = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(
        days=1
    )
    with LocalStore(settings.store_path) as store:
        fill_store(store, yesterday - timedelta(days=2), 3 * 24)
        expected = store.documents_between(yesterday, yesterday + timedelta(days=1))
    day = yesterday.strftime("%Y-%m-%d")
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [error_trends],
            partition_key=day,
            instance=instance,
            resources=build_resources(settings),
        )
        assert result.success
        (event,) = result.asset_materializations_for_node("error_trends")
    metadata = {k: v.value for k, v in event.metadata.items()}
    markdown_path = home / "reports" / f"{day}.md"
    chart_path = home / "reports" / f"{day}.png"
    assert markdown_path.is_file() and chart_path.is_file()
    assert metadata["report_path"] == str(markdown_path)
    prefix = "![infrastructure vs code errors](data:image/png;base64,"
    assert metadata["chart"].startswith(prefix) and metadata["chart"].endswith(")")
    embedded = base64.b64decode(metadata["chart"][len(prefix) : -1])
    assert embedded == chart_path.read_bytes()
    assert metadata["occurrences"] == sum(d["l_occurrence_count"] for d in expected)
    assert f"CI error trends, {day} (UTC)" in metadata["report"]
    assert "Per hour" in metadata["report"]


def test_render_chart_is_deterministic_in_size_for_long_histories(filled_store) -> None:
    store, end = filled_store
    from error_assets.trends import collect_trend

    assert png_size(render_chart(collect_trend(store, end, days=60))) == (1200, 800)


@pytest.mark.slow
def test_trends_command_writes_chart_and_report(tmp_path: Path) -> None:
    home = tmp_path / "home"
    settings = Settings.from_env({"ERROR_ASSETS_HOME": str(home)})
    now_hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    with LocalStore(settings.store_path) as store:
        fill_store(store, now_hour - timedelta(days=3), 3 * 24)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENSEARCH", "ANTHROPIC"))}
    env["ERROR_ASSETS_HOME"] = str(home)
    png, report = tmp_path / "out" / "trend.png", tmp_path / "out" / "trend.md"
    # The command reads the clock itself: run it again if the hour turned meanwhile.
    for _ in range(2):
        hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "error_assets.cli",
                "trends",
                "--days",
                "3",
                "--png",
                str(png),
                "--report",
                str(report),
            ],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if datetime.now(UTC).replace(minute=0, second=0, microsecond=0) == hour:
            break
    with LocalStore(settings.store_path) as store:
        recent = store.documents_between(hour - timedelta(hours=23), hour + timedelta(hours=1))
    assert done.returncode == 0, done.stderr
    assert f"chart:  {png}" in done.stdout and f"report: {report}" in done.stdout
    assert png_size(png.read_bytes()) == (1200, 800)
    text = report.read_text()
    assert "![infrastructure vs code errors](trend.png)" in text
    summary = {row[0]: row for row in table(text, "The day by category")}
    assert summary["**total**"][3] == str(sum(d["l_occurrence_count"] for d in recent))
    assert len(table(text, "Last 3 days")) == 3

    bad = subprocess.run(
        [sys.executable, "-m", "error_assets.cli", "trends", "--days", "0"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "--days" in bad.stderr
