"""The target under test, as the suite's tests see it: one object per test session.

It bundles the HTTP client, the adapter that runs operations, the recorder and checker,
the profile, and what was learnt about the target (test controls, file endpoints, its
clock), so the machine and the other suite tests share one view of the target.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from conformance import api
from conformance.adapters.base import Adapter
from conformance.checks import Checker
from conformance.client import TargetClient
from conformance.client.connection import DIRECT, Connection
from conformance.profiles import Profile
from conformance.recorder import Recorder

EVIDENCE_EXCHANGES = 8  # the exchanges a finding carries: its example's last ones


@dataclass
class Target:
    base_url: str
    client: TargetClient
    adapter: Adapter
    recorder: Recorder
    profile: Profile
    # True when this process alone uses the target's clock, so advancing it is safe.
    clock_is_ours: bool = True
    started: float = field(default_factory=time.monotonic)
    fail_fast: bool = False  # stop at the first MUST failure (mutant runs)
    seed: int = 0
    api_key: str | None = None  # for the schema checks, which send their own requests
    second_api_key: str | None = None  # another tenant's, for TENANT-ISOLATION
    connection: Connection = DIRECT  # their extra headers, query, CA and proxy too
    openapi: Path | None = None  # another OpenAPI document for the schema checks
    bytes_sent: int = 0  # payload bytes, counted against the profile's byte budget
    seen_ids: set[str] = field(default_factory=set)  # every upload and part ID issued
    _controls: bool | None = None
    _files_served: bool | None = None
    _clock_offset: float = 0.0
    evidence_mark: int = 0  # the client's mark when the running example or scenario began

    def __post_init__(self) -> None:
        # A finding's evidence: the last exchanges of its own example or scenario.
        self.checker = Checker(self.recorder,
                               lambda: self.client.recent(EVIDENCE_EXCHANGES,
                                                          since=self.evidence_mark))

    # --- the target's clock -------------------------------------------------------------

    @property
    def has_test_controls(self) -> bool:
        if self._controls is None:
            self._controls = self.client.controls_available()
            if self._controls:
                target_now = self.client.target_now()
                if target_now is not None:
                    self._clock_offset = target_now - time.time()
        return self._controls

    def can_advance_clock(self) -> bool:
        return self.profile.use_test_controls and self.clock_is_ours and self.has_test_controls

    def now(self) -> float:
        """The target's current time as far as we know (ours, shifted by what we advanced)."""
        self.has_test_controls  # noqa: B018 - learns the offset on first use
        return time.time() + self._clock_offset

    def advance_clock(self, seconds: float) -> None:
        new_now = self.client.advance_clock(seconds)
        self._clock_offset = new_now - time.time()

    # --- file endpoints -----------------------------------------------------------------

    def files_served(self, file_id: str) -> bool:
        """Whether GET /files/{id} serves completed files (asked once, then remembered)."""
        if self._files_served is None:
            answer = self.client.request("GET", api.file_path(file_id))
            self._files_served = answer.status == 200
            seen = "served" if self._files_served else f"not served ({answer.status})"
            self.recorder.observe("OPEN-FILE-ENDPOINTS", f"GET /files/{{id}} {seen}")
            if not self._files_served:
                self.recorder.cannot_test("CONTENT-BYTES", "the target does not serve a "
                                          f"completed file (GET /files/{{id}}: {answer.status})")
        return self._files_served

    def spend(self, payload_bytes: int) -> bool:
        """Whether the profile's byte budget allows sending this many more payload bytes."""
        budget = self.profile.byte_budget
        if budget is not None and self.bytes_sent + payload_bytes > budget:
            return False
        self.bytes_sent += payload_bytes
        return True

    def elapsed(self) -> float:
        return time.monotonic() - self.started
