"""One narrow HTTP boundary for exchange clients: shared session, pacing, retries with backoff and jitter."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp

from app.errors import ExchangeError, redact_url

log = logging.getLogger("quantdesk.exchange")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retries for 429/418/5xx/timeouts/broken connections: exponential backoff with jitter, capped."""

    attempts: int = 8
    connect_attempts: int = 3  # a host that refuses connections is most likely the wrong URL
    base_s: float = 0.25
    cap_s: float = 20.0
    max_wait_s: float = 120.0  # a longer Retry-After (a ban) is reported instead of waited out
    timeout_s: float = 15.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        return min(self.cap_s, self.base_s * 2**attempt) * rng.uniform(0.5, 1.0)


class Pacer(Protocol):
    async def acquire(self, weight: int = 1) -> None: ...

    def release(self, status: int | None, headers: Mapping[str, str], weight: int = 1) -> None: ...


@dataclass(slots=True)
class Reply:
    """A decoded answer and what it took to get it."""

    data: Any
    retries: int
    throttled: int


ErrorText = Callable[[int, Any], str]


class JsonSession:
    """One aiohttp session per client, made on first use (on the running loop) and closed by `aclose()`."""

    policy: RetryPolicy
    _session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(total=self.policy.timeout_s)
            self._session = aiohttp.ClientSession(timeout=timeout, headers={"Accept": "application/json"})
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class HttpClient(JsonSession):
    """GET JSON from one base URL under a pacer; transient failures are retried, others raise ExchangeError."""

    def __init__(self, label: str, base_url: str, pacer: Pacer, error_text: ErrorText,
                 policy: RetryPolicy | None = None) -> None:
        self.label = label
        self.base_url = base_url.rstrip("/")
        self.pacer = pacer
        self.policy = policy or RetryPolicy()
        self._error_text = error_text
        self._session: aiohttp.ClientSession | None = None
        self._rng = random.Random()

    async def get_json(self, path: str, params: Mapping[str, str] | None = None, weight: int = 1,
                       what: str = "") -> Reply:
        """Decoded JSON of GET path; `what` names the request in error messages (e.g. 'candles of KRW-BTC')."""
        url = f"{self.base_url}{path}"
        retries = throttled = connect_failures = 0
        problem = ""
        for attempt in range(self.policy.attempts):
            status: int | None = None
            headers: Mapping[str, str] = {}
            body = b""
            await self.pacer.acquire(weight)
            try:
                async with self.session().get(url, params=params) as resp:
                    status, headers = resp.status, resp.headers
                    body = await resp.read()
            except aiohttp.ClientConnectorError as err:
                connect_failures += 1
                problem = f"cannot connect to {redact_url(self.base_url)} ({err.os_error.strerror or err})"
                if connect_failures >= self.policy.connect_attempts:
                    raise ExchangeError(f"{self.label}: {problem}") from None
            except (aiohttp.ClientError, TimeoutError, ConnectionError) as err:
                problem = f"{type(err).__name__} {err}".strip()
            finally:
                self.pacer.release(status, headers, weight)
            wait = self.policy.backoff(attempt, self._rng)
            if status == 200:
                try:
                    return Reply(json.loads(body), retries, throttled)
                except ValueError:
                    problem = "malformed JSON in the answer"
            elif status in (418, 429):
                throttled += 1
                problem = f"HTTP {status} (rate limited)"
                after = _retry_after(headers)
                if after > self.policy.max_wait_s:
                    what_ = "banned this IP" if status == 418 else "rate-limited this IP"
                    raise ExchangeError(f"{self.label}: the exchange {what_} for {after:.0f} s (HTTP {status}); "
                                        "try again later")
                wait = max(wait, after + self._rng.uniform(0, 0.1))
            elif status is not None and status >= 500:
                problem = f"HTTP {status}"
            elif status is not None:
                about = f"{what}: " if what else ""
                raise ExchangeError(f"{self.label}: {about}{self._error_text(status, _decode(body))}")
            retries = attempt + 1
            log.info("%s GET %s failed (%s); retry %d in %.2f s", self.label, path, problem, retries, wait)
            await asyncio.sleep(wait)
        raise ExchangeError(f"{self.label}: gave up after {self.policy.attempts} attempts; last problem: {problem}")


def _retry_after(headers: Mapping[str, str]) -> float:
    try:
        return float(headers.get("Retry-After", "0"))
    except ValueError:
        return 0.0


def _decode(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")[:200]
