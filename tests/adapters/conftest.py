"""Fixtures for the adapter tests: an emulator, targets around an adapter, the Node driver."""

from __future__ import annotations

import fcntl
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance import requirements
from conformance.emulator import EmulatorConfig, EmulatorServer
from tests.support.adapter_helpers import API_KEY, PROPOSED_REQUIREMENTS

ROOT = Path(__file__).resolve().parents[2]
NODE_DRIVER = ROOT / "drivers" / "node"
FAKE_DRIVER = ROOT / "tests" / "support" / "fake_driver.py"


@pytest.fixture(autouse=True)
def sdk_requirements(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK requirements, until the catalog has them (verdicts and `is_fatal` need them)."""
    for requirement in PROPOSED_REQUIREMENTS:
        if requirement.id not in requirements.CATALOG:
            monkeypatch.setitem(requirements.CATALOG, requirement.id, requirement)


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
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
