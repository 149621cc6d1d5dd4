"""The step's entry point: environment in; summary file, workflow commands and exit code out.

Nothing raised inside escapes as a failure of the job: every problem is printed as a
`::warning::` and the exit code is 0, unless `--strict` asks for 1.
"""

from __future__ import annotations

import argparse
import dataclasses
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from error_assets.ci_step import workflow_commands as wc
from error_assets.ci_step.report import CIStepReport
from error_assets.redaction import redact


def run_from_environment(
    args: argparse.Namespace, env: Mapping[str, str], out: TextIO
) -> tuple[int, bool]:
    """Run the step; return (exit code, whether a worker thread was left running)."""
    try:
        code = _run(args, env, out)
    except Exception as exc:  # the last line of defence: the job's own result must stand
        print(wc.warning(f"error-assets ci failed: {_one_line(exc)}"), file=out)
        code = 1 if args.strict else 0
    return code, _worker_alive()


def _run(args: argparse.Namespace, env: Mapping[str, str], out: TextIO) -> int:
    from error_assets.ci_step.context import ContextError, GitHubContext
    from error_assets.settings import Settings, SettingsError

    if not env.get("ERROR_ASSETS_HOME") and env.get("RUNNER_TEMP"):
        # On a runner, state (the offline model's cache) goes to the temp dir, never into
        # the workspace where a later step could upload or commit it.
        env = {**env, "ERROR_ASSETS_HOME": str(Path(env["RUNNER_TEMP"]) / "error-assets")}
    try:
        settings = Settings.from_env(env)
        context = GitHubContext.from_env(env)
    except (SettingsError, ContextError) as exc:
        print(wc.warning(f"error-assets ci skipped: {exc}"), file=out)
        return 1 if args.strict else 0
    if getattr(args, "job_id", None):  # a final job classifying another job of the run
        context = dataclasses.replace(
            context, job_id=args.job_id, job_name=args.job_name or "", runner_name=""
        )
    if not settings.enable_classification:
        print("error-assets: ENABLE_ERROR_CLASSIFICATION is false; nothing to do", file=out)
        return 0

    from error_assets.ci_step.step import CIStepOptions, run_ci_step
    from error_assets.ci_step.summary import render_summary

    options = CIStepOptions(
        junit_globs=tuple(args.junit),
        logs=tuple(args.log),
        buildkit=tuple(args.buildkit),
        annotations=tuple(args.annotations),
        budget_seconds=float(args.budget_seconds),
        local_store=Path(args.local_store) if args.local_store else None,
    )
    report = run_ci_step(options, settings, context, github_token=settings.github_token)
    markdown = render_summary(report)
    summary_path = args.summary_file or report.context.step_summary
    if summary_path:
        try:
            with open(summary_path, "a", encoding="utf-8") as handle:
                handle.write(markdown)
        except OSError as exc:
            report.failures.append(f"cannot append the summary to {summary_path}: {exc}")
    else:
        out.write(markdown)
    _print_console(report, out, annotate=args.annotate)
    failed = bool(report.failures) or report.budget_exhausted
    return 1 if (args.strict and failed) else 0


def _print_console(report: CIStepReport, out: TextIO, annotate: bool) -> None:
    for error in report.errors:
        c = error.classification
        verdict = f"{c.category} {c.confidence:.0%} ({c.classifier})" if c else "not classified"
        print(f"error-assets: {verdict}: {redact(error.occurrence.message)[:200]}", file=out)
    for problem in report.problems:
        print(wc.warning(f"error-assets could not read {problem}"), file=out)
    for note in report.notes:
        print(f"error-assets: {note}", file=out)
    for failure in report.failures:
        print(wc.warning(f"error-assets ci: {failure}"), file=out)
    if report.budget_exhausted:
        print(
            wc.warning(f"error-assets ci: time budget of {report.budget_seconds:g} s spent"),
            file=out,
        )
    if annotate:
        for line in annotation_lines(report):
            print(line, file=out)
    print(
        f"error-assets: {report.occurrences} occurrence(s), {len(report.errors)} cluster(s),"
        f" {len(report.classified)} classified, {report.documents_written} document(s) written"
        f" in {report.elapsed:.2f} s",
        file=out,
    )
    if report.timings:
        stages = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in report.timings.items())
        print(f"error-assets: stages: {stages}", file=out)


def annotation_lines(report: CIStepReport) -> list[str]:
    """One `::error` workflow command per classified error (GitHub keeps the first 10)."""
    from error_assets.ci_step.summary import TITLES, advice

    lines = []
    for error in report.classified[: wc.MAX_ANNOTATIONS]:
        c, o = error.classification, error.occurrence
        assert c is not None
        title = f"{TITLES.get(c.category, c.category)} ({c.confidence:.0%})"
        message = redact(c.evidence_line or o.message)
        lines.append(
            wc.annotation(
                f"{message}\n{advice(error)}", title=title, file=_relative(o.file), line=o.line
            )
        )
    return lines


def _relative(file: str) -> str:
    """Annotations need a path relative to the repository root; absolute ones are dropped."""
    return "" if not file or file.startswith("/") or ":\\" in file else file


def _worker_alive() -> bool:
    return any(
        t.daemon and t.is_alive() and t.name.startswith("ci-step") for t in threading.enumerate()
    )


def _one_line(error: BaseException) -> str:
    return f"{type(error).__name__}: {' '.join(redact(str(error)).split())[:300]}"
