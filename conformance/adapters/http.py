"""The default adapter: each operation is one plain HTTP request, as documented."""

from __future__ import annotations

from typing import Any

from conformance import api
from conformance.adapters.base import Adapter
from conformance.checks import Answer
from conformance.client import TargetClient
from strategies.payloads import Payload


class HttpAdapter(Adapter):
    """The operations as plain requests through the suite's own client (not closed here)."""

    name = "http"

    def __init__(self, client: TargetClient) -> None:
        self.client = client

    def create(self, body: Any) -> Answer:
        return self.client.request(api.CREATE.method, api.CREATE.path(), json=body)

    def add_part(self, upload_id: str, payload: Payload) -> Answer:
        return self.client.add_part(upload_id, payload.iter_chunks, len(payload))

    def complete(self, upload_id: str, body: Any) -> Answer:
        return self.client.request(api.COMPLETE.method, api.COMPLETE.path(upload_id), json=body)

    def cancel(self, upload_id: str) -> Answer:
        return self.client.request(api.CANCEL.method, api.CANCEL.path(upload_id))
