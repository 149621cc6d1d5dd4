"""What classification costs: a generated week of CI failures through the real pipeline.

A sample archive (`error_assets.sample.write_sample`) is replayed day by day through
`error_pipeline_job` on a temporary Dagster instance, with Claude pointed at the local fake
API (`tests/support/fake_anthropic.py`, real SDK, real usage fields). Reported next to each
other, from the same run:

* pipeline: rules, cache, per-run dedup, prompt caching and (for large partitions) batches;
* naive baseline: one uncached, interactive request per unique normalised error (every
  distinct occurrence fingerprint), sent to the same fake with the same prompt.

Costs are at list prices (`error_assets/classification/pricing.py`). Goals: at least 95%
fewer LLM requests than occurrences, at most $0.02 per 1,000 occurrences.

    .venv/bin/python bench/classify_cost.py            # a week (168 h), ~several minutes
    .venv/bin/python bench/classify_cost.py --quick    # one day
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=int, default=168)
    parser.add_argument("--jobs-per-hour", type=int, default=8)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--model", default=None, help="model id (default: the project default)")
    parser.add_argument("--quick", action="store_true", help="one day instead of a week")
    args = parser.parse_args()
    hours = 24 if args.quick else args.hours

    from tests.support.fake_anthropic import API_KEY, FakeAnthropic

    fake = FakeAnthropic().start()
    with tempfile.TemporaryDirectory(prefix="classify-cost-") as tmp:
        home = Path(tmp) / "home"
        (home / "dagster_home").mkdir(parents=True)
        from error_assets.settings import DEFAULT_MODEL

        model = args.model or DEFAULT_MODEL
        os.environ.update(
            {
                "ERROR_ASSETS_HOME": str(home),
                "DAGSTER_HOME": str(home / "dagster_home"),
                "ANTHROPIC_API_KEY": API_KEY,
                "ANTHROPIC_BASE_URL": fake.url,
                "ANTHROPIC_MODEL": model,
                "MAX_COST_USD_PER_RUN": "5",
            }
        )
        for name in ("OPENSEARCH_URL", "GITHUB_TOKEN", "REPO"):
            os.environ.pop(name, None)
        try:
            return run_bench(fake, home, hours, args.jobs_per_hour, args.seed, model)
        finally:
            fake.stop()


def run_bench(fake, home: Path, hours: int, jobs_per_hour: int, seed: int, model: str) -> int:
    import dagster as dg

    from error_assets.sample import write_sample
    from error_assets.settings import Settings
    from error_assets.stores import open_store
    from error_assets.stores.documents import partition_key

    settings = Settings.from_env(os.environ)
    end = datetime(2026, 11, 21, tzinfo=UTC)
    start = end - timedelta(hours=hours)
    summary = write_sample(settings.archive, start, hours, jobs_per_hour, seed)
    print(f"sample: {summary.jobs} failed jobs over {hours} h, model {model}")

    from error_assets.definitions import defs
    from error_assets.pipeline_runs import run_partitions

    started = time.monotonic()
    with dg.DagsterInstance.get() as instance:
        for day_start in range(0, hours, 24):  # one run per day, like a daily backfill
            keys = [
                partition_key(start + timedelta(hours=h))
                for h in range(day_start, min(hours, day_start + 24))
            ]
            result = run_partitions(defs, keys, instance)
            if not result.success:
                print(f"pipeline run for {keys[0]}.. failed", file=sys.stderr)
                return 1
    elapsed = time.monotonic() - started

    store = open_store(settings)
    try:
        docs = store.documents_between(start, end)
    finally:
        store.close()
    occurrences = sum(int(d.get("l_occurrence_count", 0)) for d in docs)
    pipeline_messages = [r for r in fake.requests if r.path == "/v1/messages"]
    batch_items = sum(len(b.requests) for b in fake.batches.values())
    batches_created = len(fake.batches)
    llm_requests = len(pipeline_messages) + batch_items
    # Documents that carry a request's usage (repeats of a fingerprint carry none).
    paid = [
        d for d in docs if int(d.get("l_prompt_tokens", 0)) + int(d.get("l_cached_tokens", 0)) > 0
    ]
    with_cache_read = sum(1 for d in paid if int(d.get("l_cached_tokens", 0)) > 0)
    llm_docs = len(paid)
    cost = sum(float(d.get("f_cost_usd", 0.0)) for d in docs)
    classifiers: dict[str, int] = {}
    for d in docs:
        kind = str(d.get("s_classifier", "")).split(":", 1)[0]
        classifiers[kind] = classifiers.get(kind, 0) + 1

    # The naive baseline, measured against the same fake in the same process.
    baseline = naive_baseline(fake, docs, model, settings.max_error_length)

    per_k = 1000 / max(1, occurrences)
    print(f"\noccurrences {occurrences}, cluster documents {len(docs)}, pipeline {elapsed:.0f} s")
    print(f"verdicts by classifier: {classifiers}")
    print(f"\n{'':34} {'pipeline':>12} {'naive':>12} {'ratio':>8}")
    rows = [
        ("LLM requests", llm_requests, baseline["requests"]),
        ("LLM requests / 1,000 occurrences", llm_requests * per_k, baseline["requests"] * per_k),
        ("$ / 1,000 occurrences", cost * per_k, baseline["cost"] * per_k),
        ("$ total", cost, baseline["cost"]),
    ]
    for name, ours, naive in rows:
        ratio = f"{ours / naive:.3f}" if naive else "-"
        print(f"{name:34} {ours:12.4f} {naive:12.4f} {ratio:>8}")
    share = with_cache_read / llm_docs if llm_docs else 0.0
    print(f"share of LLM requests with a cache read: {share:.0%} (naive: 0%)")
    print(
        f"message batches created: {batches_created}, interactive requests: {len(pipeline_messages)}"
    )
    reduction = 1 - llm_requests / max(1, occurrences)
    print(f"\nrequests vs occurrences: {reduction:.1%} fewer (goal >= 95%)")
    print(f"$ per 1,000 occurrences: {cost * per_k:.4f} (goal <= 0.02)")
    return 0


def naive_baseline(fake, docs: list[dict], model: str, max_error_length: int) -> dict[str, float]:
    """One uncached request per unique normalised error, interactive, no rules, no cache."""
    import anthropic

    from error_assets.classification import Classifier, ClassifierConfig
    from error_assets.classification.llm import MAX_OUTPUT_TOKENS, usage_of
    from error_assets.classification.pricing import cost_usd
    from error_assets.classification.prompt import OUTPUT_SCHEMA, user_message
    from error_assets.redaction import redact
    from tests.support.fake_anthropic import API_KEY

    texts: dict[str, str] = {}
    for doc in docs:
        members = doc.get("s_member_fingerprints") or [doc.get("s_error_hash")]
        for member in members:
            texts.setdefault(str(member), str(doc.get("s_snippet", "")))
    prompt = Classifier(ClassifierConfig()).static_prompt
    client = anthropic.Anthropic(api_key=API_KEY, base_url=fake.url, max_retries=2)
    total = 0.0
    for text in texts.values():
        message = client.messages.create(
            model=model,
            max_tokens=MAX_OUTPUT_TOKENS,
            system=prompt,  # no cache_control: every request pays the full prompt
            messages=[{"role": "user", "content": user_message(redact(text)[-max_error_length:])}],
            output_config={"format": {"type": "json_schema", "schema": OUTPUT_SCHEMA}},
        )
        total += cost_usd(model, usage_of(message))
    return {"requests": len(texts), "cost": total}


if __name__ == "__main__":
    sys.exit(main())
