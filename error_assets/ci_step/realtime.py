"""Real-time documents: what the CI step publishes, and how the hourly batch reconciles it.

Reconciliation (no double counting):
* The step writes one document per cluster of *this job* through `ErrorStore.upsert_realtime`,
  `b_realtime: true`, with its own id `<fingerprint>:<partition>:rt:<job ref>` — never the
  batch id `<fingerprint>:<partition>`. The partition is the hour the step ran in (the job
  completes in that hour or the next).
* The hourly batch later sees the same failed job through the CI source and writes its own
  documents with `replace_partition`, which neither deletes nor counts real-time ones; the
  trend, top-cluster, new-cluster and history queries read only `b_realtime: false`
  documents. A failure is therefore counted once, by the batch; the real-time documents stay
  as the record of what the developer was told, linked to the run and job.
* The classification cache reads real-time documents too (after the batch's own), so a
  fingerprint the step already sent to the LLM is not paid for again by the batch.
"""

from __future__ import annotations

from typing import Any

from error_assets.ci_step.context import GitHubContext
from error_assets.models import CIJob, Classification, Cluster
from error_assets.stores.documents import build_document, document_id


def realtime_document_id(fingerprint: str, partition: str, context: GitHubContext) -> str:
    return f"{document_id(fingerprint, partition)}:rt:{context.job_ref}"


def ci_job(context: GitHubContext, partition: str, completed_at: str, step_name: str = "") -> CIJob:
    """The running job as a CI-job record (it has not completed yet: `completed_at` is now)."""
    return CIJob(
        repo=context.repository,
        workflow_name=context.workflow,
        run_id=context.run_id,
        run_attempt=context.run_attempt,
        job_id=context.job_id,
        job_name=context.display_job_name,
        conclusion="failure",
        started_at=None,
        completed_at=completed_at,
        runner_name=context.runner_name,
        head_branch=context.ref_name,
        head_sha=context.sha,
        event=context.event_name,
        html_url=context.job_url or context.run_url,
        failed_step=step_name,
        partition=partition,
    )


def realtime_document(
    cluster: Cluster, classification: Classification, context: GitHubContext, job: CIJob
) -> dict[str, Any]:
    """The published document of one cluster of this job, marked real-time and linked to it."""
    doc = build_document(cluster, classification, {job.job_id: job}, realtime=True)
    doc.update(
        {
            "s_error_id": realtime_document_id(cluster.fingerprint, cluster.partition, context),
            "b_realtime": True,
            "s_workflow_id": str(context.run_id) if context.run_id else "",
            "s_job_id": str(context.job_id) if context.job_id else "",
            "s_job_ref": context.job_ref,
            "s_job_key": context.job_key,
            "l_run_attempt": context.run_attempt,
            "s_run_url": context.run_url,
            "s_job_url": context.job_url,
            "s_head_sha": context.sha,
            "s_head_branch": context.ref_name,
            "s_event": context.event_name,
        }
    )
    return doc
