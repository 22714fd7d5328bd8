"""Loading an OpenAPI document into schemathesis and running every pass against a target."""

from __future__ import annotations

import contextlib
import logging
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis.configuration import set_hypothesis_home_dir, storage_directory

from conformance.client.connection import DIRECT, Connection
from conformance.openapi import default_openapi_path
from conformance.results import Finding
from conformance.schema import passes, probes
from conformance.schema.session import SchemaRunError, Session

log = logging.getLogger(__name__)


def run_schema_checks(
    base_url: str,
    api_key: str | None,
    *,
    openapi_path: Path | None = None,
    max_examples: int = 20,
    seed: int | None = None,
    stateful: bool = True,
    timeout_s: float = 10.0,
    time_budget_s: float = 120.0,
    connection: Connection = DIRECT,
) -> list[Finding]:
    """Run schemathesis against the target at `base_url` (ending in /v1) and map its outcomes.

    Returns one PASS finding per (requirement, operation) exercised without failure, one
    FAIL finding per distinct failure (requirement, operation, kind) with its exchange and
    a curl reproduction, and INFO findings for open behaviour. The API key never appears
    in what is returned. Raises `SchemaRunError` when the run cannot be done.
    """
    path = openapi_path or default_openapi_path()
    schema = _load_schema(path, base_url, max_examples)
    session = Session(schema, base_url.rstrip("/"), api_key, timeout_s,
                      deadline=time.monotonic() + time_budget_s, connection=connection)
    with _hypothesis_storage_outside_cwd():
        try:
            session.preflight()
            probes.auth_probe(session)
            probes.happy_path(session)
            passes.coverage(session)
            passes.fuzz(session, max_examples, seed)
            if stateful:
                passes.stateful(session, max_examples, seed)
        finally:
            session.close()
    if session.out_of_time():
        log.warning("schema checks stopped at their time budget of %.0f s", time_budget_s)
    log.info("schema checks sent %s", dict(session.sent))
    return session.findings.result()


@contextlib.contextmanager
def _hypothesis_storage_outside_cwd() -> Iterator[None]:
    """Hypothesis caches (unicode tables, constants) go to a temp dir, not the user's cwd.

    The example database is off already; this covers the caches Hypothesis writes anyway.
    """
    previous = storage_directory(intent_to_write=False).home_directory
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "uploads-conformance-hypothesis")
    try:
        yield
    finally:
        set_hypothesis_home_dir(previous)


def _load_schema(path: Path, base_url: str, max_examples: int) -> Any:
    # An explicit config: never pick up a schemathesis.toml from the user's directory.
    config = schemathesis.Config.from_dict({
        "base-url": base_url.rstrip("/"),
        "generation": {
            "max-examples": max_examples,
            "database": "none",  # no .hypothesis directory in the user's cwd
            # Credentials are the auth probe's business, not the generator's.
            "with-security-parameters": False,
        },
        "phases": {"stateful": {"max-steps": passes.STATEFUL_STEPS}},
    })
    try:
        return schemathesis.openapi.from_path(path, config=config)
    except Exception as exc:
        raise SchemaRunError(f"cannot load the OpenAPI document {path}: {exc}") from exc
