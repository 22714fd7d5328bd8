"""Fixtures for the emulator's tests: servers on free loopback ports, and clients for them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conformance.emulator import EmulatorConfig, EmulatorServer
from tests.support.emulator_helpers import Api


@pytest.fixture(scope="session")
def shared_emulator() -> Iterator[EmulatorServer]:
    """One clean emulator for the tests that neither move its clock nor inspect its disk."""
    with EmulatorServer(EmulatorConfig()) as server:
        yield server


@pytest.fixture
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorServer]:
    """A fresh emulator of its own, with test controls: its clock and disk are the test's."""
    config = EmulatorConfig(test_controls=True, data_dir=tmp_path_factory.mktemp("spool"))
    with EmulatorServer(config) as server:
        yield server


@pytest.fixture
def api(shared_emulator: EmulatorServer) -> Iterator[Api]:
    client = Api(shared_emulator.base_url)
    yield client
    client.close()


@pytest.fixture
def own_api(emulator: EmulatorServer) -> Iterator[Api]:
    client = Api(emulator.base_url)
    yield client
    client.close()
