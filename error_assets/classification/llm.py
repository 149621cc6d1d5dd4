"""The Claude classifier, through the official `anthropic` SDK.

Two modes share one prompt, one validation and one cost account:

* interactive: `messages.create` per error (a small thread pool), the first request alone so
  the cached system prompt is written once and read by every later request;
* batch: the Message Batches API (half price) with polling, per-request results
  (succeeded / errored / expired / canceled) and resume after a crash (`batch_state.py`).

Every request passes the rate limiter (requests per minute, shared by the process) and the
cost budget (`CostBudget`): when the next request could exceed the budget, nothing more is
sent and the remaining errors are flagged `budget_exhausted`. The SDK retries 429/529/5xx
itself (`max_retries`) and honours `retry-after` / `retry-after-ms`.

The answer is validated (schema, verbatim evidence); a broken answer is retried once with
a correction, then given up and flagged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from error_assets.classification.batch_state import BatchStateStore, PendingBatch
from error_assets.classification.pricing import BATCH_DISCOUNT, price_for
from error_assets.classification.prompt import (
    EVIDENCE_CORRECTION,
    OUTPUT_SCHEMA,
    user_message,
)
from error_assets.classification.verdicts import (
    Answer,
    InvalidAnswerError,
    parse_answer,
    validate_answer,
)
from error_assets.models import TokenUsage, stable_id

log = logging.getLogger(__name__)

MAX_OUTPUT_TOKENS = 1024
# Models that reject `output_config.effort`; every other current model accepts it.
MODELS_WITHOUT_EFFORT = ("claude-haiku-4-5", "claude-sonnet-4-5")
CHARS_PER_TOKEN = 3.0  # conservative for logs, so budget estimates err on the high side


@dataclass(frozen=True, slots=True)
class LLMRequest:
    key: str
    text: str  # already redacted and bounded
    source_kind: str = ""
    step_name: str = ""
    test_name: str = ""


@dataclass
class LLMOutcome:
    key: str
    answer: Answer | None = None
    usage: TokenUsage = field(default_factory=TokenUsage)
    cost_usd: float = 0.0
    requests: int = 0
    cache_read_requests: int = 0
    batch: bool = False
    flags: list[str] = field(default_factory=list)

    def add(self, usage: TokenUsage, cost: float, batch: bool = False) -> None:
        self.usage = self.usage + usage
        self.cost_usd += cost
        self.requests += 1
        self.cache_read_requests += 1 if usage.cache_read_tokens else 0
        self.batch = self.batch or batch


class CostBudget:
    """Money left for this run; reservations keep concurrent requests under the limit."""

    def __init__(self, limit_usd: float) -> None:
        self.limit = limit_usd
        self.spent = 0.0
        self._reserved = 0.0
        self.exhausted = False
        self._lock = threading.Lock()

    def reserve(self, estimate: float) -> bool:
        with self._lock:
            if self.exhausted or self.spent + self._reserved + estimate > self.limit:
                self.exhausted = True
                return False
            self._reserved += estimate
            return True

    def settle(self, estimate: float, actual: float) -> None:
        with self._lock:
            self._reserved = max(0.0, self._reserved - estimate)
            self.spent += actual


class RequestRateLimiter:
    """At most `per_minute` request starts in any 60-second window (thread-safe)."""

    def __init__(
        self,
        per_minute: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.per_minute = max(1, per_minute)
        self._starts: deque[float] = deque()
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()

    def acquire(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                while self._starts and now - self._starts[0] >= 60.0:
                    self._starts.popleft()
                if len(self._starts) < self.per_minute:
                    self._starts.append(now)
                    return
                wait = 60.0 - (now - self._starts[0])
            self._sleep(max(wait, 0.01))


_limiters: dict[int, RequestRateLimiter] = {}
_limiters_lock = threading.Lock()


def shared_rate_limiter(per_minute: int) -> RequestRateLimiter:
    """One limiter per process and rate, so every classifier in the process shares it."""
    with _limiters_lock:
        if per_minute not in _limiters:
            _limiters[per_minute] = RequestRateLimiter(per_minute)
        return _limiters[per_minute]


@dataclass(frozen=True)
class ClaudeSettings:
    api_key: str
    model: str
    base_url: str | None
    max_retries: int
    timeout_seconds: float
    concurrency: int
    poll_interval_seconds: float
    batch_max_wait_seconds: float
    effort: str | None
    state_dir: Path | None


def usage_of(message: Any) -> TokenUsage:
    usage = getattr(message, "usage", None)
    if usage is None:
        return TokenUsage()
    return TokenUsage(
        input_tokens=int(getattr(usage, "input_tokens", 0) or 0),
        output_tokens=int(getattr(usage, "output_tokens", 0) or 0),
        cache_read_tokens=int(getattr(usage, "cache_read_input_tokens", 0) or 0),
        cache_write_tokens=int(getattr(usage, "cache_creation_input_tokens", 0) or 0),
    )


def answer_payload(message: Any) -> str | dict[str, Any]:
    """The JSON answer of a message: its text blocks, or the input of a tool_use block."""
    if getattr(message, "stop_reason", None) in ("refusal", "max_tokens"):
        raise InvalidAnswerError(
            "malformed_json", f"the model stopped early ({message.stop_reason})"
        )
    texts = []
    for block in getattr(message, "content", None) or []:
        kind = getattr(block, "type", "")
        if kind == "tool_use" and isinstance(getattr(block, "input", None), dict):
            return block.input
        if kind == "text":
            texts.append(block.text)
    if not texts:
        raise InvalidAnswerError("malformed_json", "the answer has no text")
    return "".join(texts)


class ClaudeClassifier:
    """Send errors to Claude, interactively or as a Message Batch, within a budget."""

    def __init__(
        self,
        settings: ClaudeSettings,
        system_prompt: str,
        prompt_version: str,
        budget: CostBudget,
        limiter: RequestRateLimiter,
        client: Any | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.system_prompt = system_prompt
        self.prompt_version = prompt_version
        self.budget = budget
        self.limiter = limiter
        self.price = price_for(settings.model)  # unknown models fail before spending
        self._client = client
        self._sleep = sleep
        self.errors: list[str] = []
        self.batch_requests = 0
        self._state = BatchStateStore(settings.state_dir) if settings.state_dir else None

    @property
    def client(self) -> Any:
        if self._client is None:
            import anthropic

            self._client = anthropic.Anthropic(
                api_key=self.settings.api_key,
                base_url=self.settings.base_url,
                max_retries=self.settings.max_retries,
                timeout=self.settings.timeout_seconds,
            )
        return self._client

    # -- request building -------------------------------------------------------------------

    def params(self, request: LLMRequest, correction: str = "") -> dict[str, Any]:
        output_config: dict[str, Any] = {"format": {"type": "json_schema", "schema": OUTPUT_SCHEMA}}
        if self.settings.effort and not self.settings.model.startswith(MODELS_WITHOUT_EFFORT):
            output_config["effort"] = self.settings.effort
        return {
            "model": self.settings.model,
            "max_tokens": MAX_OUTPUT_TOKENS,
            "system": [
                {
                    "type": "text",
                    "text": self.system_prompt,
                    "cache_control": {"type": "ephemeral"},
                }
            ],
            "messages": [
                {
                    "role": "user",
                    "content": user_message(
                        request.text,
                        source_kind=request.source_kind,
                        step_name=request.step_name,
                        test_name=request.test_name,
                        correction=correction,
                    ),
                }
            ],
            "output_config": output_config,
        }

    def estimate(self, request: LLMRequest, *, batch: bool = False) -> float:
        """A pessimistic cost of one request: system prompt at the cache-write price."""
        system_tokens = len(self.system_prompt) / CHARS_PER_TOKEN
        user_tokens = (len(request.text) + 600) / CHARS_PER_TOKEN
        cost = (
            system_tokens * self.price.cache_write
            + user_tokens * self.price.input
            + MAX_OUTPUT_TOKENS * self.price.output
        ) / 1_000_000
        return cost * (BATCH_DISCOUNT if batch else 1.0)

    def custom_id(self, request: LLMRequest) -> str:
        return "r" + stable_id(
            self.settings.model, self.prompt_version, request.key, request.text, length=40
        )

    # -- interactive ------------------------------------------------------------------------

    def classify_interactive(self, requests: Sequence[LLMRequest]) -> dict[str, LLMOutcome]:
        outcomes: dict[str, LLMOutcome] = {}
        if not requests:
            return outcomes
        # The first request writes the prompt cache; the rest then read it.
        first, rest = requests[0], list(requests[1:])
        outcomes[first.key] = self._interactive_one(first)
        workers = max(1, min(self.settings.concurrency, len(rest)))
        if rest:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="claude") as pool:
                for request, outcome in zip(
                    rest, pool.map(self._interactive_one, rest), strict=True
                ):
                    outcomes[request.key] = outcome
        return outcomes

    def _interactive_one(
        self, request: LLMRequest, outcome: LLMOutcome | None = None, attempts: int = 2
    ) -> LLMOutcome:
        import anthropic

        outcome = outcome or LLMOutcome(request.key)
        correction = ""
        problem: str | None = None
        for _ in range(attempts):
            estimate = self.estimate(request)
            if not self.budget.reserve(estimate):
                outcome.flags.append("budget_exhausted")
                return outcome
            self.limiter.acquire()
            try:
                message = self.client.messages.create(**self.params(request, correction))
            except anthropic.APIError as exc:
                self.budget.settle(estimate, 0.0)
                self._record_error(request, exc)
                outcome.flags.append("llm_error")
                return outcome
            usage = usage_of(message)
            cost = self.price.cost(usage)
            self.budget.settle(estimate, cost)
            outcome.add(usage, cost)
            try:
                outcome.answer = validate_answer(
                    parse_answer(answer_payload(message)), request.text
                )
                return outcome
            except InvalidAnswerError as exc:
                problem = exc.kind
                correction = EVIDENCE_CORRECTION.format(problem=str(exc))
        if problem:
            outcome.flags.append(problem)
        return outcome

    def _record_error(self, request: LLMRequest, exc: Exception) -> None:
        status = getattr(exc, "status_code", None)
        request_id = getattr(exc, "request_id", None)
        detail = f"{type(exc).__name__}" + (f" {status}" if status else "")
        detail += f" (request-id {request_id})" if request_id else ""
        self.errors.append(f"{request.key}: {detail}")
        log.warning("Claude request for %s failed: %s", request.key, detail)

    # -- batch ------------------------------------------------------------------------------

    def classify_batch(self, requests: Sequence[LLMRequest]) -> dict[str, LLMOutcome]:
        """Classify through the Message Batches API; resume batches a crashed run left."""
        outcomes = {r.key: LLMOutcome(r.key) for r in requests}
        by_custom_id = {self.custom_id(r): r for r in requests}
        remaining = dict(by_custom_id)

        # 1. Answers already paid for (a crash after fetching results).
        if self._state is not None:
            self._state.prune()
            for custom_id in list(remaining):
                saved = self._state.answer(custom_id)
                if saved is not None:
                    self._apply_saved(remaining.pop(custom_id), saved, outcomes)

        # 2. Batches a previous run created and did not finish reading.
        batches: list[PendingBatch] = []
        if self._state is not None:
            for pending in self._state.pending_batches(self.settings.model, self.prompt_version):
                if any(cid in remaining for cid in pending.requests):
                    batches.append(pending)
                    for cid in pending.requests:
                        remaining.pop(cid, None)

        # 3. A new batch for the rest, as far as the budget reaches.
        to_send: list[tuple[str, LLMRequest]] = []
        reserved: dict[str, float] = {}
        for custom_id, request in remaining.items():
            estimate = self.estimate(request, batch=True)
            if self.budget.reserve(estimate):
                to_send.append((custom_id, request))
                reserved[custom_id] = estimate
            else:
                outcomes[request.key].flags.append("budget_exhausted")
        if to_send:
            created = self._create_batch(to_send, reserved, outcomes)
            if created is not None:
                batches.append(created)

        # 4. Poll, then read each batch's results.
        retry: list[LLMRequest] = []
        for pending in batches:
            self._finish_batch(pending, by_custom_id, reserved, outcomes, retry)
        for request in retry:  # one interactive retry for answers that broke the contract
            outcome = outcomes[request.key]
            outcome.flags = [
                f
                for f in outcome.flags
                if f not in ("evidence_not_verbatim", "schema_violation", "malformed_json")
            ]
            self._interactive_one(request, outcome, attempts=1)
        return outcomes

    def _create_batch(
        self,
        to_send: list[tuple[str, LLMRequest]],
        reserved: dict[str, float],
        outcomes: dict[str, LLMOutcome],
    ) -> PendingBatch | None:
        import anthropic

        self.limiter.acquire()
        try:
            batch = self.client.messages.batches.create(
                requests=[{"custom_id": cid, "params": self.params(r)} for cid, r in to_send]
            )
        except anthropic.APIError as exc:
            for cid, request in to_send:
                self._release(cid, request.key, reserved, outcomes, "llm_error")
            self._record_error(to_send[0][1], exc)
            return None
        self.batch_requests += 1
        pending = PendingBatch(
            batch_id=batch.id,
            model=self.settings.model,
            prompt_version=self.prompt_version,
            created_at=time.time(),
            requests={cid: r.key for cid, r in to_send},
        )
        if self._state is not None:
            self._state.save_batch(pending)
        return pending

    def _finish_batch(
        self,
        pending: PendingBatch,
        by_custom_id: dict[str, LLMRequest],
        reserved: dict[str, float],
        outcomes: dict[str, LLMOutcome],
        retry: list[LLMRequest],
    ) -> None:
        import anthropic

        deadline = time.monotonic() + self.settings.batch_max_wait_seconds
        ended = False
        while True:
            try:
                batch = self.client.messages.batches.retrieve(pending.batch_id)
            except anthropic.APIError as exc:
                self._record_error(LLMRequest(pending.batch_id, ""), exc)
                break
            if batch.processing_status == "ended":
                ended = True
                break
            if time.monotonic() >= deadline:
                break
            self._sleep(self.settings.poll_interval_seconds)
        mine = [cid for cid in pending.requests if cid in by_custom_id]
        if not ended:
            # Left for a later run to resume; nothing is charged until results arrive.
            for cid in mine:
                self._release(cid, by_custom_id[cid].key, reserved, outcomes, "batch_pending")
            return
        seen: set[str] = set()
        try:
            for item in self.client.messages.batches.results(pending.batch_id):
                seen.add(item.custom_id)
                self._apply_result(item, pending, by_custom_id, reserved, outcomes, retry)
        except anthropic.APIError as exc:
            self._record_error(LLMRequest(pending.batch_id, ""), exc)
            for cid in mine:
                if cid not in seen:
                    self._release(cid, by_custom_id[cid].key, reserved, outcomes, "llm_error")
            return  # keep the state: a later run reads the results again
        for cid in mine:
            if cid not in seen:
                key = by_custom_id[cid].key
                self._release(cid, key, reserved, outcomes, "batch_missing_result")
        if self._state is not None:
            self._state.forget_batch(pending.batch_id)

    def _release(
        self,
        cid: str,
        key: str,
        reserved: dict[str, float],
        outcomes: dict[str, LLMOutcome],
        flag: str,
    ) -> None:
        """Give a request's reserved budget back unspent and flag its outcome."""
        self.budget.settle(reserved.pop(cid, 0.0), 0.0)
        outcomes[key].flags.append(flag)

    def _apply_result(
        self,
        item: Any,
        pending: PendingBatch,
        by_custom_id: dict[str, LLMRequest],
        reserved: dict[str, float],
        outcomes: dict[str, LLMOutcome],
        retry: list[LLMRequest],
    ) -> None:
        custom_id = item.custom_id
        result = item.result
        kind = getattr(result, "type", "")
        usage = usage_of(result.message) if kind == "succeeded" else TokenUsage()
        cost = self.price.cost(usage, batch=True)
        request = by_custom_id.get(custom_id)
        if request is None:
            # An answer for a request this run did not ask about: keep it for the run that does.
            if kind == "succeeded" and self._state is not None:
                self._save_succeeded(
                    custom_id, pending.requests.get(custom_id, ""), result.message, usage, cost
                )
            return
        self.budget.settle(reserved.pop(custom_id, 0.0), cost)
        outcome = outcomes[request.key]
        if kind != "succeeded":
            outcome.flags.append(
                {
                    "errored": "llm_error",
                    "expired": "batch_expired",
                    "canceled": "batch_canceled",
                }.get(kind, "llm_error")
            )
            return
        outcome.add(usage, cost, batch=True)
        if self._state is not None:
            self._save_succeeded(custom_id, request.key, result.message, usage, cost)
        try:
            outcome.answer = validate_answer(
                parse_answer(answer_payload(result.message)), request.text
            )
        except InvalidAnswerError as exc:
            outcome.flags.append(exc.kind)
            retry.append(request)

    def _save_succeeded(
        self, custom_id: str, key: str, message: Any, usage: TokenUsage, cost: float
    ) -> None:
        try:
            payload = answer_payload(message)
        except InvalidAnswerError:
            return
        assert self._state is not None
        self._state.save_answer(
            custom_id,
            {
                "key": key,
                "payload": payload,
                "usage": [
                    usage.input_tokens,
                    usage.output_tokens,
                    usage.cache_read_tokens,
                    usage.cache_write_tokens,
                ],
                "cost_usd": cost,
            },
        )

    def _apply_saved(
        self, request: LLMRequest, saved: dict[str, Any], outcomes: dict[str, LLMOutcome]
    ) -> None:
        outcome = outcomes[request.key]
        usage = TokenUsage(*[int(v) for v in saved.get("usage", [0, 0, 0, 0])])
        outcome.usage = usage
        outcome.cost_usd = float(saved.get("cost_usd", 0.0))
        outcome.batch = True
        outcome.flags.append("resumed")
        try:
            outcome.answer = validate_answer(parse_answer(saved["payload"]), request.text)
        except (InvalidAnswerError, KeyError) as exc:
            outcome.flags.append(getattr(exc, "kind", "malformed_json"))
