"""A driver's SDK as its users build it: the retry-safety scenario through a driver.

A driver that says `"users_client": true` in its ready message keeps a second client, built
with its SDK's defaults (its own HTTP stack and retries; only the timeout is the suite's,
the hello's `users_timeout_s`),
and runs an operation on it when the operation's args carry `"users_client": {...}`. With
`"lose_first_answer": true` its HTTP hook withholds the answer to the call's first request:
the request reaches the target, its answer is read and reported, and the SDK is told the
connection failed (as its HTTP stack says it: a `TypeError: fetch failed` in Node). The
reply says which reported exchange was withheld (`"withheld": 0`). docs/sdk-drivers.md has
the protocol.
"""

from __future__ import annotations

import base64
from typing import Any

from conformance.adapters.driver import DriverAdapter
from conformance.adapters.sdk_template import SdkOutcome
from conformance.adapters.sdk_users import SdkCall

__all__ = ["DriverUsers", "lost_answer_problem", "users_client_problem"]

_SDK_ATTEMPTS = 3  # the official SDKs' default: a request and two retries


def users_client_problem(adapter: DriverAdapter) -> str | None:
    """Why the retry-safety scenario cannot run through this driver; None if it can."""
    label = adapter.capabilities.label
    if not adapter.offers_users_client:
        return f"{label}: the driver offers no users' client (users_client in its ready message)"
    if not adapter.reports_http:
        return f"{label}: the driver reports no HTTP exchanges, so a withheld answer is not seen"
    return None


class DriverUsers:
    """The `UsersClient` of a driver (see the module)."""

    def __init__(self, adapter: DriverAdapter) -> None:
        self._adapter = adapter

    def create(self, body: dict[str, Any], lose_first: bool = False) -> SdkCall:
        return self._call("create", {"body": body}, lose_first)

    def add_part(self, upload_id: str, data: bytes, lose_first: bool = False) -> SdkCall:
        return self._call("add_part", {"upload_id": upload_id, "size": len(data),
                                       "filename": "part.bin",
                                       "data_base64": base64.b64encode(data).decode("ascii")},
                          lose_first)

    def complete(self, upload_id: str, body: dict[str, Any],
                 lose_first: bool = False) -> SdkCall:
        return self._call("complete", {"upload_id": upload_id, "body": body}, lose_first)

    def cancel(self, upload_id: str, lose_first: bool = False) -> SdkCall:
        return self._call("cancel", {"upload_id": upload_id}, lose_first)

    def close(self) -> None:
        """The users' client lives as long as the driver, which the run closes."""

    def _call(self, op: str, args: dict[str, Any], lose_first: bool) -> SdkCall:
        adapter = self._adapter
        reply = adapter.call_users_client(op, {**args, "users_client": {
            "lose_first_answer": lose_first}}, attempts=_SDK_ATTEMPTS)
        records = adapter.records_of(reply) or []
        error = None if reply["ok"] else reply.get("error") or {}
        withheld = reply.get("withheld")
        if not isinstance(withheld, int) or not 0 <= withheld < len(records):
            withheld = None
        text = adapter.error_text(SdkOutcome(records, None, error))
        return SdkCall(records, reply.get("result"), error, withheld, text)


def lost_answer_problem(reply: dict[str, Any]) -> str | None:
    """What is wrong with a driver's reply to an operation on its users' client whose first
    answer was to be withheld (driver-check); None when it is right."""
    http = reply.get("http")
    withheld = reply.get("withheld")
    if not isinstance(http, list) or not http:
        return "the reply reports no HTTP exchanges (a users' client needs \"http\": true)"
    if not isinstance(withheld, int) or not 0 <= withheld < len(http):
        return (f"the reply's withheld is {withheld!r}, not the index in http of the exchange "
                "whose answer was withheld (0: the first)")
    if not isinstance(http[withheld], dict) or http[withheld].get("status") != 200:
        return "the withheld exchange has no answer of 200: the request must reach the target"
    return None

