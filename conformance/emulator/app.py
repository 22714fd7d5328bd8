"""`create_app`: the emulator as an ASGI app, its pieces wired in plain sight.

    CatchServerErrors -> BearerAuth (the key's tenant into the scope) -> (Starlette's
    exception handling) -> routes
    routes: UploadRoutes (+ ClockControls when test controls are on)
    UploadRoutes -> UploadService -> FileStore (completed files)
                 -> Storage (spool files), MetadataStore (kept records), OffsetClock (time)
    Rules (mutants.rules_for(config.mutant)): one object, handed to every piece that makes
    a decision a mutant may change
    lifespan: a sweeper deleting expired uploads' and files' data now and then, and
              forgetting ended uploads past their retention
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from starlette.applications import Starlette
from starlette.middleware import Middleware

from .auth import BearerAuth
from .clock import OffsetClock, SystemClock
from .config import EmulatorConfig
from .errors import EXCEPTION_HANDLERS, CatchServerErrors
from .files import FileStore
from .heap import give_back_free_memory
from .mutants import rules_for
from .routes import UploadRoutes
from .sqlite_store import SqliteStore
from .storage import Storage
from .store import MemoryStore, MetadataStore
from .test_controls import ClockControls
from .uploads import ServiceLimits, UploadService

logger = logging.getLogger("conformance.emulator")


def create_app(config: EmulatorConfig | None = None) -> Starlette:
    config = config or EmulatorConfig()
    store: MetadataStore = MemoryStore() if config.data_dir is None else SqliteStore(
        config.data_dir)
    storage = Storage(config.data_dir, durable=store.durable, max_bytes=config.max_disk_bytes)
    restored = store.restore(storage.path_of)
    # A kill may have left a part cut off mid-body, or data whose deletion it interrupted.
    storage.remove_unneeded(restored.live_paths())
    clock = OffsetClock(config.clock or SystemClock(), restored.clock_offset)
    rules = rules_for(config.mutant)  # the clean rules, or one mutant's
    files = FileStore(clock, storage, store, restored.files, rules)
    service = UploadService(rules, clock, storage, files, store, restored, ServiceLimits(
        config.retention, config.max_pending_uploads))

    routes = UploadRoutes(service, files, rules, config.body_timeout).routes()
    if config.test_controls:
        routes += ClockControls(clock, rules, store, config.body_timeout).routes()

    async def sweep_now_and_then() -> None:
        while True:
            await anyio.sleep(config.sweep_interval)
            try:
                await service.sweep()
                await files.sweep()
                give_back_free_memory()  # what the sweep freed, and the buffers since
            except Exception:  # a failed sweep is retried next time; serving goes on
                logger.exception("sweeping expired data failed")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with anyio.create_task_group() as background:
            background.start_soon(sweep_now_and_then)
            yield
            background.cancel_scope.cancel()
        close()

    def close() -> None:
        storage.close()  # without a data dir every spooled byte goes with the run
        store.close()

    app = Starlette(
        routes=routes,
        middleware=[Middleware(CatchServerErrors),
                    Middleware(BearerAuth, config=config, rules=rules)],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    # `/v1/uploads/` is an unknown route (404 envelope), not a redirect to `/v1/uploads`.
    app.router.redirect_slashes = False
    app.state.close = close  # for servers whose lifespan may not run to its end
    # For tests and benchmarks that look inside a running emulator.
    app.state.config = config
    app.state.rules = rules
    app.state.clock = clock
    app.state.storage = storage
    app.state.store = store
    app.state.service = service
    app.state.files = files
    return app
