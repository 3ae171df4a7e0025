"""Signed requests over one session: re-signed per attempt, retried only when the exchange surely did nothing.

Errors (all ExchangeError, so a user sees one clear line):
    ExchangeRejected  - the exchange answered with an error; `code` is its code or error name
    OutcomeUnknown    - a request that changes state was sent and no answer came back (timeout, dropped
                        connection, 5xx): it may or may not have happened, so look it up before anything else
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

from app.errors import ExchangeError
from infrastructure.exchanges.http import JsonSession, Pacer, RetryPolicy, _decode, _retry_after

log = logging.getLogger("quantdesk.exchange")


class ExchangeRejected(ExchangeError):
    """The exchange refused the request (nothing happened); `code` is its error code or name."""

    def __init__(self, message: str, status: int, code: int | str | None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class OutcomeUnknown(ExchangeError):
    """A state-changing request got no answer: it may have been carried out."""


@dataclass(frozen=True, slots=True)
class Wire:
    """One attempt's request: the encoded query (signature included), the body and the headers."""

    query: str = ""
    body: bytes | None = None
    headers: Mapping[str, str] | None = None


Build = Callable[[], Wire]
Explain = Callable[[int, Any], tuple[int | str | None, str]]


class SignedHttp(JsonSession):
    """Send `build()` (called again for every attempt, so timestamps and nonces are fresh) under a pacer."""

    def __init__(self, label: str, base_url: str, explain: Explain, policy: RetryPolicy | None = None) -> None:
        self.label = label
        self.base_url = base_url.rstrip("/")
        self.policy = policy or RetryPolicy(attempts=4, timeout_s=10.0)
        self._explain = explain
        self._session: aiohttp.ClientSession | None = None
        self._rng = random.Random()

    async def send(self, method: str, path: str, build: Build, pacers: tuple[Pacer, ...], *, weight: int = 1,
                   changes_state: bool = False, what: str = "") -> Any:
        """The decoded JSON answer; ExchangeRejected, OutcomeUnknown or ExchangeError otherwise."""
        problem, connect_failures = "", 0
        for attempt in range(self.policy.attempts):
            wire = build()
            url = URL(f"{self.base_url}{path}" + (f"?{wire.query}" if wire.query else ""), encoded=True)
            status: int | None = None
            headers: Mapping[str, str] = {}
            body = b""
            for p in pacers:
                await p.acquire(weight)
            try:
                async with self.session().request(method, url, data=wire.body, headers=wire.headers) as resp:
                    status, headers = resp.status, resp.headers
                    body = await resp.read()
            except aiohttp.ClientConnectorError as err:  # never reached the exchange: safe to try again
                connect_failures += 1
                problem = f"cannot connect to {self.base_url} ({err.os_error.strerror or err})"
                if connect_failures >= self.policy.connect_attempts:
                    raise ExchangeError(f"{self.label}: {problem}") from None
            except (aiohttp.ClientError, TimeoutError, ConnectionError) as err:
                problem = f"{type(err).__name__} {err}".strip()
                if changes_state:
                    raise OutcomeUnknown(f"{self.label}: {what or path}: no answer ({problem}); "
                                         "it may have been carried out") from None
            finally:
                for p in pacers:
                    p.release(status, headers, weight)
            wait = self.policy.backoff(attempt, self._rng)
            if status is not None and status < 300:
                return self._json(body, what or path)
            if status is not None:
                problem, wait = self._refusal(status, headers, body, changes_state, what or path, attempt, wait)
            log.info("%s %s %s failed (%s); retry %d in %.2f s", self.label, method, path, problem, attempt + 1, wait)
            await asyncio.sleep(wait)
        raise ExchangeError(f"{self.label}: {what or path}: gave up after {self.policy.attempts} attempts; "
                            f"last problem: {problem}")

    def _refusal(self, status: int, headers: Mapping[str, str], body: bytes, changes_state: bool, what: str,
                 attempt: int, wait: float) -> tuple[str, float]:
        """Raise for a final error answer; for one worth retrying, what went wrong and how long to wait."""
        if status in (418, 429):  # refused before it was looked at: trying later is safe
            after = _retry_after(headers)
            code, text = self._explain(status, _decode(body))
            if after > self.policy.max_wait_s or attempt + 1 == self.policy.attempts:
                raise ExchangeRejected(f"{self.label}: {what}: {text}", status, code)
            return text, max(wait, after)
        if status >= 500:
            if changes_state:
                raise OutcomeUnknown(f"{self.label}: {what}: HTTP {status}; it may have been carried out")
            return f"HTTP {status}", wait
        code, text = self._explain(status, _decode(body))
        raise ExchangeRejected(f"{self.label}: {what}: {text}", status, code)

    def _json(self, body: bytes, what: str) -> Any:
        try:
            return json.loads(body)
        except ValueError:
            raise OutcomeUnknown(f"{self.label}: {what}: malformed answer") from None
