"""The CI step, start to end: read what the job produced, classify it, publish, summarise.

Every stage runs in one worker thread against one `TimeBudget`; the caller waits for it at
most the budget (less a small reserve for the summary). Results are recorded on the report
as each stage completes, so whatever finished in time is shown even when the budget runs out:
the rules/offline verdicts come first, the LLM may then improve those it is allowed to see.
"""

from __future__ import annotations

import dataclasses
import glob
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from error_assets.ci_step.budget import TimeBudget
from error_assets.ci_step.context import GitHubContext, lookup_job
from error_assets.ci_step.report import CIStepReport, ClassifiedError
from error_assets.models import (
    ROLE_ORDER,
    Classification,
    Cluster,
    ErrorOccurrence,
    ExtractionProblem,
    stable_id,
)
from error_assets.redaction import redact
from error_assets.settings import Settings
from error_assets.stores.documents import iso, partition_key, partition_start

SUMMARY_RESERVE_S = 0.5  # kept back from the worker for rendering and writing the summary
STORE_RESERVE_S = 2.0  # kept back from the LLM for publishing, when a store is configured
# The worker's own waits (offline pass, LLM) end this much before the outer wait on the
# worker, so the worker says what ran out; with equal deadlines whichever thread got the GIL
# first would decide (the outer one often did once the offline model stopped loading for
# seconds, leaving the LLM thread's SDK import to compete at the deadline).
WORKER_MARGIN_S = 0.25
LOOKUP_LIMIT_S = 3.0  # the job-id lookup is a nicety: never worth more than this
MAX_PER_SOURCE = 20  # occurrences kept per kind of input (the extractor ranks within it)


@dataclass(frozen=True, slots=True)
class CIStepOptions:
    """What the job produced and how the step should treat it (from the command line)."""

    junit_globs: tuple[str, ...] = ()
    logs: tuple[str, ...] = ()
    buildkit: tuple[str, ...] = ()
    annotations: tuple[str, ...] = ()
    budget_seconds: float = 20.0
    cwd: Path = field(default_factory=Path.cwd)
    # Where to publish when OpenSearch is not configured: None = nowhere (a CI runner's
    # workspace is no place for a database unless the user asked for one).
    local_store: Path | None = None


def is_test_failure(cluster: Cluster) -> bool:
    """A failing test (named test case or a JUnit report) rather than a build/infra error."""
    return bool(cluster.test_names) or cluster.source_kind == "junit"


def llm_policy(threshold: str) -> Callable[[Cluster], bool]:
    """Which clusters may go to the LLM under `CLASSIFY_REALTIME_THRESHOLD`."""
    if threshold == "all":
        return lambda cluster: True
    if threshold == "infrastructure":
        return lambda cluster: not is_test_failure(cluster)
    return lambda cluster: False


def run_ci_step(
    options: CIStepOptions,
    settings: Settings,
    context: GitHubContext,
    *,
    github_token: str | None = None,
    now: datetime | None = None,
) -> CIStepReport:
    """Do the step's work within `options.budget_seconds`; never raises for the step's own errors."""
    budget = TimeBudget(options.budget_seconds)
    moment = now or datetime.now(UTC)
    report = CIStepReport(
        context=context,
        partition=partition_key(moment),
        threshold=settings.realtime_threshold,
        budget_seconds=options.budget_seconds,
    )
    if not settings.enable_classification:
        report.disabled = True
        return report
    lookup = None
    if github_token and context.in_github_actions:
        lookup = budget.start(
            lookup_job, context, github_token, min(LOOKUP_LIMIT_S, budget.remaining()),
            name="ci-step-job-lookup",
        )  # fmt: skip
    work = _Work(options, settings, report, budget, iso(moment), lookup)
    outcome = budget.call(work.run, reserve=SUMMARY_RESERVE_S, name="ci-step")
    if not outcome.finished:
        report.budget_exhausted = True
        report.notes.append(
            f"The {options.budget_seconds:g} s time budget was spent while {report.stage};"
            f" done: {', '.join(report.stages_done) or 'nothing'}."
        )
    elif outcome.error is not None:
        report.failures.append(f"failed while {report.stage}: {_describe(outcome.error)}")
    report.elapsed = budget.elapsed
    return report


class _Work:
    """The worker's stages; each records its result on the report before the next starts."""

    def __init__(
        self,
        options: CIStepOptions,
        settings: Settings,
        report: CIStepReport,
        budget: TimeBudget,
        now_iso: str,
        lookup: Any,
    ) -> None:
        self.options = options
        self.settings = settings
        self.report = report
        self.budget = budget
        self.now_iso = now_iso
        self.lookup = lookup
        self.store_configured = settings.opensearch_enabled or options.local_store is not None

    def run(self) -> None:
        report = self.report
        report.stage = "reading the inputs"
        groups = self._input_groups()
        report.finish_stage("inputs")
        report.stage = "extracting errors"
        occurrences = self._extract(groups)
        report.finish_stage("extraction")
        report.stage = "looking up the job id"
        self._await_lookup()
        occurrences = [self._in_job(o) for o in occurrences]
        report.occurrences = len(occurrences)
        if not occurrences:
            return
        report.stage = "clustering"
        try:
            report.errors = self._cluster(occurrences)
            report.finish_stage("clustering")
        except Exception as exc:  # the errors are still worth classifying, one by one
            report.failures.append(f"clustering failed ({_describe(exc)}); errors are unmerged")
            allowed = llm_policy(self.settings.realtime_threshold)
            report.errors = [
                ClassifiedError(cluster, o, llm_eligible=allowed(cluster))
                for o in occurrences
                for cluster in [single_cluster(o)]
            ]
        self._classify()
        if self.store_configured:
            report.stage = "publishing real-time documents"
            self._publish()
            report.finish_stage("publishing")
        report.stage = "done"

    # -- inputs and extraction -------------------------------------------------------------

    def _input_groups(self) -> list[tuple[str, list[Path]]]:
        """(extractor kind, paths) per kind of input; missing files become problems."""
        cwd = self.options.cwd
        junit: list[Path] = []
        for pattern in self.options.junit_globs:
            root = pattern if Path(pattern).is_absolute() else str(cwd / pattern)
            matches = sorted(Path(p) for p in glob.glob(root, recursive=True) if Path(p).is_file())
            if not matches:
                self.report.notes.append(f"no file matched --junit {pattern!r}")
            junit.extend(matches)
        groups = [("junit", _unique(junit))]
        for kind, names in (
            ("auto", self.options.logs),
            ("buildkit", self.options.buildkit),
            ("annotations", self.options.annotations),
        ):
            paths = []
            for name in names:
                path = Path(name) if Path(name).is_absolute() else cwd / name
                if path.is_file():
                    paths.append(path)
                else:
                    self.report.problems.append(f"{name}: no such file")
            groups.append((kind, _unique(paths)))
        for _, paths in groups:
            self.report.inputs.extend(str(p) for p in paths)
        return [(kind, paths) for kind, paths in groups if paths]

    def _extract(self, groups: Sequence[tuple[str, list[Path]]]) -> list[ErrorOccurrence]:
        if not groups:
            return []
        from error_assets.extraction import extract_paths

        found: list[ErrorOccurrence] = []
        for kind, paths in groups:
            try:
                items = extract_paths(
                    paths,
                    kind,
                    max_per_job=MAX_PER_SOURCE,
                    max_text_chars=self.settings.max_error_length,
                )
                for item in items:
                    if isinstance(item, ExtractionProblem):
                        self.report.problems.append(f"{item.path}: {item.reason}")
                    else:
                        found.append(item)
            except Exception as exc:  # one failing kind of input must not hide the others
                self.report.failures.append(f"extracting {kind} inputs: {_describe(exc)}")
        # Causes of every kind of input first, then symptoms, then wrappers; rank within.
        found.sort(key=lambda o: (ROLE_ORDER.get(o.role, 1), o.rank))
        return found

    def _await_lookup(self) -> None:
        if self.lookup is None:
            return
        outcome = self.lookup.wait(reserve=SUMMARY_RESERVE_S, limit=LOOKUP_LIMIT_S)
        if outcome.ok:
            self.report.context = outcome.value
        elif outcome.finished:
            self.report.notes.append(f"job id lookup failed: {_describe(outcome.error)}")
        else:
            self.report.notes.append("job id lookup did not answer in time")

    def _in_job(self, occurrence: ErrorOccurrence) -> ErrorOccurrence:
        """The occurrence with this run and job's keys (the extractor knows only files)."""
        ctx = self.report.context
        return dataclasses.replace(
            occurrence,
            error_id=stable_id(
                ctx.repository, ctx.run_id, ctx.run_attempt, ctx.job_ref, occurrence.error_id
            ),
            partition=self.report.partition,
            repo=ctx.repository,
            workflow_name=ctx.workflow,
            run_id=ctx.run_id,
            run_attempt=ctx.run_attempt,
            job_id=ctx.job_id,
            job_name=ctx.display_job_name,
        )

    # -- clustering and classification -------------------------------------------------------

    def _cluster(self, occurrences: list[ErrorOccurrence]) -> list[ClassifiedError]:
        from error_assets.fingerprinting import build_clusters, fingerprint_occurrences

        occurrences = list(fingerprint_occurrences(occurrences))
        clusters = build_clusters(occurrences, self.report.partition, history={})
        position = {o.error_id: i for i, o in enumerate(occurrences)}
        allowed = llm_policy(self.settings.realtime_threshold)
        errors = []
        for cluster in clusters:
            members = [occurrences[position[e]] for e in cluster.error_ids if e in position]
            members.sort(key=lambda o: position[o.error_id])
            best = members[0] if members else occurrences[0]
            errors.append(ClassifiedError(cluster, best, llm_eligible=allowed(cluster)))
        errors.sort(key=lambda e: position.get(e.occurrence.error_id, len(position)))
        return errors

    def _classify(self) -> None:
        """Rules + offline model for every cluster, and concurrently the LLM for the eligible.

        Both passes start at once: the offline verdicts are ready in a second or two whatever
        the API does, and the LLM's replace them for the clusters it answered in time.
        """
        report = self.report
        report.stage = "classifying with the rules"
        self._record(self._rule_verdicts())
        report.finish_stage("rules")
        report.stage = "classifying with the rules and the offline model"
        clusters = [e.cluster for e in report.errors]
        offline = self.budget.start(self._classifier_run, clusters, True, name="ci-step-offline")
        eligible = [e.cluster for e in report.errors if e.llm_eligible]
        llm = None
        if self.settings.llm_enabled and eligible:
            llm = self.budget.start(self._classifier_run, eligible, False, name="ci-step-llm")
        store = min(STORE_RESERVE_S, self.options.budget_seconds * 0.2)
        reserve = SUMMARY_RESERVE_S + WORKER_MARGIN_S + (store if self.store_configured else 0)
        first = offline.wait(reserve=reserve)
        if first.ok:
            self._record(first.value.classifications)
            report.finish_stage("rules/offline classification")
        elif first.finished:
            report.failures.append(f"rules/offline classification: {_describe(first.error)}")
        else:
            report.budget_exhausted = True
            report.notes.append("The rules/offline classification did not finish in time.")
        if llm is None:
            return
        report.stage = "waiting for the LLM"
        outcome = llm.wait(reserve=reserve)
        fallback = "the verdicts shown come from the rules and the offline classifier"
        if not outcome.finished:
            report.budget_exhausted = True
            report.notes.append(f"The LLM did not answer within the time budget; {fallback}.")
        elif outcome.error is not None:
            report.notes.append(
                f"The LLM could not be used ({_describe(outcome.error)}); {fallback}."
            )
        else:
            self._record(outcome.value.classifications)
            report.llm_stats = dict(getattr(outcome.value, "stats", {}) or {})
            report.finish_stage("LLM classification")

    def _rule_verdicts(self) -> list[Classification]:
        """Provisional verdicts of the rule library alone: milliseconds, no model to load.

        They stand if the full pass (human labels, rules, the offline model, which may have to
        be trained on a fresh runner) does not finish within the budget.
        """
        from error_assets.classification import ClassifierConfig, build_classifier
        from error_assets.classification.classifier import input_for_cluster

        classifier = build_classifier(ClassifierConfig.from_settings(self.settings, offline=True))
        verdicts = []
        for error in self.report.errors:
            cluster = error.cluster
            text = classifier.prepared_text(input_for_cluster(cluster))
            verdict = classifier.rule_verdict(cluster.fingerprint, text, self.now_iso)
            if verdict is not None:
                verdicts.append(
                    dataclasses.replace(
                        verdict,
                        partition=cluster.partition,
                        normalizer_version=cluster.normalizer_version,
                    )
                )
        return verdicts

    def _classifier_run(self, clusters: list[Cluster], offline: bool) -> Any:
        from error_assets.classification import ClassifierConfig, build_classifier

        config = ClassifierConfig.from_settings(self.settings, offline=offline)
        if not offline:
            # The SDK gives up on its own before the budget ends; the budget is the backstop.
            config = dataclasses.replace(
                config,
                timeout_seconds=max(1.0, self.budget.remaining(SUMMARY_RESERVE_S)),
                max_retries=min(config.max_retries, 2),
            )
        # Offline, the config turns the LLM off, so the policy is never consulted.
        allowed = llm_policy(self.settings.realtime_threshold)
        return build_classifier(config).classify_clusters(
            clusters, mode="interactive", llm_allowed=allowed
        )

    def _record(self, classifications: Iterable[Classification] | Mapping[str, Any]) -> None:
        items = (
            classifications.values() if isinstance(classifications, Mapping) else classifications
        )
        by_fingerprint = {c.fingerprint: c for c in items}
        for error in self.report.errors:
            found = by_fingerprint.get(error.cluster.fingerprint)
            if found is not None:
                error.classification = found

    # -- publishing --------------------------------------------------------------------------

    def _publish(self) -> None:
        from error_assets.ci_step.realtime import ci_job, realtime_document

        ctx = self.report.context
        classified = self.report.classified
        if not classified:
            return
        job = ci_job(ctx, self.report.partition, self.now_iso, classified[0].occurrence.step_name)
        documents = [realtime_document(e.cluster, e.classification, ctx, job) for e in classified]
        store, name = self._open_store()
        try:
            store.ensure_ready()
            self.report.documents_written = store.upsert_realtime(documents)
            self.report.store = name
        finally:
            store.close()

    def _open_store(self) -> tuple[Any, str]:
        if self.settings.opensearch_enabled:
            from error_assets.stores.opensearch_store import OpenSearchStore

            s = self.settings
            assert s.opensearch_url is not None
            # Short timeouts and one retry: the budget, not the client, decides how long to wait.
            store = OpenSearchStore(
                s.opensearch_url,
                index=s.index,
                username=s.opensearch_username,
                password=s.opensearch_password,
                verify_certs=s.opensearch_verify_certs,
                ca_certs=s.opensearch_ca_certs,
                timeout=max(1.0, min(10.0, self.budget.remaining(SUMMARY_RESERVE_S))),
                max_retries=1,
                retry_backoff=0.2,
            )
            return store, f"OpenSearch `{s.index}`"
        from error_assets.stores.local_store import LocalStore

        assert self.options.local_store is not None
        return LocalStore(self.options.local_store), "the local store"


def single_cluster(occurrence: ErrorOccurrence) -> Cluster:
    """A cluster of one occurrence, for when fingerprinting itself fails."""
    fingerprint = stable_id("ci-step-unclustered", occurrence.source_kind, occurrence.message)
    seen = occurrence.partition and iso(partition_start(occurrence.partition))
    return Cluster(
        fingerprint=fingerprint,
        partition=occurrence.partition,
        source_kind=occurrence.source_kind,
        representative_message=occurrence.message,
        representative_text=occurrence.text,
        normalized_text=occurrence.message,
        occurrences=1,
        member_fingerprints=(fingerprint,),
        error_ids=(occurrence.error_id,),
        affected_job_ids=(occurrence.job_id,),
        affected_run_ids=(occurrence.run_id,),
        test_names=(occurrence.test_name,) if occurrence.test_name else (),
        source_kinds=(occurrence.source_kind,),
        repos=(occurrence.repo,),
        workflow_names=(occurrence.workflow_name,),
        job_names=(occurrence.job_name,),
        step_names=(occurrence.step_name,) if occurrence.step_name else (),
        first_seen=seen or "",
        last_seen=seen or "",
        is_new=True,
        normalizer_version="",
    )


def _unique(paths: Iterable[Path]) -> list[Path]:
    seen: dict[Path, None] = {}
    for path in paths:
        seen.setdefault(path.resolve(), None)
    return list(seen)


def _describe(error: BaseException | None) -> str:
    """An error in one line, without a traceback (and without anything the message omits)."""
    if error is None:
        return "unknown error"
    text = " ".join(redact(str(error)).split()) or "no message"
    return f"{type(error).__name__}: {text[:300]}"
