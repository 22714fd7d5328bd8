"""Settings for every test of the project's own: Hypothesis runs the same way each time.

A test that fails one run in ten fails CI on a loaded machine, so generation is
derandomized (a fixed seed per test), nothing is stored between runs, and no deadline
turns a slow machine into a failure. Also the one fixture both the unit and the
end-to-end tests use: a loopback port nobody listens on.
"""

import socket

import pytest
from hypothesis import HealthCheck, settings

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
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
