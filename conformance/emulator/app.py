"""`create_app`: the emulator as an ASGI app, its pieces wired in plain sight.

    CatchServerErrors -> BearerAuth -> (Starlette's exception handling) -> routes
    routes: UploadRoutes (+ ClockControls when test controls are on)
    UploadRoutes -> UploadService -> FileStore (completed files)
                 -> Storage (spool files), OffsetClock (time)
    Rules (mutants.rules_for(config.mutant)): one object, handed to every piece that makes
    a decision a mutant may change
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware

from .auth import BearerAuth
from .clock import OffsetClock, SystemClock
from .config import EmulatorConfig
from .errors import EXCEPTION_HANDLERS, CatchServerErrors
from .files import FileStore
from .mutants import rules_for
from .routes import UploadRoutes
from .storage import Storage
from .test_controls import ClockControls
from .uploads import UploadService


def create_app(config: EmulatorConfig | None = None) -> Starlette:
    config = config or EmulatorConfig()
    clock = OffsetClock(config.clock or SystemClock())
    storage = Storage(config.data_dir)
    files = FileStore(clock, storage)
    rules = rules_for(config.mutant)  # the clean rules, or one mutant's
    service = UploadService(rules, clock, storage, files)

    routes = UploadRoutes(service, files, rules).routes()
    if config.test_controls:
        routes += ClockControls(clock, rules).routes()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        storage.close()  # cancelled, expired and every other spooled byte goes with the run

    app = Starlette(
        routes=routes,
        middleware=[Middleware(CatchServerErrors),
                    Middleware(BearerAuth, config=config, rules=rules)],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    # `/v1/uploads/` is an unknown route (404 envelope), not a redirect to `/v1/uploads`.
    app.router.redirect_slashes = False
    # For tests and benchmarks that look inside a running emulator.
    app.state.config = config
    app.state.rules = rules
    app.state.clock = clock
    app.state.storage = storage
    app.state.service = service
    app.state.files = files
    return app
