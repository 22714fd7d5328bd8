"""The test-control extension: lets a test runner read and advance the emulator's clock.

Served only when `EmulatorConfig.test_controls` is on (otherwise these paths are unknown
routes), behind the same authentication as the API:

    GET  /v1/_conformance                 -> 200 {"object": "test_controls", "now": <float>}
    POST /v1/_conformance/clock/advance   {"seconds": <number >= 0>}
                                          -> 200 {"object": "test_controls", "now": <float>}

`now` is the emulator clock in unix seconds; advancing moves it forward for good (with a
data directory, across restarts too).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .clock import OffsetClock
from .json_body import read_json_object
from .rules import Rules
from .store import MetadataStore
from .validation import parse_clock_advance

CONTROLS_PATH = "/v1/_conformance"


class ClockControls:
    def __init__(self, clock: OffsetClock, rules: Rules, store: MetadataStore,
                 body_timeout: float | None = None) -> None:
        self._clock = clock
        self._rules = rules
        self._store = store  # the offset is kept: time never runs back across a restart
        self._body_timeout = body_timeout

    def routes(self) -> list[BaseRoute]:
        return [
            Route(CONTROLS_PATH, self.describe, methods=["GET"]),
            Route(f"{CONTROLS_PATH}/clock/advance", self.advance, methods=["POST"]),
        ]

    async def describe(self, request: Request) -> Response:
        return self._answer(self._clock.now())

    async def advance(self, request: Request) -> Response:
        body = await read_json_object(request, self._rules, self._body_timeout)
        now = self._clock.advance(parse_clock_advance(body))
        self._store.save_clock_offset(self._clock.offset)
        return self._answer(now)

    @staticmethod
    def _answer(now: float) -> Response:
        return JSONResponse({"object": "test_controls", "now": now})
