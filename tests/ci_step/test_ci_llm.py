"""`error-assets ci` with Claude configured: the fake Anthropic server through the real SDK.

Threshold modes decide what reaches the API; faults (529 overloaded, a server slower than the
budget) never fail the job, and the budget bounds the whole step.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.ci_step.running import ci_env, run_ci
from tests.support.fake_anthropic import API_KEY, FakeAnthropic, Fault

pytestmark = [pytest.mark.realworld, pytest.mark.slow]

# Neither input is settled by a rule, so both would go to the LLM if allowed:
BUILD_LOG = "logs/gha_gcc_compile_error_ninja.log"  # a build error (not a test failure)
TEST_REPORT = "junit/go_junit_report_test_failure.xml"  # a failing test
RUNNER_SHUTDOWN = "logs/gha_runner_shutdown_signal.log"  # settled by a rule


def run_with_llm(
    realworld_dir: Path,
    workdir: Path,
    home: Path,
    fake: FakeAnthropic,
    threshold: str,
    budget: float = 20,
    timeout: float = 60,
):  # type: ignore[no-untyped-def]
    report = workdir / "reports" / Path(TEST_REPORT).name
    report.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(realworld_dir / TEST_REPORT, report)
    env = ci_env(
        workdir,
        home,
        ANTHROPIC_API_KEY=API_KEY,
        ANTHROPIC_BASE_URL=fake.url,
        CLASSIFY_REALTIME_THRESHOLD=threshold,
    )
    args = ["--junit", "reports/*.xml", "--log", str(realworld_dir / BUILD_LOG)]
    return run_ci(workdir, [*args, "--budget-seconds", str(budget)], env, timeout=timeout)


def sent_texts(fake: FakeAnthropic) -> str:
    return "\n".join(r.body for r in fake.message_requests())


def test_threshold_none_sends_nothing(
    realworld_dir: Path, tmp_path: Path, home: Path, fake_anthropic: FakeAnthropic
) -> None:
    run = run_with_llm(realworld_dir, tmp_path, home, fake_anthropic, "none")
    assert run.returncode == 0, run.stdout + run.stderr
    assert fake_anthropic.message_requests() == []
    assert "`offline`" in run.summary and "`llm:" not in run.summary


def test_threshold_infrastructure_sends_build_errors_but_not_test_failures(
    realworld_dir: Path, tmp_path: Path, home: Path, fake_anthropic: FakeAnthropic
) -> None:
    run = run_with_llm(realworld_dir, tmp_path, home, fake_anthropic, "infrastructure")
    assert run.returncode == 0, run.stdout + run.stderr
    sent = sent_texts(fake_anthropic)
    assert "kineto_metadata" in sent  # the build error went to the LLM
    assert "main_test.go" not in sent  # the failing test did not
    assert "`llm:" in run.summary and "`offline`" in run.summary
    assert "LLM request(s)" in run.summary


def test_threshold_all_sends_test_failures_too(
    realworld_dir: Path, tmp_path: Path, home: Path, fake_anthropic: FakeAnthropic
) -> None:
    run = run_with_llm(realworld_dir, tmp_path, home, fake_anthropic, "all")
    assert run.returncode == 0, run.stdout + run.stderr
    sent = sent_texts(fake_anthropic)
    assert "kineto_metadata" in sent and "main_test.go" in sent
    assert "`offline`" not in run.summary


def test_an_overloaded_api_falls_back_without_failing(
    realworld_dir: Path, tmp_path: Path, home: Path, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.script(*[Fault("status", 529, "overloaded_error", 50)] * 30)
    run = run_with_llm(realworld_dir, tmp_path, home, fake_anthropic, "all")
    assert run.returncode == 0, run.stdout + run.stderr
    assert len(fake_anthropic.message_requests()) >= 2  # the SDK retried
    assert "`llm:" not in run.summary
    assert "Code error" in run.summary  # rules/offline verdicts are still given
    assert "Traceback" not in run.stdout + run.stderr


def test_a_slow_api_cannot_hold_the_job_past_the_budget(
    realworld_dir: Path, tmp_path: Path, home: Path, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.script(*[Fault("slow", delay_s=60)] * 10)
    budget = 15.0  # room for the SDK import on a loaded machine; the API sleeps 60 s
    env = ci_env(tmp_path, home, ANTHROPIC_API_KEY=API_KEY, ANTHROPIC_BASE_URL=fake_anthropic.url,
                 CLASSIFY_REALTIME_THRESHOLD="all")  # fmt: skip
    # A rule decides the runner shutdown at once; the build error waits for the (slow) LLM.
    args = ["--log", str(realworld_dir / RUNNER_SHUTDOWN), "--log", str(realworld_dir / BUILD_LOG)]
    run = run_ci(tmp_path, [*args, "--budget-seconds", str(budget)], env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert fake_anthropic.message_requests()  # the LLM was asked
    # Interpreter start-up and exit come on top of the budget; nothing else does.
    assert run.seconds < budget + 3.0, run.seconds
    assert "did not answer within the time budget" in run.summary
    assert "Infrastructure error — confidence 97 %" in run.summary  # the rule's verdict stands
    assert "`llm:" not in run.summary
    assert any("time budget of 15 s spent" in w for w in run.warnings)


def test_strict_makes_a_spent_budget_visible(
    realworld_dir: Path, tmp_path: Path, home: Path, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.script(*[Fault("slow", delay_s=60)] * 10)
    env = ci_env(tmp_path, home, ANTHROPIC_API_KEY=API_KEY, ANTHROPIC_BASE_URL=fake_anthropic.url,
                 CLASSIFY_REALTIME_THRESHOLD="all")  # fmt: skip
    run = run_ci(tmp_path, ["--log", str(realworld_dir / BUILD_LOG), "--budget-seconds", "3",
                            "--strict"], env)  # fmt: skip
    assert run.returncode == 1
    assert run.seconds < 3 + 3.0
    assert any("time budget of 3 s spent" in w for w in run.warnings)
