"""The seam between the state machine and a target: the four operations of the API.

The machine, the oracle and the checks never know which adapter runs the operations: raw
HTTP (the default), or an SDK in front of the target.
"""

from __future__ import annotations

from typing import Any, Protocol

from conformance.checks import Answer
from strategies.payloads import Payload


class Adapter(Protocol):
    name: str

    def create(self, body: Any) -> Answer: ...

    def add_part(self, upload_id: str, payload: Payload) -> Answer: ...

    def complete(self, upload_id: str, body: Any) -> Answer: ...

    def cancel(self, upload_id: str) -> Answer: ...
