"""A finding carries the exchanges of its own example or scenario, not whatever the client
sent last before it."""

from __future__ import annotations

import pytest

from conformance.adapters.http import HttpAdapter
from conformance.emulator import EmulatorConfig, EmulatorServer
from conformance.exerciser import Exerciser
from conformance.recorder import ConformanceFailure
from tests.support.adapter_helpers import API_KEY, target_with

CREATE = {"filename": "a.txt", "purpose": "assistants", "bytes": 4, "mime_type": "text/plain"}


def test_the_evidence_starts_with_the_findings_own_example() -> None:
    config = EmulatorConfig(api_key=API_KEY, mutant="md5-unchecked")
    with EmulatorServer(config) as server, \
            target_with(server.base_url, lambda url, client, rec: HttpAdapter(client)) as target:
        earlier = Exerciser(target)
        before = [earlier.create(dict(CREATE, filename=f"earlier-{n}.txt")) for n in range(9)]
        run = Exerciser(target)
        upload = run.create(CREATE)
        assert upload is not None
        part = run.add_part(upload, run.payload(4))
        assert part is not None
        with pytest.raises(ConformanceFailure) as failure:
            run.complete(upload, [part], "0" * 32)
        earlier.cancel_what_is_pending()
    urls = [exchange.url for exchange in failure.value.exchanges]
    assert failure.value.requirement == "COMPLETE-MD5"
    assert len(urls) == 3 and urls[0].endswith("/uploads") and upload in urls[-1]
    assert not any(b in url for b in before if b for url in urls)
    bodies = " ".join(exchange.request_body for exchange in failure.value.exchanges)
    assert "earlier-" not in bodies
