"""The reference emulator: a strict, real Uploads API server (Starlette + uvicorn).

    from conformance.emulator import EmulatorConfig, EmulatorServer

    with EmulatorServer(EmulatorConfig(test_controls=True)) as server:
        ...  # talk to server.base_url with the API key "sk-emulator"

It is an independent reading of the API's rules: it imports nothing of the suite.
"""

from __future__ import annotations

from .app import create_app
from .clock import Clock, OffsetClock, SystemClock
from .config import EmulatorConfig
from .mutants import MUTANTS
from .server import EmulatorServer, run_server

__all__ = [
    "MUTANTS",
    "Clock",
    "EmulatorConfig",
    "EmulatorServer",
    "OffsetClock",
    "SystemClock",
    "create_app",
    "run_server",
]
