"""The thorough profile's 8 GiB scenario (`conformance.limit_upload`), run small: 64 MiB
parts travelling several at once, the completion's md5, the file read back; and a target
that refuses a part stops the sending at that part."""

from __future__ import annotations

import pytest

from conformance.adapters.http import HttpAdapter
from conformance.api import PART_LIMIT
from conformance.emulator import EmulatorConfig, EmulatorServer
from conformance.limit_upload import upload_of
from tests.support.adapter_helpers import API_KEY, target_with

MIB = 1 << 20


@pytest.mark.slow
def test_parts_sent_at_once_complete_with_their_md5_and_read_back_whole() -> None:
    with EmulatorServer(EmulatorConfig(api_key=API_KEY)) as server, \
            target_with(server.base_url, lambda _, client, __: HttpAdapter(client)) as target:
        upload_of(target, 2 * PART_LIMIT + MIB, at_once=2)
        assert target.recorder.failures == []
        steps = target.client.recent()
        parts = [e for e in steps if e.method == "POST" and e.url.endswith("/parts")]
        assert [e.status for e in parts] == [200, 200, 200]
        assert any(e.url.endswith("/content") and e.status == 200 for e in steps)
        for requirement in ("COMPLETE-ORDER", "CONTENT-BYTES", "PART-PARALLEL"):
            assert target.recorder.passes.get(requirement), requirement


@pytest.mark.slow
def test_a_refused_part_stops_the_parts_still_to_send() -> None:
    config = EmulatorConfig(api_key=API_KEY, mutant="part-limit-off-by-one")
    with EmulatorServer(config) as server, \
            target_with(server.base_url, lambda _, client, __: HttpAdapter(client)) as target:
        upload_of(target, 6 * PART_LIMIT, at_once=2)
        assert {f.requirement for f in target.recorder.failures} == {"PART-SIZE-LIMIT"}
        sent = [e for e in target.client.recent()
                if e.method == "POST" and e.url.endswith("/parts")]
        assert 1 <= len(sent) <= 3  # the first refusal, and what was already travelling
        assert not any(e.url.endswith("/complete") for e in target.client.recent())
        pending = server.app.state.service.uploads.values()
        assert [u.status for u in pending] == ["cancelled"]  # nothing left pending
