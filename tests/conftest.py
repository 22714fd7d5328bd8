"""Settings for every test of the project's own: Hypothesis runs the same way each time.

A test that fails one run in ten fails CI on a loaded machine, so generation is
derandomized (a fixed seed per test), nothing is stored between runs, and no deadline
turns a slow machine into a failure. Also the one fixture both the unit and the
end-to-end tests use: a loopback port nobody listens on; and, for every test, a fresh
start of what a run keeps per process (whether it was stopped, the time a target wasted).
"""

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from conformance import halt
from conformance.client.health import health
from tests.support.serving import closed_port as closed_port_number

settings.register_profile(
    "project-tests",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("project-tests")


@pytest.fixture
def closed_port() -> int:
    """A loopback port with nothing listening on it."""
    return closed_port_number()


@pytest.fixture(autouse=True)
def _a_fresh_run_state() -> Iterator[None]:
    # A run owns its process; the tests share theirs: one test's wasted time or stop must
    # not stop the next one's requests.
    halt.reset()
    health.reset()
    yield
    halt.reset()
    health.reset()
