"""Choosing an adapter: --sdk and --sdk-driver, versions for the report, closing."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from conformance.adapters.base import Adapter, Capabilities
from conformance.adapters.driver import DriverAdapter
from conformance.adapters.http import HttpAdapter
from conformance.adapters.registry import adapter_versions, close_adapter, make_adapter
from conformance.adapters.sdk_python import OpenAIPythonAdapter, OpenAIPythonAsyncAdapter
from conformance.client import TargetClient
from conformance.emulator import EmulatorServer
from conformance.recorder import Recorder
from tests.support.adapter_helpers import API_KEY


@pytest.fixture
def client(emulator: EmulatorServer) -> Iterator[TargetClient]:
    with TargetClient(emulator.base_url, API_KEY) as target_client:
        yield target_client


def _make(client: TargetClient, sdk: str | None, driver: str | None = None,
          api_key: str | None = API_KEY) -> Adapter:
    return make_adapter(sdk, driver, base_url=client.base_url, api_key=api_key, client=client,
                        recorder=Recorder())


def test_every_adapter_is_an_adapter() -> None:
    from conformance.adapters.sdk_template import SdkAdapter

    assert issubclass(HttpAdapter, Adapter) and not issubclass(HttpAdapter, SdkAdapter)
    for cls in (OpenAIPythonAdapter, OpenAIPythonAsyncAdapter, DriverAdapter):
        assert issubclass(cls, SdkAdapter)
    with pytest.raises(TypeError):
        Adapter()  # type: ignore[abstract]


@pytest.mark.parametrize("sdk", [None, "", "http"])
def test_no_sdk_is_plain_http(client: TargetClient, sdk: str | None) -> None:
    adapter = _make(client, sdk)
    assert isinstance(adapter, HttpAdapter)
    assert adapter.capabilities == Capabilities(chunked_upload=False, sdk=False)
    assert adapter_versions(adapter) == {"adapter": "http"}
    close_adapter(adapter)  # the client is the caller's: still usable
    assert client.request("GET", "/uploads").status is not None


@pytest.mark.parametrize(("sdk", "cls"), [("openai-python", OpenAIPythonAdapter),
                                          ("openai-python-async", OpenAIPythonAsyncAdapter)])
def test_the_python_sdks(client: TargetClient, sdk: str, cls: type) -> None:
    adapter = _make(client, sdk)
    try:
        assert type(adapter) is cls
        assert adapter.capabilities == Capabilities(chunked_upload=True, expires_after=True,
                                                    sdk=True, label=f"openai-python "
                                                    f"{openai.__version__}")
        versions = adapter_versions(adapter)
        assert versions["adapter"] == sdk and versions["sdk_version"] == openai.__version__
        answer = adapter.cancel("upload_nope")  # type: ignore[attr-defined]
        assert answer.status == 404
        assert client.recent(1)[0].url.endswith("/uploads/upload_nope/cancel")  # logged
    finally:
        close_adapter(adapter)


def test_a_driver(client: TargetClient, fake_driver: list[str]) -> None:
    command = " ".join(fake_driver)
    adapter = _make(client, None, command)
    try:
        assert isinstance(adapter, DriverAdapter)
        assert adapter.capabilities.sdk and not adapter.capabilities.chunked_upload
        assert adapter_versions(adapter) == {"adapter": "driver (fake-sdk)", "sdk": "fake-sdk",
                                             "sdk_version": "0.1", "sdk_driver": command}
    finally:
        close_adapter(adapter)


@pytest.mark.parametrize(("sdk", "driver", "api_key", "error"), [
    ("openai-python", "node driver.mjs", API_KEY, "not both"),
    ("openai-ruby", None, API_KEY, "unknown SDK 'openai-ruby'"),
    ("openai-python", None, None, "needs an API key"),
])
def test_bad_choices_are_value_errors(client: TargetClient, sdk: str, driver: str | None,
                                      api_key: str | None, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        _make(client, sdk, driver, api_key)
