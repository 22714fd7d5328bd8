"""The SDK as its users run it: its defaults, and answers lost after the target took them.

The suite's scenario (`conformance/suite/test_sdk_retries.py`) is run on a Target directly:
the official SDK in front of the emulator (every hazard found), the same SDK taught to send
an idempotency key in front of a target that honours them (nothing found: no false alarm),
an SDK that cannot be built with its defaults, a run with no SDK, and a driver that offers
a users' client (the stand-in driver's) or not.
"""

from __future__ import annotations

import json
import shlex
import types
from collections.abc import Callable, Iterator
from typing import Any

import openai
import pytest

from conformance.adapters.driver import DriverAdapter
from conformance.adapters.http import HttpAdapter
from conformance.adapters.sdk_python import OpenAIPythonAdapter, OpenAIPythonAsyncAdapter
from conformance.client import TargetClient
from conformance.emulator import EmulatorServer
from conformance.recorder import Recorder
from conformance.results import Untested
from conformance.suite.test_sdk_retries import test_the_sdk_as_its_users_run_it as scenario
from conformance.target import Target
from tests.support.adapter_helpers import API_KEY, target_with
from tests.support.idempotent_target import idempotent_app
from tests.support.serving import serve_app

DEFAULTS, NO_DUPLICATE, TRUTHFUL = "SDK-DEFAULTS", "SDK-RETRY-NO-DUPLICATE", "SDK-RETRY-TRUTHFUL"
SAME = "SDK-RETRY-SAME-REQUEST"
JUDGED = (DEFAULTS, SAME, NO_DUPLICATE, TRUTHFUL)
Adapters = type[OpenAIPythonAdapter]


def _python(module: types.ModuleType, cls: Adapters = OpenAIPythonAdapter
            ) -> Callable[[str, TargetClient, Recorder], OpenAIPythonAdapter]:
    def make(base_url: str, client: TargetClient, recorder: Recorder) -> OpenAIPythonAdapter:
        return cls(base_url, API_KEY, recorder=recorder, openai=module,
                   sink=client.record_exchange, fallback=HttpAdapter(client))
    return make


def _module(**replaced: Any) -> types.ModuleType:
    """`openai` with some of its names replaced."""
    module = types.ModuleType("openai")
    module.__dict__.update({k: v for k, v in vars(openai).items() if not k.startswith("__")})
    module.__version__ = openai.__version__  # type: ignore[attr-defined]
    module.__dict__.update(replaced)
    return module


class _KeyedOpenAI(openai.OpenAI):
    """The SDK sending an Idempotency-Key with every POST, the same on each retry (the
    SDK's own mechanism, which it leaves off for this API)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._idempotency_header = "Idempotency-Key"


class _KeyedAsyncOpenAI(openai.AsyncOpenAI):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._idempotency_header = "Idempotency-Key"


def _verdicts(target: Target) -> dict[str, Any]:
    return {v.id: v for v in target.recorder.verdicts() if v.id in JUDGED}


def _messages(target: Target, requirement: str) -> list[str]:
    return [f.message for f in target.recorder.failures if f.requirement == requirement]


@pytest.fixture(params=[OpenAIPythonAdapter, OpenAIPythonAsyncAdapter], ids=["sync", "async"])
def adapter_class(request: pytest.FixtureRequest) -> Adapters:
    cls: Adapters = request.param
    return cls


def test_the_official_sdk_meets_every_hazard_of_a_lost_answer(emulator: EmulatorServer,
                                                               adapter_class: Adapters) -> None:
    with target_with(emulator.base_url, _python(openai, adapter_class)) as target:
        scenario(target)
        verdicts = _verdicts(target)
        assert verdicts[DEFAULTS].status.value == "pass"
        assert verdicts[SAME].status.value == "pass"  # each repeat holds the same bytes
        duplicates = _messages(target, NO_DUPLICATE)
        assert len(duplicates) == 2, duplicates
        assert "a create whose answer was lost was sent 2 time(s), 2 upload(s) made (it sent " \
               "no Idempotency-Key)" in duplicates[0]
        assert "the repeat took the room left in the upload" in duplicates[1]
        told = _messages(target, TRUTHFUL)
        assert [m.split(": ", 1)[1].split(" took effect")[0] for m in told] == [
            "the part that fills the upload", "a completion", "a cancel"]
        assert all("BadRequestError" in m and "answered 400" in m for m in told)
        # Evidence: each finding's own exchanges, the withheld answer and the repeat.
        create = next(f for f in target.recorder.failures if f.requirement == NO_DUPLICATE)
        assert [e.status for e in create.exchanges] == [200, 200]
        assert API_KEY not in json.dumps([f.to_dict() for f in target.recorder.failures])
        # Nothing is left pending: every upload the cases made was completed or cancelled.
        cancelled = [e.url for e in target.client.recent() if e.url.endswith("/cancel")]
        assert len(cancelled) >= 2


@pytest.fixture
def keyed_target_url() -> Iterator[tuple[str, Any]]:
    app = idempotent_app(API_KEY)
    with serve_app(app) as base_url:
        yield base_url, app


def test_an_sdk_and_a_target_that_keep_idempotency_keys_pass(
        keyed_target_url: tuple[str, Any], adapter_class: Adapters) -> None:
    base_url, app = keyed_target_url
    module = _module(OpenAI=_KeyedOpenAI, AsyncOpenAI=_KeyedAsyncOpenAI)
    with target_with(base_url, _python(module, adapter_class)) as target:
        scenario(target)
        verdicts = _verdicts(target)
        assert target.recorder.failures == []
        assert {k: v.status.value for k, v in verdicts.items()} == dict.fromkeys(JUDGED, "pass")
        assert app.replayed == 5  # each of the five lost answers was retried, and kept
        seen = " ".join(target.recorder.observations[TRUTHFUL])
        assert "a completion whose answer was lost: sent 2 time(s)" in seen


def test_an_sdk_that_fails_with_its_defaults_is_named(emulator: EmulatorServer) -> None:
    class Old(openai.OpenAI):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            if kwargs.get("http_client") is None:  # as 1.x before 1.55.3 beside httpx 0.28
                raise TypeError("Client.__init__() got an unexpected keyword argument "
                                f"'proxies' ({API_KEY})")
            super().__init__(*args, **kwargs)

    with target_with(emulator.base_url, _python(_module(OpenAI=Old))) as target:
        scenario(target)
        failure, = target.recorder.failures
        assert failure.requirement == DEFAULTS
        assert "raised TypeError: Client.__init__() got an unexpected keyword argument " \
               "'proxies'" in failure.message
        assert API_KEY not in failure.message
        for requirement in (SAME, NO_DUPLICATE, TRUTHFUL):
            assert "cannot be built with its defaults" in \
                target.recorder.not_testable[requirement]


def test_without_an_sdk_the_checks_are_not_testable(
        emulator: EmulatorServer) -> None:
    with target_with(emulator.base_url, lambda _url, client, _rec: HttpAdapter(client)) \
            as target, pytest.raises(pytest.skip.Exception):
        scenario(target)
    for requirement in JUDGED:
        assert "the run has no SDK" in target.recorder.not_testable[requirement]
        assert target.recorder.untested_causes[requirement] == Untested.TARGET.value


# --- through a driver -----------------------------------------------------------------------


def _driver(command: list[str]) -> Callable[[str, TargetClient, Recorder], DriverAdapter]:
    def make(base_url: str, client: TargetClient, recorder: Recorder) -> DriverAdapter:
        return DriverAdapter(command, base_url, API_KEY, recorder=recorder,
                             sink=client.record_exchange, fallback=HttpAdapter(client))
    return make


def test_a_driver_s_users_client_is_judged_as_the_python_sdk(emulator: EmulatorServer,
                                                            fake_driver: list[str]) -> None:
    command = [*fake_driver, "--report-http", "--users-client"]
    with target_with(emulator.base_url, _driver(command)) as target:
        scenario(target)
        assert _verdicts(target)[DEFAULTS].status.value == "pass"
        duplicates = _messages(target, NO_DUPLICATE)
        assert "fake-sdk 0.1: a create whose answer was lost was sent 2 time(s), 2 upload(s) " \
               "made (it sent no Idempotency-Key)" in duplicates[0]
        told = _messages(target, TRUTHFUL)
        assert len(told) == 3 and all("APIStatusError" not in m for m in told), told
        assert all("BadRequestError" in m for m in told)


@pytest.mark.parametrize("flags, why", [
    (["--report-http"], "the driver offers no users' client"),
    (["--users-client"], "the driver reports no HTTP exchanges"),
])
def test_a_driver_without_what_it_takes_leaves_them_not_testable(
        emulator: EmulatorServer, fake_driver: list[str], flags: list[str], why: str) -> None:
    with target_with(emulator.base_url, _driver([*fake_driver, *flags])) as target, \
            pytest.raises(pytest.skip.Exception):
        scenario(target)
    for requirement in JUDGED:
        assert why in target.recorder.not_testable[requirement]


def test_a_repeat_without_the_part_s_bytes_is_named(emulator: EmulatorServer,
                                                   fake_driver: list[str]) -> None:
    """As openai-node 4.x does: its part's form is a stream, which the first attempt used
    up, so the retry sends the headers of a part and no bytes (and hangs on its length)."""
    command = [*fake_driver, "--report-http", "--users-client", "--mode", "empty-retry"]
    with target_with(emulator.base_url, _driver(command)) as target:
        scenario(target)
        assert _verdicts(target)[SAME].status.value == "fail"
        found = _messages(target, SAME)
    assert len(found) == 2, found  # the two part cases; the JSON ones repeat alike
    assert all("attempt 2 is another request: the body a form of 'data' (0 bytes" in m
               for m in found), found



def test_the_node_sdk_s_users_client_is_judged_too(emulator: EmulatorServer,
                                                  node_driver: str) -> None:
    with target_with(emulator.base_url, _driver(shlex.split(node_driver))) as target:
        scenario(target)
        statuses = {k: v.status.value for k, v in _verdicts(target).items()}
        assert statuses == {DEFAULTS: "pass", SAME: "pass", NO_DUPLICATE: "fail",
                            TRUTHFUL: "fail"}, target.recorder.failures
        assert "(it sent no Idempotency-Key)" in _messages(target, NO_DUPLICATE)[0]
        assert any("a completion took effect" in m and "BadRequestError" in m
                   for m in _messages(target, TRUTHFUL))
