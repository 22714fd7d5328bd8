"""Every upload a run created on its target, and whether it ended: the run's cleanup.

On a real target a pending upload is the user's storage until it expires (an hour), so a
run must not leave any behind. The ledger reads every exchange the client records (its own
requests and an SDK's alike): a 2xx Upload answered to a create is an upload the run
created, one answered completed or cancelled has ended. At the end of the run, whatever is
still pending is cancelled (`cancel_left_over`), and the report says how many
uploads the run created, how many bytes they declared, and the IDs of any it could not end
(`uploads-conformance cleanup report.json` cancels those later).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from conformance import api
from conformance.results import Exchange

if TYPE_CHECKING:
    from conformance.client.target_client import TargetClient

__all__ = ["CleanupSummary", "UploadLedger", "cancel_left_over"]

# The end-of-run cleanup: every left-over upload's cancel, in a run that may have been
# stopped because the target stopped answering.
CLEANUP_BUDGET_S = 20.0
CLEANUP_REQUEST_S = 5.0

_ENDED = frozenset({"completed", "cancelled", "expired"})
MAX_IDS_KEPT = 200  # a report lists at most this many left-over IDs


@dataclass(slots=True)
class CleanupSummary:
    """What a run created on its target and what it left there (report.json `cleanup`)."""

    uploads_created: int = 0
    bytes_declared: int = 0  # the created uploads' `bytes`
    parts_added: int = 0
    ended_by_the_run: int = 0  # completed or cancelled by the suite's own operations
    ended_at_end: int = 0  # left pending by a test, cancelled (or found ended) at the end
    left_pending: list[str] = field(default_factory=list)  # could not be ended: their IDs

    def merge(self, other: CleanupSummary) -> None:
        self.uploads_created += other.uploads_created
        self.bytes_declared += other.bytes_declared
        self.parts_added += other.parts_added
        self.ended_by_the_run += other.ended_by_the_run
        self.ended_at_end += other.ended_at_end
        self.left_pending = (self.left_pending + other.left_pending)[:MAX_IDS_KEPT]

    def to_dict(self) -> dict[str, Any]:
        return {"uploads_created": self.uploads_created, "bytes_declared": self.bytes_declared,
                "parts_added": self.parts_added, "ended_by_the_run": self.ended_by_the_run,
                "ended_at_end": self.ended_at_end,
                "left_pending": list(self.left_pending)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CleanupSummary:
        return cls(**data)


class UploadLedger:
    """The uploads seen created and ended, from the exchanges; safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, None] = {}  # created, not ended, in creation order
        self._summary = CleanupSummary()

    def observe(self, exchange: Exchange) -> None:
        """Takes note of one exchange (any: only a 2xx Upload or part matters)."""
        if exchange.method != "POST" or exchange.status is None or \
                not 200 <= exchange.status < 300:
            return
        path = urlsplit(exchange.url).path.rstrip("/")
        if path.endswith("/parts"):
            with self._lock:
                self._summary.parts_added += 1
            return
        body = _json(exchange.response_body)
        if body.get("object") != "upload" or not isinstance(body.get("id"), str):
            return
        upload, status = body["id"], body.get("status")
        with self._lock:
            if path.endswith("/uploads") and upload not in self._pending:
                self._summary.uploads_created += 1
                declared = body.get("bytes")
                # What a target echoes may be absurd (a 5001-digit size): only a size an
                # upload can have counts.
                if isinstance(declared, int) and not isinstance(declared, bool) and \
                        0 <= declared <= api.UPLOAD_LIMIT:
                    self._summary.bytes_declared += declared
                if status not in _ENDED:
                    self._pending[upload] = None
            elif status in _ENDED and upload in self._pending:
                del self._pending[upload]
                self._summary.ended_by_the_run += 1

    def pending(self) -> list[str]:
        """The uploads created and not seen ended, oldest first."""
        with self._lock:
            return list(self._pending)

    def ended_at_end(self, upload: str) -> None:
        """The end-of-run cleanup cancelled it (or found it already ended)."""
        with self._lock:
            if upload in self._pending:
                del self._pending[upload]
                self._summary.ended_at_end += 1

    def summary(self) -> CleanupSummary:
        """The counts so far, with what is still pending as left over."""
        with self._lock:
            done = CleanupSummary(**self._summary.to_dict())
            done.left_pending = list(self._pending)[:MAX_IDS_KEPT]
            return done


def cancel_left_over(client: TargetClient, budget_s: float = CLEANUP_BUDGET_S) -> None:
    """Cancels every upload the client's ledger still has pending, within `budget_s` in all
    and `CLEANUP_REQUEST_S` each: also in a stopped run (a pending upload is the user's
    storage on a real target). What is left past the budget is reported by its ID."""
    ledger = client.ledger
    if ledger is None:
        return
    ends = time.monotonic() + budget_s
    for upload in ledger.pending():
        if time.monotonic() >= ends:
            break
        status = client.send_once(api.CANCEL.method, api.CANCEL.path(upload),
                                  CLEANUP_REQUEST_S)
        # A refusal says it has ended already (completed, cancelled, expired, gone).
        if status is not None and status < 500:
            ledger.ended_at_end(upload)


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
