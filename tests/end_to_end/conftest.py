"""Fixtures for the end-to-end tests: an emulator, the SDK drivers, the schema checks' small
targets, raw-socket servers."""

from __future__ import annotations

import fcntl
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conformance.emulator import EmulatorConfig, EmulatorServer
from tests.support.adapter_helpers import API_KEY
from tests.support.schema_targets import API_KEY as SCHEMA_API_KEY
from tests.support.schema_targets import make_app
from tests.support.serving import Handler, RawServer, serve_app

ROOT = Path(__file__).resolve().parents[2]
NODE_DRIVER = ROOT / "drivers" / "node"
FAKE_DRIVER = ROOT / "tests" / "support" / "fake_driver.py"


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    """One emulator with test controls for the adapter tests, under the adapters' key."""
    with EmulatorServer(EmulatorConfig(api_key=API_KEY, test_controls=True)) as server:
        yield server


@pytest.fixture
def fake_driver() -> list[str]:
    """The command of the stand-in driver (modes are appended by the test)."""
    return [sys.executable, str(FAKE_DRIVER)]


@pytest.fixture(scope="session")
def node_driver() -> str:
    """The Node.js driver's command, its SDK installed; skips when Node or npm cannot."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("the Node.js driver needs node and npm on the PATH")
    version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout
    if int(version.lstrip("v").split(".")[0] or 0) < 20:
        pytest.skip(f"the Node.js driver needs Node 20 or newer, not {version.strip()}")
    # One install at a time, whatever the number of xdist workers.
    with open(Path(tempfile.gettempdir()) / "uploads-conformance-npm.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (NODE_DRIVER / "node_modules" / "openai" / "package.json").exists():
            try:
                done = subprocess.run([npm, "install", "--no-audit", "--no-fund"],
                                      cwd=NODE_DRIVER, capture_output=True, text=True,
                                      timeout=180)
            except subprocess.TimeoutExpired:
                pytest.skip("npm install in drivers/node took more than 180 s")
            if done.returncode != 0:
                tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
                pytest.skip("npm install failed in drivers/node: " + " | ".join(tail))
    return f"{shlex.quote(node)} {shlex.quote(str(NODE_DRIVER / 'driver.mjs'))}"


# --- the schema checks' targets ------------------------------------------------------------


@pytest.fixture(scope="module")
def lenient_target() -> Iterator[str]:
    """A correct target that takes every liberty the documentation leaves open."""
    with serve_app(make_app(api_key=SCHEMA_API_KEY)) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def strict_target() -> Iterator[str]:
    """A correct target that takes none of them (and refuses with 422 and 415)."""
    with serve_app(make_app(api_key=SCHEMA_API_KEY, strict=True)) as base_url:
        yield base_url


# --- raw-socket servers, for answers no server framework would send ---------------------


@pytest.fixture
def raw_server() -> Iterator[Callable[[Handler], RawServer]]:
    servers: list[RawServer] = []

    def start(handler: Handler) -> RawServer:
        server = RawServer(handler)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()
