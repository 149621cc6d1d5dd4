"""The request rate limiter: at most N request starts in any 60-second window."""

from __future__ import annotations

import threading

from error_assets.classification.llm import RequestRateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_third_request_in_a_minute_waits_for_the_window() -> None:
    clock = FakeClock()
    limiter = RequestRateLimiter(2, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    clock.now += 10
    limiter.acquire()
    assert clock.slept == []
    limiter.acquire()  # must wait until the first start is 60 s old
    assert clock.now >= 1060.0
    assert sum(clock.slept) == 50.0


def test_requests_spread_out_do_not_wait() -> None:
    clock = FakeClock()
    limiter = RequestRateLimiter(1, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        limiter.acquire()
        clock.now += 61
    assert clock.slept == []


def test_limiter_is_shared_safely_between_threads() -> None:
    clock = FakeClock()
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            clock.sleep(seconds)

    limiter = RequestRateLimiter(5, clock=clock, sleep=sleep)
    threads = [threading.Thread(target=limiter.acquire) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    # 12 starts at 5 per minute need at least two full windows of waiting.
    assert clock.now - 1000.0 >= 120.0
