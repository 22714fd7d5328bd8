"""--organization and --project ($OPENAI_ORG_ID, $OPENAI_PROJECT_ID) reach the target as the
official SDKs send them, on plain HTTP and through the SDK adapters alike."""

from __future__ import annotations

import pytest

from conformance.adapters.http import HttpAdapter
from conformance.adapters.sdk_python import OpenAIPythonAdapter, OpenAIPythonAsyncAdapter
from conformance.client import TargetClient
from conformance.emulator import EmulatorServer
from conformance.options import settings_from_options
from conformance.recorder import Recorder
from conformance.run import RunSettings, run
from tests.support.adapter_helpers import API_KEY

CREATE = {"filename": "a.txt", "purpose": "assistants", "bytes": 1, "mime_type": "text/plain"}
WANTED = {"openai-organization": "org-identity-test", "openai-project": "proj-identity-test"}


def _identity(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items() if k.lower() in WANTED}


def test_the_environment_gives_them_as_the_sdks_read_it() -> None:
    settings = settings_from_options({}, {"OPENAI_ORG_ID": "org-identity-test",
                                          "OPENAI_PROJECT_ID": "proj-identity-test"})
    assert (settings.organization, settings.project) == ("org-identity-test",
                                                         "proj-identity-test")
    refused = run(RunSettings(header=("X-A:b",), sdk="openai-python", report_dir=None))
    assert refused.exit_status == 2 and "--header" in refused.errors[0]


def test_plain_http_sends_them(emulator: EmulatorServer) -> None:
    settings = RunSettings(organization="org-identity-test", project="proj-identity-test")
    with TargetClient(emulator.base_url, API_KEY, connection=settings.connection()) as client:
        answer = HttpAdapter(client).create(CREATE)
    assert answer.status == 200
    # Sent, and (as every --header value) kept out of the record.
    assert _identity(answer.exchange.request_headers) == dict.fromkeys(WANTED, "[REDACTED]")
    assert set(WANTED.values()) <= set(settings.secrets())


@pytest.mark.parametrize("adapter", [OpenAIPythonAdapter, OpenAIPythonAsyncAdapter])
def test_the_sdk_adapters_send_them(emulator: EmulatorServer,
                                    adapter: type[OpenAIPythonAdapter]) -> None:
    with TargetClient(emulator.base_url, API_KEY) as client:
        sdk = adapter(emulator.base_url, API_KEY, recorder=Recorder(),
                      sink=client.record_exchange, fallback=HttpAdapter(client),
                      organization="org-identity-test", project="proj-identity-test")
        try:
            answer = sdk.create(CREATE)
        finally:
            sdk.close()
        assert answer.status == 200
        sent = client.recent(1)[0]
    assert _identity(sent.request_headers) == WANTED
