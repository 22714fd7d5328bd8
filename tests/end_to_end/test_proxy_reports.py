"""When the proxy writes its reports (on request, after --exit-after N, on SIGTERM), what is
in them, and one clear line for a bad argument."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import httpx

from tests.support.cli import run_cli
from tests.support.proxy_session import ProxySession, assert_key_kept, failed


def _upload(base_url: str, key: str, md5: str) -> None:
    """create, one part, complete: three requests."""
    with httpx.Client(base_url=base_url + "/", trust_env=False, timeout=30,
                      headers={"Authorization": f"Bearer {key}"}) as http:
        upload = http.post("uploads", json={"bytes": 3, "filename": "r.txt",
                                            "purpose": "assistants",
                                            "mime_type": "text/plain"}).json()
        part = http.post(f"uploads/{upload['id']}/parts", files={"data": ("r", b"abc")})
        http.post(f"uploads/{upload['id']}/complete",
                  json={"part_ids": [part.json()["id"]], "md5": md5})


def test_the_reports_are_written_after_exit_after_requests(tmp_path: Path) -> None:
    key = "sk-exit-after-" + secrets.token_hex(12)
    with ProxySession(tmp_path, "--exit-after", "3") as proxy:
        _upload(proxy.base_url, key, "0" * 32)  # a wrong md5: a finding to carry evidence
        assert proxy.wait() == 1  # it stops by itself, its verdict the exit status
    report = proxy.report_json()
    assert failed(report) == {"CLIENT-MD5-MATCHES"}
    assert report["profile"] == "proxy" and report["exit_status"] == 1
    assert proxy.stdout.count("] POST /v1/uploads") == 3
    assert "NOT CONFORMANT (exit 1)" in proxy.stdout
    har = json.loads((proxy.report_dir / "exchanges.har").read_text())
    assert [e["request"]["method"] for e in har["log"]["entries"]] == ["POST"] * 3
    assert "Traceback" not in proxy.stderr
    assert_key_kept(proxy, key)


def test_the_report_is_answered_by_the_proxy_and_written_again_on_sigterm(
        tmp_path: Path) -> None:
    key = "sk-sigterm-" + secrets.token_hex(12)
    with ProxySession(tmp_path) as proxy:
        empty = proxy.report()  # nothing went through yet: nothing could be judged
        assert empty["exit_status"] == 2 and "NOTHING TESTED" in empty["verdict"]
        _upload(proxy.base_url, key, "900150983cd24fb0d6963f7d28e17f72")  # md5("abc")
        first = proxy.report()
        assert first["exit_status"] == 0 and not failed(first)
        # The report request itself is not forwarded, judged, nor counted.
        assert "] POST /v1/_proxy/report" not in proxy.stdout
        assert proxy.stop() == 0
    last = proxy.report_json()
    assert last["exit_status"] == 0
    assert [r["status"] for r in last["requirements"]] == \
        [r["status"] for r in first["requirements"]]
    assert "writing the reports" in proxy.stdout
    assert_key_kept(proxy, key)


def test_a_bad_argument_is_one_line(tmp_path: Path) -> None:
    for args in (["--upstream", "ftp://user:pw@example.com/v1"], ["--exit-after", "0"],
                 ["--port", "70000"]):
        run = run_cli("proxy", *args, cwd=tmp_path)
        assert run.returncode == 2, run.explain()
        assert run.stderr.startswith("uploads-conformance proxy: error: "), run.stderr
        assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr
        assert "pw" not in run.stderr


def test_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    with ProxySession(tmp_path) as proxy:
        port = proxy.base_url.rsplit(":", 1)[1].split("/")[0]
        run = run_cli("proxy", "--port", port, cwd=tmp_path)
        proxy.stop()
    assert run.returncode == 2 and "cannot listen on 127.0.0.1:" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr
