"""A faulty server caught from a plain client's traffic alone, under the server's requirement.

The emulator runs with a mutant as the proxy's upstream; a plain client's ordinary traffic
(one mistake of its own where the fault needs one to show) goes through. The proxy sends
nothing of its own, so the finding comes from that traffic alone: the mutant breaks the
server's requirement, and the same traffic to the clean emulator breaks none.
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

import httpx
import pytest

from conformance.emulator import EmulatorConfig, EmulatorServer
from tests.support.proxy_session import ProxySession, assert_key_kept, failed


def _md5_mistake(http: httpx.Client) -> None:
    """An upload completed with a wrong md5 (a client's mistake the server must refuse)."""
    upload = http.post("uploads", json={"bytes": 5, "filename": "a.txt",
                                        "purpose": "assistants", "mime_type": "text/plain"})
    part = http.post(f"uploads/{upload.json()['id']}/parts", files={"data": ("a", b"hello")})
    http.post(f"uploads/{upload.json()['id']}/complete",
              json={"part_ids": [part.json()["id"]], "md5": "f" * 32})


def _part_after_completion(http: httpx.Client) -> None:
    """An upload completed, then one more part sent to it."""
    upload = http.post("uploads", json={"bytes": 5, "filename": "b.txt",
                                        "purpose": "assistants", "mime_type": "text/plain"})
    upload_id = upload.json()["id"]
    part = http.post(f"uploads/{upload_id}/parts", files={"data": ("b", b"world")})
    http.post(f"uploads/{upload_id}/complete", json={
        "part_ids": [part.json()["id"]], "md5": hashlib.md5(b"world").hexdigest()})
    http.post(f"uploads/{upload_id}/parts", files={"data": ("c", b"late")})


@pytest.mark.parametrize(("mutant", "traffic", "server_requirement"), [
    ("md5-unchecked", _md5_mistake, "COMPLETE-MD5"),
    ("part-after-complete", _part_after_completion, "PART-AFTER-END"),
])
@pytest.mark.parametrize("faulty", [True, False], ids=["mutant", "clean"])
def test_a_mutant_upstream_is_caught_from_the_clients_traffic(
        tmp_path: Path, mutant: str, traffic: object, server_requirement: str,
        faulty: bool) -> None:
    key = "sk-mutant-" + secrets.token_hex(12)
    config = EmulatorConfig(api_key=None, mutant=mutant if faulty else None)
    with EmulatorServer(config) as upstream, \
            ProxySession(tmp_path, "--upstream", upstream.base_url) as proxy:
        with httpx.Client(base_url=proxy.base_url + "/", trust_env=False, timeout=30,
                          headers={"Authorization": f"Bearer {key}"}) as http:
            assert callable(traffic)
            traffic(http)
        report = proxy.report()
        proxy.stop()
    server_failures = {r for r in failed(report) if not r.startswith("CLIENT-")}
    if faulty:
        assert server_requirement in server_failures, report["verdict"]
    else:
        assert not server_failures, report["verdict"]
    # The client's own mistake is its own, whatever the server made of it.
    assert ("CLIENT-MD5-MATCHES" in failed(report)) is (traffic is _md5_mistake)
    assert_key_kept(proxy, key)
