"""Which adapter runs the operations: raw HTTP (the default), a Python SDK, or a driver.

The wiring in one place, for the command line and the pytest plugin:

    recorder = Recorder()
    adapter = make_adapter(sdk, sdk_driver, base_url=..., api_key=..., client=client,
                           recorder=recorder)
    target = Target(..., adapter=adapter, recorder=recorder, ...)
    ...
    close_adapter(target.adapter)

The SDK adapters hold their requests to the OpenAPI document and their results to the
answers (the checks travel on each answer, reported by `Adapter.report_checks` once the step
is recorded), and add every exchange they record to the target client's log, so a
failure's evidence shows the SDK's requests too.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Final

from conformance.adapters.base import Adapter
from conformance.adapters.http import HttpAdapter
from conformance.client import TargetClient
from conformance.recorder import Recorder
from conformance.results import Exchange

__all__ = ["SDK_CHOICES", "adapter_versions", "close_adapter", "make_adapter"]

# The values of --sdk; None means "http" too.
SDK_CHOICES: Final = ("http", "openai-python", "openai-python-async")


def make_adapter(sdk: str | None, sdk_driver: str | None, *, base_url: str,
                 api_key: str | None, client: TargetClient, recorder: Recorder,
                 organization: str | None = None, project: str | None = None) -> Adapter:
    """The adapter for `--sdk` / `--sdk-driver`; ValueError for a bad choice.

    `organization` and `project` go to an SDK as its own settings (the Python SDK's
    arguments, a driver's OPENAI_ORG_ID and OPENAI_PROJECT_ID), so that it sends them as
    it would for a user; the plain HTTP adapter has them in its client's headers.

    An SDK that fails to start (the `openai` package missing, a driver that does not
    answer its hello) raises ImportError or DriverError with a message to show as is.
    """
    sdk = None if sdk in (None, "", "http") else sdk
    if sdk is not None and sdk_driver:
        raise ValueError("give --sdk or --sdk-driver, not both")
    if sdk is None and not sdk_driver:
        return HttpAdapter(client)
    if api_key is None:
        raise ValueError("an SDK needs an API key to send: give --api-key or OPENAI_API_KEY")
    sink, fallback = _log_of(client), HttpAdapter(client)
    if sdk_driver:
        from conformance.adapters.driver import DriverAdapter

        identity = {name: value for name, value in (("OPENAI_ORG_ID", organization),
                                                    ("OPENAI_PROJECT_ID", project)) if value}
        return DriverAdapter(sdk_driver, base_url, api_key, recorder=recorder, sink=sink,
                             timeout=client.timeout, fallback=fallback,
                             env={**os.environ, **identity} if identity else None)
    from conformance.adapters.sdk_python import OpenAIPythonAdapter, OpenAIPythonAsyncAdapter

    classes = {"openai-python": OpenAIPythonAdapter,
               "openai-python-async": OpenAIPythonAsyncAdapter}
    if sdk not in classes:
        raise ValueError(f"unknown SDK {sdk!r}; choose one of {', '.join(SDK_CHOICES)}")
    return classes[sdk](base_url, api_key, recorder=recorder, sink=sink, timeout=client.timeout,
                        fallback=fallback, organization=organization, project=project)


def adapter_versions(adapter: Adapter) -> dict[str, str]:
    """The adapter's name and its SDK's name and version, for the report's `versions`."""
    return dict(adapter.describe())


def close_adapter(adapter: Adapter) -> None:
    """Stops what the adapter started (an event loop, a driver process)."""
    adapter.close()


def _log_of(client: TargetClient) -> Callable[[Exchange], None]:
    """Where an SDK adapter sends its exchanges, so failures carry them as evidence."""
    return client.record_exchange
