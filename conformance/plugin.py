"""The pytest plugin: target options, the `uploads_target` fixture, and result collection.

Loaded by pytest through the package's entry point, it stays inert unless a test asks for
`uploads_target` (the suite's modules in `conformance.suite` do). Each process (the main
one, or each xdist worker) gets its own `Target`; after every test the findings travel in
the test report's user_properties to the controlling process, which merges them and, at
the end of the session, writes the reports.
"""

from __future__ import annotations

import argparse
import os
import secrets
import traceback
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from conformance.adapters.http import HttpAdapter
from conformance.adapters.registry import SDK_CHOICES, adapter_versions, close_adapter, make_adapter
from conformance.client import TargetClient
from conformance.profiles import PROFILES
from conformance.recorder import Recorder
from conformance.report import write_reports
from conformance.report.console import render_summary
from conformance.reporting import RunFacts, build_report
from conformance.results import RunReport
from conformance.target import Target

FINDINGS_KEY = "uploads_conformance_findings"
ERROR_KEY = "uploads_conformance_internal_error"
ADAPTER_KEY = "uploads_conformance_adapter"
HYPOTHESIS_HOME_VARIABLE = "UPLOADS_CONFORMANCE_HYPOTHESIS_HOME"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("uploads-conformance", "OpenAI Uploads API conformance")
    group.addoption("--uploads-base-url", default=None,
                    help="the target's base URL (e.g. http://127.0.0.1:8000/v1); default: "
                         "$OPENAI_BASE_URL, else an embedded emulator")
    group.addoption("--uploads-api-key", default=None,
                    help="the target's API key (default: $OPENAI_API_KEY)")
    group.addoption("--uploads-profile", default="quick", choices=sorted(PROFILES))
    group.addoption("--uploads-seed", type=int, default=None, help="reproduce a run")
    group.addoption("--uploads-report-dir", default=None,
                    help="write report.json, junit.xml, report.md, report.html here")
    group.addoption("--uploads-openapi", default=None,
                    help="OpenAPI document for the schema checks (default: the project's)")
    group.addoption("--uploads-mutant", default=None,
                    help="run the embedded emulator with this mutant switched on")
    group.addoption("--uploads-fail-fast", action="store_true",
                    help="stop at the first MUST failure")
    group.addoption("--uploads-sdk", default=None, choices=SDK_CHOICES,
                    help="run the operations through this SDK (default: plain HTTP)")
    group.addoption("--uploads-sdk-driver", default=None, metavar="COMMAND",
                    help="run the operations through a driver program (docs/sdk-drivers.md)")
    # `uploads-conformance run` prints the summary itself, after applying a baseline.
    group.addoption("--uploads-no-summary", action="store_true", help=argparse.SUPPRESS)


class Session:
    """The controller's view of a run: merged findings and internal errors."""

    def __init__(self) -> None:
        self.recorder = Recorder()
        self.errors: list[str] = []
        self.ran_suite = False
        self.report: RunReport | None = None
        self.adapter_versions: dict[str, str] = {}


_SESSION_KEY = pytest.StashKey[Session]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_SESSION_KEY] = Session()
    if config.getoption("uploads_seed") is None:
        config.option.uploads_seed = int.from_bytes(os.urandom(4), "big") >> 1


def pytest_configure_node(node: Any) -> None:
    # xdist: every worker must use the controller's seed.
    node.workerinput["uploads_seed"] = node.config.getoption("uploads_seed")


def _seed(config: pytest.Config) -> int:
    worker_input = getattr(config, "workerinput", None)
    if worker_input and "uploads_seed" in worker_input:
        return int(worker_input["uploads_seed"])
    return int(config.getoption("uploads_seed"))


# Cheap, decisive checks first: a fail-fast run (a mutant's) stops sooner.
_MODULE_ORDER = ("test_limits", "test_unknown_ids", "test_parallel", "test_stateful",
                 "test_leniency", "test_schema")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        module = getattr(getattr(item, "module", None), "__name__", "")
        stem = module.rsplit(".", 1)[-1]
        return _MODULE_ORDER.index(stem) if module.startswith("conformance.suite.") and \
            stem in _MODULE_ORDER else len(_MODULE_ORDER)
    items.sort(key=rank)


@pytest.fixture(scope="session")
def uploads_target(request: pytest.FixtureRequest) -> Iterator[Target]:
    config = request.config
    profile = PROFILES[config.getoption("uploads_profile")]
    base_url = config.getoption("uploads_base_url") or os.environ.get("OPENAI_BASE_URL")
    api_key = config.getoption("uploads_api_key") or os.environ.get("OPENAI_API_KEY")
    home = os.environ.get(HYPOTHESIS_HOME_VARIABLE)
    if home:
        # Set by `uploads-conformance run`: Hypothesis's caches stay out of the user's cwd.
        set_hypothesis_home_dir(home)
    with ExitStack() as stack:
        clock_is_ours = True
        if base_url is None:
            base_url, api_key = _start_emulator(stack, config.getoption("uploads_mutant"))
        else:
            # Parallel workers share an external target's clock: advancing it would
            # expire the other workers' uploads.
            clock_is_ours = not hasattr(config, "workerinput")
        client = stack.enter_context(TargetClient(base_url, api_key))
        target = Target(base_url=base_url, client=client, adapter=HttpAdapter(client),
                        recorder=Recorder(), profile=profile, clock_is_ours=clock_is_ours,
                        fail_fast=config.getoption("uploads_fail_fast"), seed=_seed(config),
                        api_key=api_key, openapi=_path(config.getoption("uploads_openapi")))
        target.adapter = make_adapter(
            config.getoption("uploads_sdk"), config.getoption("uploads_sdk_driver"),
            base_url=base_url, api_key=api_key, client=client, checker=target.checker)
        stack.callback(close_adapter, target.adapter)  # registered after the client: closes first
        if not target.adapter.capabilities.sdk:
            for requirement in ("SDK-REQUEST-CONFORMS", "SDK-RESULT-MATCHES",
                                "SDK-CHUNKED-UPLOAD"):
                target.recorder.cannot_test(requirement, "run with --sdk or --sdk-driver")
        if clock_is_ours and profile.use_test_controls and not target.has_test_controls:
            target.recorder.cannot_test(
                "EXPIRY-ENFORCED", "the target offers no test controls (GET <base>/_conformance)"
                "; expiry would take an hour")
        elif not profile.use_test_controls:
            target.recorder.cannot_test(
                "EXPIRY-ENFORCED", f"profile {profile.name} does not use test controls")
        if not clock_is_ours and profile.use_test_controls:
            target.recorder.cannot_test(
                "EXPIRY-ENFORCED", "the target's clock is shared by parallel workers; "
                "run with -n 1 to test expiry")
        yield target


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def _start_emulator(stack: ExitStack, mutant: str | None) -> tuple[str, str]:
    from conformance.emulator import EmulatorConfig, EmulatorServer

    api_key = "sk-conformance-" + secrets.token_hex(8)
    config = EmulatorConfig(api_key=api_key, test_controls=True, mutant=mutant)
    server = stack.enter_context(EmulatorServer(config))
    return server.base_url, api_key


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    target = _target_of(item)
    if target is None:
        return
    if call.when == "call" and call.excinfo is not None and not call.excinfo.errisinstance(
            (pytest.fail.Exception, pytest.skip.Exception)):
        error = "".join(traceback.format_exception_only(call.excinfo.value)).strip()
        report.user_properties.append((ERROR_KEY, f"{item.nodeid}: {error}"))
    if call.when == "teardown":
        report.user_properties.append((ADAPTER_KEY, adapter_versions(target.adapter)))
        report.user_properties.append((FINDINGS_KEY, target.recorder.to_dict()))
        target.recorder.clear()


def _target_of(item: pytest.Item) -> Target | None:
    if "uploads_target" not in getattr(item, "fixturenames", ()):
        return None
    funcargs = getattr(item, "funcargs", {})
    return funcargs.get("uploads_target")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    session = _controller_session(report)
    if session is None:
        return
    for key, value in report.user_properties:
        if key == FINDINGS_KEY:
            session.ran_suite = True
            session.recorder.merge(value)
        elif key == ERROR_KEY:
            session.errors.append(value)
        elif key == ADAPTER_KEY:
            session.adapter_versions.update(value)


_CONFIG: list[pytest.Config] = []


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    _CONFIG[:] = [session.config]


def _controller_session(report: pytest.TestReport) -> Session | None:
    if not _CONFIG or hasattr(_CONFIG[0], "workerinput"):
        return None
    return _CONFIG[0].stash[_SESSION_KEY]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if hasattr(config, "workerinput"):
        return
    state = config.stash[_SESSION_KEY]
    if not state.ran_suite:
        return
    report = build_report(state.recorder, state.errors, _run_facts(config))
    report.versions.update(state.adapter_versions)
    state.report = report
    report_dir = config.getoption("uploads_report_dir")
    if report_dir:
        api_key = config.getoption("uploads_api_key") or os.environ.get("OPENAI_API_KEY")
        write_reports(report, Path(report_dir), redact=[api_key])


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    state = config.stash.get(_SESSION_KEY, None)
    if config.getoption("uploads_no_summary"):
        return
    if state is not None and state.report is not None:
        terminalreporter.write_sep("=", "uploads-conformance")
        terminalreporter.write_line(render_summary(state.report))


def _run_facts(config: pytest.Config) -> RunFacts:
    base_url = config.getoption("uploads_base_url") or os.environ.get("OPENAI_BASE_URL")
    mutant = config.getoption("uploads_mutant")
    if base_url:
        target, kind = base_url, "external"
    else:
        target = "embedded emulator"
        kind = f"embedded emulator (mutant {mutant})" if mutant else "embedded emulator"
    adapter = config.getoption("uploads_sdk") or (
        "driver: " + config.getoption("uploads_sdk_driver")
        if config.getoption("uploads_sdk_driver") else "http")
    return RunFacts(target=target, target_kind=kind, profile=config.getoption("uploads_profile"),
                    seed=_seed(config), adapter=adapter)
