"""The trend report as markdown: what a person reads in the UI, in a PR comment or on disk."""

from __future__ import annotations

from typing import Any

from error_assets.trends.data import CLASSIFIER_KINDS, TrendData, TrendPoint

_MESSAGE_CHARS = 100


def render_markdown(
    data: TrendData, chart_name: str | None = None, title: str | None = None
) -> str:
    """The whole report; `chart_name` (a path relative to the report) embeds the chart."""
    heading = (
        title or f"CI error trends, {data.day_start:%Y-%m-%d %H:%M} – {data.end:%Y-%m-%d %H:%M} UTC"
    )
    parts = [f"# {heading}", ""]
    if chart_name:
        parts += [f"![infrastructure vs code errors]({chart_name})", ""]
    parts += _summary(data)
    parts += _classifiers(data)
    parts += _top_clusters(data.top_clusters)
    parts += _new_clusters(data.new_clusters)
    parts += _points_table("Per hour (occurrences)", "hour (UTC)", data.hourly, data, "%H:%M")
    parts += _points_table(
        f"Last {data.days} days (occurrences)", "day (UTC)", data.daily, data, "%Y-%m-%d"
    )
    return "\n".join(parts).rstrip() + "\n"


def _summary(data: TrendData) -> list[str]:
    total = data.total_occurrences()
    lines = [
        "## The day by category",
        "",
        "| category | distinct clusters | cluster-hours | occurrences | share |",
        "|---|---:|---:|---:|---:|",
    ]
    for t in data.totals:
        share = f"{t.occurrences / total:.0%}" if total else "–"
        lines.append(
            f"| {t.category} | {t.distinct_clusters} | {t.documents} | {t.occurrences} | {share} |"
        )
    lines.append(
        f"| **total** | {sum(t.distinct_clusters for t in data.totals)} | "
        f"{sum(t.documents for t in data.totals)} | {total} | |"
    )
    return [*lines, ""]


def _classifiers(data: TrendData) -> list[str]:
    counted = sum(data.classifier_mix.values())
    lines = [
        "## Classifier mix and LLM cost",
        "",
        "| classifier | cluster-hours | share |",
        "|---|---:|---:|",
    ]
    kinds = [*CLASSIFIER_KINDS, *sorted(set(data.classifier_mix) - set(CLASSIFIER_KINDS))]
    for kind in kinds:
        n = data.classifier_mix.get(kind, 0)
        share = f"{n / counted:.0%}" if counted else "–"
        lines.append(f"| {kind} | {n} | {share} |")
    tokens = data.tokens
    lines += [
        "",
        f"LLM requests: **{data.llm_requests}**, cost of the day: **${data.cost_usd:.4f}** "
        f"(tokens: input {tokens.get('input', 0)}, output {tokens.get('output', 0)}, "
        f"cache read {tokens.get('cache_read', 0)}, cache write {tokens.get('cache_write', 0)})",
        "",
    ]
    return lines


def _top_clusters(docs: list[dict[str, Any]]) -> list[str]:
    lines = ["## Top clusters", ""]
    if not docs:
        return [*lines, "_none_", ""]
    lines += [
        "| # | occurrences | hours | category | confidence | classifier | fingerprint | message |",
        "|---:|---:|---:|---|---:|---|---|---|",
    ]
    for rank, doc in enumerate(docs, 1):
        lines.append(
            f"| {rank} | {doc.get('l_total_occurrences', doc.get('l_occurrence_count', 0))} "
            f"| {doc.get('l_partitions', 1)} | {doc.get('s_primary_category', '')} "
            f"| {float(doc.get('f_confidence_score') or 0):.2f} | {_cell(doc.get('s_classifier'))} "
            f"| `{doc.get('s_error_hash', '')}` | {_message(doc)} |"
        )
    return [*lines, ""]


def _new_clusters(docs: list[dict[str, Any]]) -> list[str]:
    lines = ["## New clusters (first seen in this window)", ""]
    if not docs:
        return [*lines, "_none_", ""]
    lines += [
        "| first seen | occurrences | category | repo | job | fingerprint | message |",
        "|---|---:|---|---|---|---|---|",
    ]
    for doc in docs:
        lines.append(
            f"| {_cell(doc.get('ts_first_seen') or doc.get('@timestamp'))} "
            f"| {doc.get('l_total_occurrences', doc.get('l_occurrence_count', 0))} "
            f"| {doc.get('s_primary_category', '')} | {_cell(doc.get('s_repo'))} "
            f"| {_cell(doc.get('s_job_name'))} | `{doc.get('s_error_hash', '')}` | {_message(doc)} |"
        )
    return [*lines, ""]


def _points_table(
    heading: str, label: str, points: list[TrendPoint], data: TrendData, time_format: str
) -> list[str]:
    lines = [
        f"## {heading}",
        "",
        f"| {label} | " + " | ".join(data.categories) + " | total |",
        "|---|" + "---:|" * (len(data.categories) + 1),
    ]
    for point in points:
        values = [str(point.occurrences.get(c, 0)) for c in data.categories]
        lines.append(
            f"| {point.start.strftime(time_format)} | "
            + " | ".join(values)
            + f" | {point.total_occurrences()} |"
        )
    return [*lines, ""]


def _message(doc: dict[str, Any]) -> str:
    text = doc.get("s_message") or doc.get("s_root_cause_summary") or ""
    return _cell(text, _MESSAGE_CHARS)


def _cell(value: object, limit: int = 60) -> str:
    text = "" if value is None else str(value)
    text = " ".join(text.split()).replace("|", "\\|").replace("`", "'")
    return text if len(text) <= limit else text[: limit - 1] + "…"
