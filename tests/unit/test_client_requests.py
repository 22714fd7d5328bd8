"""The client's requests and answers: bodies, headers, auth, parsing, recording, curl."""

from __future__ import annotations

import json
import shlex
import subprocess
from collections.abc import Callable

import httpx
import pytest

from conformance.client import MISSING, Answer, TargetClient, json_body
from conformance.evidence import CURL_INLINE_LIMIT
from conformance.results import Exchange

KEY = "sk-test-requests-0123456789"
Handler = Callable[[httpx.Request], httpx.Response]


def client_for(handler: Handler, **kw: object) -> TargetClient:
    return TargetClient("http://target.test/v1", KEY, transport=httpx.MockTransport(handler),
                        **kw)  # type: ignore[arg-type]


def echo(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={
        "method": request.method,
        "path": request.url.path,
        "body": request.read().decode("latin-1"),
        "content_type": request.headers.get("content-type"),
        "has_auth": "authorization" in request.headers,
        "auth_ok": request.headers.get("authorization") == f"Bearer {KEY}",
    })


@pytest.mark.parametrize(("value", "sent"), [
    ({"part_ids": ["a", "b"]}, '{"part_ids": ["a", "b"]}'),
    ([1, 2], "[1, 2]"),
    (None, "null"),
    ("text", '"text"'),
])
def test_json_bodies_are_serialised_and_null_is_not_no_body(value: object, sent: str) -> None:
    with client_for(echo) as client:
        answer = client.request("POST", "/uploads", json=value)
    assert answer.status == 200 and answer.ok
    assert answer.json["body"] == sent
    assert answer.json["content_type"] == "application/json"
    assert answer.exchange.request_body == sent


def test_no_json_argument_sends_no_body() -> None:
    with client_for(echo) as client:
        answer = client.request("POST", "/uploads/upload_1/cancel")
    assert answer.json["body"] == "" and answer.json["content_type"] is None
    assert answer.exchange.request_body == ""
    assert MISSING is not None


def test_path_is_relative_to_the_base_url() -> None:
    with client_for(echo) as client:
        assert client.request("GET", "uploads").json["path"] == "/v1/uploads"
        assert client.request("GET", "/uploads").exchange.url == "http://target.test/v1/uploads"


def test_caller_headers_replace_ours_whatever_their_case() -> None:
    with client_for(echo) as client:
        answer = client.request("POST", "/uploads", content=b'{"a": 1}',
                                headers={"content-type": "text/plain"})
        assert answer.json["content_type"] == "text/plain"
        answer = client.request("POST", "/uploads", json={}, headers={"CONTENT-TYPE": "x/y"})
        assert answer.json["content_type"] == "x/y"
        assert list(answer.exchange.request_headers).count("CONTENT-TYPE") == 1


def test_auth_modes() -> None:
    with client_for(echo) as client:
        assert client.request("GET", "/uploads").json["auth_ok"] is True
        assert client.request("GET", "/uploads", auth=False).json["has_auth"] is False
        wrong = client.request("GET", "/uploads", auth="sk-wrong")
        assert wrong.json["has_auth"] is True and wrong.json["auth_ok"] is False
        assert wrong.exchange.request_headers["Authorization"] == "Bearer sk-wrong"
    with TargetClient("http://t/v1", None, transport=httpx.MockTransport(echo)) as client:
        assert client.request("GET", "/uploads").json["has_auth"] is False


def test_full_body_is_parsed_though_the_record_is_a_preview() -> None:
    big = {"items": ["x" * 100] * 200}
    with client_for(lambda r: httpx.Response(200, json=big)) as client:
        answer = client.request("GET", "/uploads")
    assert answer.json == big
    assert json_body(answer) == big
    assert "[truncated:" in answer.exchange.response_body
    assert len(answer.exchange.response_body) < 2100
    assert json_body(answer.exchange) is None  # a truncated preview does not parse


def test_json_body_of_a_bare_exchange_parses_its_preview() -> None:
    with client_for(lambda r: httpx.Response(404, json={"error": {"message": "no"}})) as client:
        answer = client.request("GET", "/uploads/nope")
    assert answer.is_client_error and not answer.ok
    assert json_body(answer.exchange) == {"error": {"message": "no"}}


@pytest.mark.parametrize(("body", "reason"), [
    (b"<html>oops</html>", "not JSON"),
    (b"", "empty answer body"),
    (b"\xff\xfe\x00garbage", "not JSON"),
])
def test_a_non_json_answer_keeps_its_status_and_records_the_error(body: bytes,
                                                                  reason: str) -> None:
    with client_for(lambda r: httpx.Response(200, content=body)) as client:
        answer = client.request("POST", "/uploads", json={})
    assert answer.status == 200
    assert answer.json is None
    assert answer.json_error is not None and reason in answer.json_error
    assert answer.error == answer.json_error
    assert answer.content == body


def test_expect_json_false_accepts_any_body() -> None:
    with client_for(lambda r: httpx.Response(200, content=b"raw")) as client:
        answer = client.request("GET", "/files/f/content", expect_json=False)
    assert answer.json_error is None and answer.error is None and answer.content == b"raw"


def test_binary_previews_are_summarised() -> None:
    with client_for(lambda r: httpx.Response(200, content=b"\x00\xff" * 10)) as client:
        answer = client.request("GET", "/x", expect_json=False)
    assert answer.exchange.response_body.startswith("<binary: 20 bytes")


def test_an_oversized_answer_is_a_recorded_failure() -> None:
    with client_for(lambda r: httpx.Response(200, content=b"[" * 5000),
                    max_answer_bytes=1000) as client:
        answer = client.request("GET", "/uploads")
    assert answer.status is None and "larger than 1000 bytes" in (answer.error or "")


def test_recent_keeps_a_bounded_log() -> None:
    with client_for(echo, history=3) as client:
        for i in range(5):
            client.request("GET", f"/uploads/{i}")
        recent = client.recent()
        assert [e.url.rsplit("/", 1)[1] for e in recent] == ["2", "3", "4"]
        assert [e.url.rsplit("/", 1)[1] for e in client.recent(2)] == ["3", "4"]
        assert client.recent(0) == []
        assert all(isinstance(e, Exchange) for e in recent)


def test_exchange_round_trips_through_a_dict() -> None:
    with client_for(echo) as client:
        exchange = client.request("POST", "/uploads", json={"a": 1}).exchange
    assert Exchange.from_dict(json.loads(json.dumps(exchange.to_dict()))) == exchange


def test_answer_repr_is_short() -> None:
    with client_for(lambda r: httpx.Response(200, content=b"x" * 100_000)) as client:
        answer = client.request("GET", "/x", expect_json=False)
    assert isinstance(answer, Answer) and len(repr(answer)) < 200


def _curl_words(curl: str) -> list[str]:
    lines = [line for line in curl.splitlines() if not line.startswith("#")]
    assert len(lines) == 1
    return shlex.split(lines[0], posix=True)


def test_curl_reproduces_a_json_request() -> None:
    body = {"filename": "it's a \"file\".txt", "purpose": "batch", "bytes": 3}
    with client_for(echo) as client:
        curl = client.request("POST", "/uploads", json=body).exchange.curl
    assert '"Authorization: Bearer $OPENAI_API_KEY"' in curl  # double quotes: the shell expands
    words = _curl_words(curl)
    assert words[:5] == ["curl", "-sS", "-X", "POST", "http://target.test/v1/uploads"]
    assert json.loads(words[words.index("--data-binary") + 1]) == body
    assert "Content-Type: application/json" in words


def test_curl_without_auth_or_content_type() -> None:
    with client_for(echo) as client:
        curl = client.request("POST", "/uploads", content=b"{}", auth=False).exchange.curl
    words = _curl_words(curl)
    assert not any("Authorization" in w for w in words)
    assert "Content-Type:" in words  # curl would otherwise send a form content type


@pytest.mark.parametrize("shell", ["bash", "sh"])
def test_curl_pipes_a_small_binary_body_through_printf_byte_for_byte(shell: str) -> None:
    body = b"\x00\xff%s %% \\x41 \\ 'quoted' \"x\"\n\x1b[31m" + bytes(range(256))
    with client_for(echo) as client:
        curl = client.request("POST", "/x", content=body).exchange.curl
    printf, command = curl.split(" | ")
    assert command.startswith("curl -sS -X POST") and command.endswith("--data-binary @-")
    printed = subprocess.run([shell, "-c", printf], capture_output=True, timeout=10, check=True)
    assert printed.stdout == body


def test_curl_puts_a_large_binary_body_in_a_file() -> None:
    size = CURL_INLINE_LIMIT + 1
    with client_for(echo) as client:
        curl = client.request("POST", "/x", content=b"\xff" * size).exchange.curl
    assert curl.startswith(f"# body.bin holds {size} bytes")
    assert "@body.bin" in _curl_words(curl)


def test_callable_and_iterable_content_are_streamed() -> None:
    with client_for(echo) as client:
        answer = client.request("POST", "/x", content=lambda: iter([b"ab", b"cd"]))
        assert answer.json["body"] == "abcd"
        answer = client.request("POST", "/x", content=iter([b"ef"]))
        assert answer.json["body"] == "ef"
        assert answer.exchange.request_body == "<streamed body>"


def test_json_and_content_are_exclusive() -> None:
    with client_for(echo) as client, pytest.raises(TypeError):
        client.request("POST", "/x", json={}, content=b"{}")


def test_a_bad_base_url_is_refused_at_once() -> None:
    with pytest.raises(ValueError, match="base URL"):
        TargetClient("localhost:8000", KEY)
