"""The API key never leaves the client: not in exchanges, curl lines, messages or reprs,
even when the target plants it in its answers."""

from __future__ import annotations

import json

import httpx
import pytest

from conformance.client import TargetClient, TargetUnreachable
from conformance.evidence import Redactor, redact_url
from tests.support.fake_targets import envelope

KEY = "sk-proj-SECRET-redaction-0123456789abcdef"


def leaky(request: httpx.Request) -> httpx.Response:
    """A target that echoes the credentials everywhere it can."""
    auth = request.headers.get("authorization", "")
    return httpx.Response(
        401,
        headers={"X-Echo": auth, "WWW-Authenticate": f'Bearer realm="{KEY}"'},
        json=envelope(f"Incorrect API key provided: {auth} ({KEY})", code=KEY),
    )


def everything_said(client: TargetClient, *answers: object) -> str:
    exchanges = [json.dumps(e.to_dict()) for e in client.recent()]
    return "\n".join([*exchanges, repr(client), *(repr(a) for a in answers)])


def test_the_key_is_redacted_from_requests_and_answers() -> None:
    client = TargetClient("http://target.test/v1", KEY, transport=httpx.MockTransport(leaky))
    answers = [
        client.request("POST", "/uploads", json={"filename": KEY, "purpose": "batch"}),
        client.request("GET", f"/uploads/{KEY}"),
        client.request("POST", "/uploads", content=f"raw {KEY}".encode()),
        client.request("GET", "/uploads", auth=KEY + "-but-wrong"),
        client.request("GET", "/uploads", headers={"Authorization": f"Bearer {KEY}"}),
        client.add_part("upload_1", [b"abc"], 3, filename=KEY, extra_fields={"note": KEY}),
    ]
    said = everything_said(client, *answers)
    assert KEY not in said
    assert "[REDACTED]" in said
    for answer in answers:
        assert KEY not in json.dumps(answer.json)  # even the parsed full body
        assert KEY not in answer.content.decode()
        assert KEY not in str(list(answer.headers.items()))
        assert KEY not in answer.exchange.curl
        assert answer.exchange.request_headers.get("Authorization", "").startswith("Bearer [RED")


def test_the_curl_line_names_the_variable_not_the_key() -> None:
    client = TargetClient("http://target.test/v1", KEY, transport=httpx.MockTransport(leaky))
    curl = client.request("GET", "/uploads").exchange.curl
    assert '"Authorization: Bearer $OPENAI_API_KEY"' in curl


def test_url_credentials_are_redacted() -> None:
    base = f"http://user:{KEY}@target.test/v1"
    client = TargetClient(base, KEY, transport=httpx.MockTransport(leaky))
    answer = client.request("GET", "/uploads")
    assert KEY not in everything_said(client, answer)
    assert client.display_url == "http://user:[REDACTED]@target.test/v1"
    assert redact_url("http://a:pw@h:1/x?q=1") == "http://a:[REDACTED]@h:1/x?q=1"
    assert redact_url("http://h/x") == "http://h/x"


def test_exception_messages_carry_no_key(closed_port: int) -> None:
    base = f"http://user:{KEY}@127.0.0.1:{closed_port}/v1?key={KEY}"
    client = TargetClient(base, KEY, max_retries=0, timeout=1)
    with pytest.raises(TargetUnreachable) as caught:
        client.check_reachable()
    assert KEY not in str(caught.value) and KEY not in repr(caught.value)
    with pytest.raises(ValueError) as bad:
        TargetClient(f"ftp://{KEY}", KEY)
    assert KEY not in str(bad.value)


def test_transport_errors_mentioning_the_key_are_scrubbed() -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError(f"reset while sending Bearer {KEY}")

    client = TargetClient("http://target.test/v1", KEY, transport=httpx.MockTransport(fail),
                          max_retries=0)
    answer = client.request("POST", "/uploads", json={})
    assert answer.status is None and "[REDACTED]" in (answer.error or "")
    assert KEY not in everything_said(client, answer)


def test_client_redact_helper_and_redactor() -> None:
    client = TargetClient("http://target.test/v1", KEY)
    assert client.redact(f"x {KEY} y") == "x [REDACTED] y"
    redactor = Redactor(KEY)
    assert redactor.data(KEY.encode() * 2) == b"[REDACTED][REDACTED]"
    assert KEY not in repr(redactor)
    # Too short to scrub safely from bodies (it would blank out ordinary words).
    assert Redactor("abc").text("abc") == "abc"
    assert Redactor(None).text("anything") == "anything"
