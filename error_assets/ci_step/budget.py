"""The hard time budget of the CI step: every stage runs against one deadline.

Work that may block (the LLM call, the GitHub and OpenSearch requests) runs in a daemon
worker thread; the caller stops waiting when the budget is spent and reports what was done.
A daemon thread cannot be killed, so the command ends the process once it has printed its
summary (see `error_assets.commands.ci`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(slots=True)
class Outcome(Generic[T]):
    """How a bounded call ended: finished (with a value or an error) or still running."""

    finished: bool
    value: T | None = None
    error: BaseException | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.finished and self.error is None


class TimeBudget:
    """A deadline measured on the monotonic clock from the moment the budget is created."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        if seconds <= 0:
            raise ValueError(f"a time budget must be positive, not {seconds}")
        self.seconds = float(seconds)
        self._clock = clock
        self._start = clock()

    @property
    def elapsed(self) -> float:
        return self._clock() - self._start

    def remaining(self, reserve: float = 0.0) -> float:
        """Seconds left before the deadline, minus `reserve` kept for later stages (never < 0)."""
        return max(0.0, self.seconds - self.elapsed - reserve)

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0.0

    def start(
        self, function: Callable[..., T], *args: Any, name: str = "ci-step-work"
    ) -> Pending[T]:
        """Start `function(*args)` in a daemon thread and return at once."""
        return Pending(self, function, args, name)

    def call(
        self,
        function: Callable[..., T],
        *args: Any,
        reserve: float = 0.0,
        limit: float | None = None,
        name: str = "ci-step-work",
    ) -> Outcome[T]:
        """Run `function(*args)` in a daemon thread; wait at most the remaining budget.

        `reserve` keeps seconds for what comes after (rendering the summary); `limit` caps
        the wait below the budget. A call still running when the wait ends is abandoned.
        """
        if self.remaining(reserve) <= 0 or (limit is not None and limit <= 0):
            return Outcome(finished=False)
        return self.start(function, *args, name=name).wait(reserve=reserve, limit=limit)


class Pending(Generic[T]):
    """A call running in a daemon thread against a budget."""

    def __init__(
        self, budget: TimeBudget, function: Callable[..., T], args: tuple[Any, ...], name: str
    ) -> None:
        self._budget = budget
        self._done = threading.Event()
        self._started = budget._clock()
        self._value: T | None = None
        self._error: BaseException | None = None
        self._seconds = 0.0

        def target() -> None:
            try:
                self._value = function(*args)
            except BaseException as exc:  # handed to the waiter, never raised in the thread
                self._error = exc
            finally:
                self._seconds = budget._clock() - self._started
                self._done.set()

        threading.Thread(target=target, name=name, daemon=True).start()

    def wait(self, reserve: float = 0.0, limit: float | None = None) -> Outcome[T]:
        """Wait until the call ends or the budget (less `reserve`, capped by `limit`) is spent."""
        wait = self._budget.remaining(reserve)
        if limit is not None:
            wait = min(wait, limit)
        if self._done.wait(max(0.0, wait)):
            return Outcome(True, self._value, self._error, self._seconds)
        return Outcome(False, seconds=self._budget._clock() - self._started)
