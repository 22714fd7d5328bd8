"""Settings for every test of the project's own: Hypothesis runs the same way each time.

A test that fails one run in ten fails CI on a loaded machine, so generation is
derandomized (a fixed seed per test), nothing is stored between runs, and no deadline
turns a slow machine into a failure. Also the one fixture both the unit and the
end-to-end tests use: a loopback port nobody listens on.
"""

import pytest
from hypothesis import HealthCheck, settings

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
