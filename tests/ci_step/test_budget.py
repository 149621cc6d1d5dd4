"""The time budget: waits end at the deadline, whatever the work does."""

from __future__ import annotations

import threading
import time

import pytest

from error_assets.ci_step.budget import TimeBudget


def test_remaining_counts_down_on_the_given_clock() -> None:
    now = [100.0]
    budget = TimeBudget(10, clock=lambda: now[0])
    assert budget.remaining() == 10
    now[0] = 104.0
    assert budget.remaining(reserve=1) == pytest.approx(5)
    now[0] = 111.0
    assert budget.remaining() == 0 and budget.expired


def test_call_returns_the_value_or_the_error() -> None:
    budget = TimeBudget(5)
    assert budget.call(lambda x: x * 2, 21).value == 42
    outcome = budget.call(lambda: 1 / 0)
    assert outcome.finished and not outcome.ok
    assert isinstance(outcome.error, ZeroDivisionError)


def test_a_blocked_call_is_abandoned_at_the_deadline() -> None:
    release = threading.Event()
    budget = TimeBudget(0.5)
    started = time.monotonic()
    outcome = budget.call(release.wait, 30, reserve=0.1)
    waited = time.monotonic() - started
    release.set()
    assert not outcome.finished
    assert 0.3 <= waited < 1.0


def test_limit_caps_a_wait_below_the_budget_and_started_work_runs_meanwhile() -> None:
    budget = TimeBudget(30)
    pending = budget.start(time.sleep, 0.2)
    assert not pending.wait(limit=0.01).finished
    assert pending.wait(limit=5).finished


def test_a_spent_budget_does_not_start_work() -> None:
    ran = []
    now = [0.0]
    budget = TimeBudget(1, clock=lambda: now[0])
    now[0] = 2.0
    assert not budget.call(ran.append, 1).finished
    assert ran == []


def test_budget_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        TimeBudget(0)
