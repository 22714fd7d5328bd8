"""A target that dies of a request: the run stops at once, saying after which request (with
its curl), fails NO-SERVER-ERROR for that request only, and judges nothing on the dead
server. A target that hangs instead is stopped too, once its silence has lasted."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from conformance import halt
from conformance.client import TargetClient, liveness
from tests.support.cli import (
    assert_four_reports,
    assert_secret_kept,
    new_api_key,
    run_suite,
    target_args,
)
from tests.support.connection_targets import dying_target
from tests.support.serving import RawServer, never_answering, read_request

KEY = "sk-test-death-0123456789"
NOT_FOUND = (b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
             b"Content-Length: 2\r\n\r\n{}")


def _answer_404(conn: socket.socket) -> None:
    while read_request(conn)[0]:
        conn.sendall(NOT_FOUND)


def test_a_request_after_which_the_target_is_gone_halts_the_run() -> None:
    server = RawServer(_answer_404)
    with TargetClient(server.url, KEY, timeout=2, max_retries=1, backoff_base=0.01) as client:
        assert client.request("GET", "/uploads/a").status == 404
        server.close()  # the target's process is gone: its port refuses
        answer = client.request("POST", "/uploads/b/cancel")
        assert answer.status is None
        with pytest.raises(halt.RunHalted):  # nothing more is sent to a dead server
            client.request("GET", "/uploads/c")
    stopped = halt.reason() or ""
    assert stopped.startswith(f"{liveness.STOPPED_ANSWERING}: POST /v1/uploads/b/cancel "
                              "(curl: curl -sS -X POST")
    assert KEY not in stopped


def test_a_target_that_never_answered_is_unreachable_not_dead(closed_port: int) -> None:
    with TargetClient(f"http://127.0.0.1:{closed_port}/v1", KEY, max_retries=0) as client:
        assert client.request("GET", "/uploads").status is None
    assert halt.reason() is None  # the pre-flight check says "unreachable" for such a one


def test_a_hanging_target_stops_the_run_once_its_silence_lasts(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(liveness, "SILENCE_BEFORE_GIVING_UP_S", 0.0)
    with never_answering() as url, TargetClient(url, KEY, timeout=0.2, max_retries=0) as client:
        for n in range(liveness.MAX_UNANSWERED_IN_A_ROW):
            assert halt.reason() is None, f"stopped after {n} requests only"
            client.request("POST", f"/uploads/u{n}/cancel")
    stopped = halt.reason() or ""
    assert stopped.startswith(f"{liveness.STOPPED_ANSWERING}: POST /v1/uploads/u0/cancel")
    assert "3 requests in a row got no usable answer" in stopped


def test_a_run_against_a_target_that_dies_of_a_completion(tmp_path: Path) -> None:
    api_key = new_api_key()
    with dying_target(api_key) as (base_url, process):
        run = run_suite(tmp_path, *target_args(base_url, api_key), "--max-examples", "3",
                        timeout=240)
        died = process.wait(10)
    assert died == 3, "the target did not die of a completion: the case tests nothing"
    assert run.returncode == 2, run.explain()
    assert_four_reports(run)
    assert_secret_kept(run, api_key)
    errors = " ".join(run.report["errors"])
    assert f"{liveness.STOPPED_ANSWERING}: POST /v1/uploads/" in errors, run.explain()
    assert "/complete (curl: curl " in errors and "it no longer accepts connections" in errors
    # The request it died of fails NO-SERVER-ERROR, once; nothing else is judged on a dead
    # server: what did not run is untested, and the run incomplete.
    assert run.failed() == {"NO-SERVER-ERROR"}, run.explain()
    findings = run.requirement("NO-SERVER-ERROR")["failures"]
    assert len(findings) == 1 and liveness.STOPPED_ANSWERING in findings[0]["message"]
    assert "/complete" in findings[0]["message"]
    untested = [r for r in run.report["requirements"] if r["status"] == "not_testable"]
    assert any(r.get("untested_cause") == "incomplete" for r in untested), run.explain()


def test_the_schema_checks_stop_when_the_target_dies_of_a_request() -> None:
    # The schema checks send through their own client (requests): the same probe, the same
    # halt, naming the completion the target died of.
    from conformance.schema import run_schema_checks

    with dying_target(KEY) as (base_url, process):
        with pytest.raises(halt.RunHalted):
            run_schema_checks(base_url + "/v1", KEY, max_examples=2, seed=1, stateful=False)
        assert process.wait(10) == 3  # it died of the completion
    reason = halt.reason() or ""
    assert reason.startswith(liveness.STOPPED_ANSWERING), reason
    assert "/complete (curl: curl" in reason and KEY not in reason, reason
