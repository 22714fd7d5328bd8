"""When an attempt may be sent again, and how long to wait first.

Retried: an answer that asks for it (429, 503), waiting what its `retry-after-ms` or
`Retry-After` says (capped), else an exponential back-off with jitter; a connection that
never carried the request; a broken connection, for an idempotent request only. A body that
cannot be produced again is never retried.

Apart from those, `stale` says when an attempt failed only because its pooled connection
had been closed by the target while it sat idle: that one is sent again at once, whatever
its method, on a fresh connection (see `stale`).
"""

from __future__ import annotations

import datetime
import email.utils
import random
import time
from dataclasses import dataclass
from typing import Final

import httpx

from conformance.client.wire import Attempt, PreparedRequest

__all__ = ["RetryPolicy", "http_date", "stale"]

_RETRY_STATUSES: Final = frozenset({429, 503})
# The request never reached the target: always safe to send again.
_NOT_SENT: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


# What httpcore raises when the target had closed a kept-alive connection before the request
# came: it swallows the failed write to read an answer first, then reads the end of the
# stream where the answer's head should be ("Server disconnected without sending a
# response.") or a reset.
_STALE: Final = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)
_NO_RESPONSE: Final = "Server disconnected without sending a response"


def stale(request: PreparedRequest, attempt: Attempt) -> bool:
    """Whether to send `attempt` again at once because its connection was a stale one.

    httpcore drops an idle pooled connection whose socket has become readable (the
    target's FIN arrived), so a close reaches a request only when it raced it, or when the
    target shuts a kept connection as the next request arrives on it. Either way the
    request was sent on a connection an earlier exchange had opened (`reused`, from the
    network layer: httpcore's errors do not say) and not one byte of an answer came
    back: the target had closed that connection, and its application never saw the
    request, so sending it again is safe for any method. httpcore cannot be asked for a
    new connection, but each failure closes the stale one: sent again until an attempt
    goes out on a new connection (the pool holds only so many idle ones), whose failure
    is a real one.
    """
    failure = attempt.failure
    if attempt.response is None and isinstance(failure, _STALE) and \
            (not isinstance(failure, httpx.RemoteProtocolError)
             or str(failure).startswith(_NO_RESPONSE)):
        return attempt.deadline.reused and attempt.deadline.received == 0 and \
            request.retryable
    return False


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Back-off of `base * 2**attempt` seconds (capped, with jitter); Retry-After capped."""

    backoff_base: float = 0.25
    backoff_cap: float = 8.0
    retry_after_cap: float = 20.0  # a longer wait is the run's time lost (client/health.py)

    def delay(self, request: PreparedRequest, attempt: Attempt, retries: int) -> float | None:
        """Seconds to wait before sending again after `retries` retries; None: do not."""
        if retries >= request.max_retries:
            return None
        backoff = min(self.backoff_cap, self.backoff_base * 2 ** retries) \
            * (0.5 + random.random() / 2)
        if attempt.response is not None:
            if attempt.response.status_code not in _RETRY_STATUSES or not request.retryable:
                return None
            asked = _retry_after(attempt.response.headers)
            return backoff if asked is None else min(asked, self.retry_after_cap)
        failure = attempt.failure
        if isinstance(failure, _NOT_SENT) and request.retryable:
            return backoff
        # Sent, and the connection broke: only an idempotent request may go again. A timeout
        # is not retried: a hanging target is a finding, and waiting again only delays it.
        if isinstance(failure, httpx.NetworkError | httpx.RemoteProtocolError) \
                and not isinstance(failure, httpx.TimeoutException) \
                and request.idempotent and request.retryable:
            return backoff
        return None


def _retry_after(headers: httpx.Headers) -> float | None:
    """The wait an answer asks for (retry-after-ms, then Retry-After), in seconds."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    when = http_date(value)
    return None if when is None else max(0.0, when - time.time())


def http_date(value: str | None) -> float | None:
    """An HTTP date (RFC 9110) as unix seconds; None if absent or malformed."""
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": UTC, by the RFC
        when = when.replace(tzinfo=datetime.UTC)
    return when.timestamp()
