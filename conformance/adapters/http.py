"""The default adapter: each operation is one plain HTTP request, as documented."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from conformance.adapters.base import Adapter
from conformance.checks import Answer
from conformance.client import TargetClient
from strategies.payloads import Payload


def upload_path(upload_id: str, action: str = "") -> str:
    # IDs are untrusted (the target's, or the suite's odd ones): keep them one path segment.
    path = f"/uploads/{quote(upload_id, safe='')}"
    return f"{path}/{action}" if action else path


class HttpAdapter(Adapter):
    """The operations as plain requests through the suite's own client (not closed here)."""

    name = "http"

    def __init__(self, client: TargetClient) -> None:
        self.client = client

    def create(self, body: Any) -> Answer:
        return self.client.request("POST", "/uploads", json=body)

    def add_part(self, upload_id: str, payload: Payload) -> Answer:
        return self.client.add_part(upload_id, payload.iter_chunks, len(payload))

    def complete(self, upload_id: str, body: Any) -> Answer:
        return self.client.request("POST", upload_path(upload_id, "complete"), json=body)

    def cancel(self, upload_id: str) -> Answer:
        return self.client.request("POST", upload_path(upload_id, "cancel"))
