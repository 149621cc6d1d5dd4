"""Classification with the real local store: tokens and cost reach the documents, the cache
makes a re-run free, and no planted secret is stored."""

from __future__ import annotations

import json
from pathlib import Path

from error_assets.classification import Classifier, ClassifierConfig
from error_assets.models import Cluster
from error_assets.stores.documents import build_document
from error_assets.stores.local_store import LocalStore
from tests.support.fake_anthropic import API_KEY, FakeAnthropic

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "classification"
PARTITION = "2026-11-27-10:00"
NEXT_PARTITION = "2026-11-27-11:00"


def cluster(fingerprint: str, text: str, partition: str = PARTITION) -> Cluster:
    return Cluster(
        fingerprint=fingerprint,
        partition=partition,
        source_kind="gha_log",
        representative_message=text.splitlines()[-1],
        representative_text=text,
        normalized_text=text.lower(),
        occurrences=3,
        member_fingerprints=(fingerprint,),
        error_ids=(f"e-{fingerprint}",),
        affected_job_ids=(101,),
        affected_run_ids=(11,),
        test_names=(),
        source_kinds=("gha_log",),
        repos=("acme/app",),
        workflow_names=("ci",),
        job_names=("test",),
        step_names=("Run tests",),
        first_seen="2026-11-27T10:05:00Z",
        last_seen="2026-11-27T10:45:00Z",
        is_new=True,
        normalizer_version="n1",
    )


def test_pipeline_records_tokens_cost_and_reuses_the_cache(tmp_path: Path) -> None:
    fake = FakeAnthropic().start()
    store = LocalStore(tmp_path / "store.sqlite3")
    try:
        store.ensure_ready()
        secrets = [
            json.loads(line)
            for line in (FIXTURES / "planted_secrets.jsonl").read_text().splitlines()
        ]
        clusters = [
            cluster("aaaa000000000001", "widget frobnicator stalled\nthe report came out empty"),
            cluster("aaaa000000000002", "OSError: [Errno 28] No space left on device"),
            cluster("aaaa000000000003", secrets[0]["text"] + "\nwidget setup went sideways"),
        ]
        config = ClassifierConfig(
            api_key=API_KEY,
            base_url=fake.url,
            model="claude-haiku-5-5",
            state_dir=tmp_path / "state",
            requests_per_minute=10_000,
        )
        first = Classifier(config, store).classify_clusters(clusters, mode="interactive")
        kinds = [c.classifier.split(":")[0] for c in first.classifications]
        assert kinds == ["llm", "rules", "llm"]
        assert all(
            c.partition == PARTITION and c.normalizer_version == "n1" for c in first.classifications
        )
        docs = [
            build_document(cl, verdict)
            for cl, verdict in zip(clusters, first.classifications, strict=True)
        ]
        store.replace_partition(PARTITION, docs)

        stored = store.partition_documents(PARTITION)
        by_hash = {d["s_error_hash"]: d for d in stored}
        llm_doc = by_hash["aaaa000000000001"]
        assert llm_doc["l_prompt_tokens"] > 0 and llm_doc["f_cost_usd"] > 0
        assert llm_doc["l_cache_write_tokens"] > 0 or llm_doc["l_cached_tokens"] > 0
        assert llm_doc["s_classifier"] == "llm:claude-haiku-5-5"
        assert (
            by_hash["aaaa000000000003"]["l_cached_tokens"] > 0
        )  # the second request read the cache
        assert by_hash["aaaa000000000002"]["f_cost_usd"] == 0.0
        # Extraction redacts snippets; what the classifier adds to the document is redacted too.
        verdict_fields = ("s_root_cause_summary", "s_evidence_line", "s_primary_category")
        written = json.dumps([{k: d[k] for k in verdict_fields} for d in stored])
        assert secrets[0]["secret"] not in written
        assert secrets[0]["secret"] not in fake.all_bodies()

        # The next hour sees the same fingerprints: the cache answers, nothing is paid.
        fake.requests.clear()
        later = [cluster(c.fingerprint, c.representative_text, NEXT_PARTITION) for c in clusters]
        second = Classifier(config, store).classify_clusters(later, mode="interactive")
        assert [c.classifier.split(":")[0] for c in second.classifications] == [
            "cache",
            "rules",
            "cache",
        ]
        assert sum(c.cost_usd for c in second.classifications) == 0.0
        assert fake.requests == []
        assert second.stats["cache_hits"] == 2

        # A person relabels one cluster in the store: that wins from then on.
        relabelled = dict(by_hash["aaaa000000000001"], s_human_category="infrastructure_error")
        relabelled.pop("_id", None)
        store.replace_partition(
            PARTITION, [relabelled] + [d for h, d in by_hash.items() if h != "aaaa000000000001"]
        )
        third = Classifier(config, store).classify_clusters(clusters[:1], mode="interactive")
        assert third.classifications[0].classifier == "human"
        assert third.classifications[0].category == "infrastructure_error"
    finally:
        store.close()
        fake.stop()
