"""The Node.js driver on old releases of the Node SDK, not only on the pinned newest one.

The 4.x line hands its `fetch` a multipart part as a stream, not a FormData: the driver's
recording fetch must send it (`duplex: 'half'`) and still describe the form it held. 4.53.0
is the oldest release with the Uploads API; 4.52.7 has none, which the driver must say
(`lacks`) so that a run stops at once. Each release is installed once into a cache directory
shared by sessions (npm, like the `node_driver` fixture); each session runs a fresh copy of
`drivers/node/driver.mjs` beside it.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import random
import shlex
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conformance.adapters.driver import DriverAdapter, DriverError
from conformance.adapters.driver_pipe import Connection
from conformance.emulator import EmulatorServer
from conformance.evidence import Redactor
from tests.support.adapter_helpers import API_KEY
from tests.support.cli import run_cli, run_suite

OLDEST = "4.53.0"  # the first release with client.uploads; its parts reach fetch as streams
NO_UPLOADS = "4.52.7"  # the last release without it
CACHE = Path(tempfile.gettempdir()) / "uploads-conformance-node-sdks"
DRIVER = Path(__file__).resolve().parents[2] / "drivers" / "node" / "driver.mjs"

DriverFor = Callable[[str], str]


def _install(version: str) -> Path:
    """`openai@version` in a cache directory of its own (once); skips when npm cannot."""
    home = CACHE / f"openai-{version}"
    installed = home / "node_modules" / "openai" / "package.json"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / "install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one install at a time, whatever the workers
        if not installed.exists() or f'"version": "{version}"' not in installed.read_text():
            home.mkdir(exist_ok=True)
            (home / "package.json").write_text(
                f'{{"private": true, "dependencies": {{"openai": "{version}"}}}}\n')
            npm = shutil.which("npm") or "npm"
            try:
                done = subprocess.run([npm, "install", "--no-audit", "--no-fund"], cwd=home,
                                      capture_output=True, text=True, timeout=180)
            except subprocess.TimeoutExpired:
                pytest.skip(f"npm install openai@{version} took more than 180 s")
            if done.returncode != 0:
                tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
                pytest.skip(f"npm install openai@{version} failed: " + " | ".join(tail))
    return home / "node_modules"


@pytest.fixture(scope="module")
def driver_for(node_driver: str, tmp_path_factory: pytest.TempPathFactory) -> DriverFor:
    """The command of the driver in this tree running on `openai@version`.

    `node_driver` makes sure Node 20 and npm are there. The copy sits beside a link to the
    cached install, since Node resolves `openai` from the driver file's own directory.
    """
    node = shlex.split(node_driver)[0]

    def command(version: str) -> str:
        here = tmp_path_factory.mktemp(f"node-openai-{version}")
        (here / "node_modules").symlink_to(_install(version), target_is_directory=True)
        shutil.copy(DRIVER, here / "driver.mjs")
        return f"{shlex.quote(node)} {shlex.quote(str(here / 'driver.mjs'))}"

    return command


def test_the_oldest_sdk_passes_every_driver_check(driver_for: DriverFor) -> None:
    done = run_cli("driver-check", driver_for(OLDEST), timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"PASS  ready message: openai-node {OLDEST}," in done.stdout
    assert "PASS  add_part: 1 MiB + 1 byte, as a file: 1048577 bytes arrived intact" \
        in done.stdout


@pytest.mark.slow
def test_a_run_on_the_oldest_sdk_fails_only_its_unencoded_upload_id(
        driver_for: DriverFor, tmp_path: Path) -> None:
    done = run_suite(tmp_path, "--sdk-driver", driver_for(OLDEST), "--seed", "1",
                     "--max-examples", "10", "--replays", "0", timeout=240)
    # The one MUST fault of 4.x: the upload ID goes into the path as it is, so '../uploads'
    # sends POST /v1/uploads/parts (fixed in 5.0.0, which percent-encodes it). Built as its
    # users build it, it also retries a lost answer blindly (SHOULDs), and a part's retry
    # sends no bytes: its form was a stream the first attempt used up.
    assert done.returncode == 1 and done.failed() == {
        "SDK-REQUEST-CONFORMS", "SDK-RETRY-SAME-REQUEST", "SDK-RETRY-NO-DUPLICATE",
        "SDK-RETRY-TRUTHFUL"}, done.explain()
    same = done.requirement("SDK-RETRY-SAME-REQUEST")["failures"][0]["message"]
    assert "attempt 2 is another request: the body of 0 bytes, not a form of 'data'" in same
    findings = done.requirement("SDK-REQUEST-CONFORMS")["failures"]
    assert all("not /v1/uploads/../uploads/" in f["message"] for f in findings), done.explain()
    finding = findings[0]
    assert "path '/v1/uploads/parts', not /v1/uploads/../uploads/parts" in finding["message"]
    sent = finding["exchanges"][-1]  # the SDK's own request, as its fetch saw it
    assert sent["url"].endswith("/v1/uploads/parts")
    assert sent["request_headers"]["user-agent"] == f"OpenAI/JS {OLDEST}"
    assert "reported by the SDK driver" in sent["curl"]
    # Its 64 MiB parts went through (every part of 4.x failed to send without `duplex`).
    assert done.statuses()["PART-SIZE-LIMIT"] == "pass", done.explain()
    assert done.requirement("SDK-CHUNKED-UPLOAD")["not_testable_reason"] == \
        f"openai-node {OLDEST} has no upload_file_chunked"


def test_an_sdk_without_the_uploads_api_stops_the_driver_at_once(
        driver_for: DriverFor, emulator: EmulatorServer) -> None:
    with pytest.raises(DriverError, match=f"openai-node {NO_UPLOADS} has no Uploads API"):
        DriverAdapter(driver_for(NO_UPLOADS), emulator.base_url, API_KEY, hello_timeout=20)


def _replies(command: str, base_url: str, *operations: dict[str, Any]) -> list[dict[str, Any]]:
    """The driver's replies to a hello (at `base_url`) and then to each operation, in turn."""
    driver = Connection(command, Redactor(API_KEY))
    try:
        driver.request({"type": "hello", "protocol": 1, "api_key": API_KEY, "timeout_s": 10,
                        "base_url": base_url}, 20, "the hello")
        return [driver.request(operation, 20, str(operation["op"])) for operation in operations]
    finally:
        driver.close()


def _part(upload_id: str, data: bytes, path: Path | None = None) -> dict[str, Any]:
    args: dict[str, Any] = {"upload_id": upload_id, "filename": "part.bin"}
    if path is None:
        args["data_base64"] = base64.b64encode(data).decode()
    else:
        path.write_bytes(data)
        args["path"] = str(path)
    return {"op": "add_part", "args": args}


def _form(data: bytes) -> dict[str, Any]:
    """The description of a form holding `data` as its one file field, `data`."""
    return {"kind": "form", "fields": [{
        "name": "data", "filename": "part.bin", "content_type": "application/octet-stream",
        "size": len(data), "md5": hashlib.md5(data).hexdigest()}]}


@pytest.fixture(params=[OLDEST, "newest"])
def sdk_driver(request: pytest.FixtureRequest, driver_for: DriverFor, node_driver: str) -> str:
    """The driver on the oldest SDK (forms as streams) and on the newest (as FormData)."""
    return node_driver if request.param == "newest" else driver_for(request.param)


def test_each_part_is_reported_as_the_form_the_sdk_sent(
        sdk_driver: str, emulator: EmulatorServer, tmp_path: Path) -> None:
    # Many stream chunks (a file of 1 MiB + 1), every byte value, a refused empty part.
    parts = [random.Random(7).randbytes(2**20 + 1), bytes(range(256)), b""]
    upload = {"filename": "p.bin", "purpose": "assistants", "bytes": sum(map(len, parts)),
              "mime_type": "text/plain"}
    [created] = _replies(sdk_driver, emulator.base_url, {"op": "create", "args": {"body": upload}})
    upload_id = created["result"]["id"]
    replies = _replies(sdk_driver, emulator.base_url, _part(upload_id, parts[0], tmp_path / "p"),
                       *(_part(upload_id, data) for data in parts[1:]))
    assert [r["ok"] for r in replies] == [True, True, False], replies[-1]
    assert [r["http"][0]["body"] for r in replies] == [_form(data) for data in parts]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_part_that_reached_no_server_is_reported_with_its_cause(sdk_driver: str) -> None:
    [reply] = _replies(sdk_driver, f"http://127.0.0.1:{_closed_port()}/v1",
                       _part("upload_x", b"hello"))
    error = reply["error"]
    assert error["class"] == "APIConnectionError" and error["status"] is None
    assert "(caused by TypeError: fetch failed) (caused by Error: connect ECONNREFUSED" \
        in error["message"]
    # Nothing was sent, yet the form the SDK made is described (a 4.x stream read to its end).
    [sent] = reply["http"]
    assert sent["status"] is None and "ECONNREFUSED" in sent["error"]
    assert sent["body"] == _form(b"hello")
