"""The seam between the state machine and a target: the four operations of the API.

The machine, the oracle and the checks never know which adapter runs the operations: raw
HTTP (the default, `http.py`), the Python SDK (`sdk_python.py`) or an SDK driver
(`driver.py`). Each is an `Adapter`: a name, what it offers (`Capabilities`), a description
for the report, `close()`, and the four operations, each giving back an `Answer`; the
checks an adapter makes of its own part (an SDK's) are reported by `report_checks`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from conformance.checks import Answer, Checker
from strategies.payloads import Payload

__all__ = ["Adapter", "Capabilities"]


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What an adapter (its SDK, in the version at hand) offers beyond the four operations.

    Detected from the SDK itself (`sdk_capabilities`), never from a table of versions.
    `uploads`: the SDK has the Uploads API at all (without it nothing can be tested).
    `chunked_upload`: a whole-file helper (`upload_file_chunked`) the suite can check.
    `expires_after`: the create operation takes `expires_after` as one of its parameters.
    `sdk`: the operations go through an SDK, whose requests and results are checked.
    `label`: the SDK and its version ("openai-python 1.40.8"), naming what it lacks.
    """

    chunked_upload: bool = False
    expires_after: bool = True
    sdk: bool = False
    uploads: bool = True
    label: str = ""

    def lacks(self, feature: str) -> str:
        """The reason a requirement that needs `feature` is not testable with this SDK."""
        return f"{self.label or 'the adapter'} has no {feature}"


class Adapter(ABC):
    """Runs the four operations against a target; each answers with what the target sent."""

    name: str = "adapter"
    capabilities: Capabilities = Capabilities()

    def describe(self) -> dict[str, str]:
        """The adapter's name (and its SDK's name and version), for the report's `versions`."""
        return {"adapter": self.name}

    def close(self) -> None:  # noqa: B027 - most adapters hold nothing of their own
        """Stops what the adapter started (an event loop, a driver process)."""

    def report_checks(self, checker: Checker, answers: Iterable[Answer]) -> None:  # noqa: B027
        """Reports the checks the adapter made of its own part in these answers.

        An operation never raises a check's failure itself: the caller records its step,
        then calls this, so the failure's steps include the operation. Raw HTTP has none.
        """

    @abstractmethod
    def create(self, body: Any) -> Answer: ...

    @abstractmethod
    def add_part(self, upload_id: str, payload: Payload) -> Answer: ...

    @abstractmethod
    def complete(self, upload_id: str, body: Any) -> Answer: ...

    @abstractmethod
    def cancel(self, upload_id: str) -> Answer: ...
