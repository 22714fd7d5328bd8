"""The pytest plugin: the suite's options, the `uploads_target` fixture, result collection.

Loaded by pytest through the package's entry point, it stays inert unless a test asks for
`uploads_target` (the suite's modules in `conformance.suite` do). The controlling process
holds one `Collector`: `conformance.run.run` passes it in as a plugin instance, with its
settings; a plain `pytest --pyargs conformance.suite --uploads-...` session gets one built
from its `--uploads-*` options (and $OPENAI_BASE_URL / $OPENAI_API_KEY, as the official
SDKs read them), which also writes the reports and the summary at the session's end.

Each process (the controller, or each xdist worker) gets its own `Target`; after every
test the findings travel in the test report's user_properties to the collector. Workers
get the settings, the API key among them, in xdist's `workerinput`: it travels on the
channel xdist opened to each worker it started, so the key is never put on a command
line, in an environment variable or in a file, where other processes could read it.

A run stopped early (`conformance.halt`: Ctrl-C, `--max-time`, a target wasting the run's
time) ends the session after the test in progress; each process keeps its own timer for
`--max-time`, and a worker's reason for stopping travels to the controller with its test
reports.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import threading
import time
from collections.abc import Generator, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis.configuration import set_hypothesis_home_dir, storage_directory

from conformance import halt, requirements
from conformance.adapters.registry import adapter_versions, close_adapter, make_adapter
from conformance.client import TargetClient
from conformance.client.health import health
from conformance.client.ledger import CleanupSummary, UploadLedger, cancel_left_over
from conformance.credentials import other_keys
from conformance.options import OPTIONS, settings_from_options
from conformance.recorder import Recorder
from conformance.report.console import render_summary
from conformance.reporting import RunFacts, build_report, now_iso
from conformance.reproduction import replay_test
from conformance.results import RunReport, Untested
from conformance.run import RunSettings, publish
from conformance.target import Target

FINDINGS_KEY = "uploads_conformance_findings"
ERROR_KEY = "uploads_conformance_internal_error"
ADAPTER_KEY = "uploads_conformance_adapter"
HALT_KEY = "uploads_conformance_halted"
SETTINGS_KEY = "uploads_conformance_settings"  # in xdist's workerinput

_SETTINGS = pytest.StashKey[RunSettings]()
_CLEANUP = pytest.StashKey[dict[str, Any]]()  # this process's CleanupSummary, as a dict
CLEANUP_KEY = "uploads_conformance_cleanup"  # a worker's, in its workeroutput
_MAX_TIME = pytest.StashKey[threading.Timer]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("uploads-conformance", "OpenAI Uploads API conformance")
    for option in OPTIONS:
        if option.in_plugin:
            group.addoption(option.plugin_flag, **option.parser_arguments())


class Collector:
    """The controller's side of a run: settings out to the workers, findings back."""

    def __init__(self, settings: RunSettings) -> None:
        self.settings = settings
        self.recorder = Recorder()
        self.recorder.leave_out(settings.selection().left_out)
        self.errors: list[str] = []
        self.adapter_versions: dict[str, str] = {}
        self.ran_suite = False
        self.cleanup = CleanupSummary()  # what the run left on the target, merged

        self.interrupted = False  # Ctrl-C or SIGTERM reached the session
        self.config: pytest.Config | None = None

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[SETTINGS_KEY] = self.settings.to_wire()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for key, value in report.user_properties:
            if key == FINDINGS_KEY:
                self.ran_suite = True
                for finding in value["failures"]:  # which test to run again to replay it
                    finding.setdefault("test", report.nodeid)
                self.recorder.merge(value)
            elif key == ERROR_KEY:
                self.errors.append(value)
            elif key == ADAPTER_KEY:
                self.adapter_versions.update(value)
            elif key == HALT_KEY:
                halt.halt(value)

    @pytest.hookimpl(wrapper=True)
    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]
                                  ) -> Generator[None, None, None]:
        self.interrupted = True
        try:
            return (yield)
        except Exception:  # pytest could not draw the interrupt's traceback
            # (a frame without a line number, when the signal lands mid-instruction): the
            # run still ends as interrupted, with its reports, not as an internal error.
            # The terminal reporter reports the interrupt later and needs a drawing of it:
            # give it Python's own, which copes with such frames.
            reporter = self.config.pluginmanager.get_plugin("terminalreporter") \
                if self.config is not None else None
            if reporter is not None and hasattr(reporter, "_keyboardinterrupt_memo"):
                reporter._keyboardinterrupt_memo = excinfo.getrepr(style="native")
            return None

    def pytest_configure(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        summary = getattr(node, "workeroutput", {}).get(CLEANUP_KEY)
        if summary is not None:
            self.cleanup.merge(CleanupSummary.from_dict(summary))

    @pytest.hookimpl(trylast=True)  # after pytest has torn the session's fixtures down
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        summary = session.config.stash.get(_CLEANUP, None)
        if summary is not None:  # the run's own process ran the tests
            self.cleanup.merge(CleanupSummary.from_dict(summary))

    def build_report(self, facts: RunFacts) -> RunReport | None:
        """The report of what the suite found; None if none of its tests ran."""
        if not self.ran_suite:
            return None
        report = build_report(self.recorder, self.errors, facts)
        report.versions.update(self.adapter_versions)
        report.cleanup = self.cleanup.to_dict()
        return report


class _SessionCollector(Collector):
    """The collector of a plain pytest session: it also times it and writes the reports."""

    def __init__(self, settings: RunSettings) -> None:
        super().__init__(settings)
        self.report: RunReport | None = None
        self._started_at = now_iso()
        self._started = time.monotonic()

    @pytest.hookimpl(trylast=True)  # after pytest has torn the session's fixtures down
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        super().pytest_sessionfinish(session)
        facts = self.settings.facts(self._started_at,
                                    round(time.monotonic() - self._started, 2))
        report = self.build_report(facts)
        if report is not None:
            self.report = publish(report, self.settings)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.report is not None:
            terminalreporter.write_sep("=", "uploads-conformance")
            terminalreporter.write_line(render_summary(self.report))


def pytest_configure(config: pytest.Config) -> None:
    worker_input = getattr(config, "workerinput", None)
    if worker_input is not None:  # an xdist worker: its controller holds the collector
        wire = worker_input.get(SETTINGS_KEY)
        config.stash[_SETTINGS] = (RunSettings.from_wire(wire) if wire is not None
                                   else settings_from_config(config))
    else:
        collector = next((p for p in config.pluginmanager.get_plugins()
                          if isinstance(p, Collector)), None)
        if collector is None:
            collector = _SessionCollector(settings_from_config(config))
            config.pluginmanager.register(collector, "uploads-conformance-collector")
        config.stash[_SETTINGS] = collector.settings
    settings = config.stash[_SETTINGS]
    if worker_input is not None:  # the controller's run() did this for its own process
        halt.reset()
        health.reset(settings.give_up_after)
    elif not isinstance(collector, _SessionCollector):  # run(): the suite, always
        config.stash[_MAX_TIME] = _max_time_timer(settings)


def pytest_collection_finish(session: pytest.Session) -> None:
    # Any other session (a worker, a plain pytest run) is bounded only when it runs the
    # suite: a session that merely has the plugin installed (the project's own tests, a
    # user's) must never be halted by a --max-time it did not ask for.
    config = session.config
    if _MAX_TIME not in config.stash and any(
            "uploads_target" in getattr(item, "fixturenames", ()) for item in session.items):
        config.stash[_MAX_TIME] = _max_time_timer(config.stash[_SETTINGS])


def pytest_unconfigure(config: pytest.Config) -> None:
    timer = config.stash.get(_MAX_TIME, None)
    if timer is not None:
        timer.cancel()


def _max_time_timer(settings: RunSettings) -> threading.Timer:
    limit = settings.run_time_limit()
    stop_at = settings.stop_at if settings.stop_at is not None else time.time() + limit
    timer = threading.Timer(max(0.0, stop_at - time.time()), halt.halt,
                            args=(f"it reached its time limit of {limit:g} s (--max-time)",))
    timer.daemon = True
    timer.start()
    return timer


def settings_from_config(config: pytest.Config) -> RunSettings:
    """The settings a plain pytest session's `--uploads-*` options (and the SDK environment
    variables) give, with the seed its workers will share."""
    values = {o.name: config.getoption(o.plugin_dest) for o in OPTIONS if o.in_plugin}
    settings = settings_from_options(values, os.environ).with_seed()
    try:
        settings.selection()
    except ValueError as error:  # a typo in an ID: one line, not a traceback
        raise pytest.UsageError(f"uploads-conformance: {error}") from None
    settings = dataclasses.replace(settings, stop_at=time.time() + settings.run_time_limit())
    if values["report_dir"] is None:  # under pytest, report files only when asked for
        settings = dataclasses.replace(settings, report_dir=None)
    return settings


# Cheap, decisive checks first: a fail-fast run (a mutant's) stops sooner. The fixed
# scenarios take under a second together; real 64 MiB parts take seconds, the state
# machine and the schema checks tens of seconds.
_MODULE_ORDER = ("test_unknown_ids", "test_limits", "test_probes", "test_tenants",
                 "test_parallel", "test_races", "test_limit_bytes", "test_stateful",
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
    settings = config.stash[_SETTINGS]
    profile = settings.run_profile()
    base_url, api_key, second_key = settings.base_url, settings.api_key, settings.second_api_key
    with ExitStack() as stack:
        if settings.hypothesis_home is not None:
            stack.enter_context(_hypothesis_home(settings.hypothesis_home))
        clock_is_ours = True
        if base_url is None:
            base_url, api_key, second_key = _start_emulator(stack, settings.mutant)
        else:
            # Parallel workers share an external target's clock: advancing it would
            # expire the other workers' uploads.
            clock_is_ours = not hasattr(config, "workerinput")
        connection = settings.connection()
        ledger = UploadLedger()
        client = stack.enter_context(TargetClient(
            base_url, api_key, timeout=settings.request_timeout,
            rate_limit=settings.requests_per_second(), connection=connection, ledger=ledger,
            other_keys=other_keys(api_key, second_key)))
        # Before the client closes (and the adapter first): what is left pending is ended.
        stack.callback(_end_of_run_cleanup, config, client, ledger)
        recorder = Recorder()
        recorder.leave_out(settings.selection().left_out)
        adapter = make_adapter(settings.sdk, settings.sdk_driver, base_url=base_url,
                               api_key=api_key, client=client, recorder=recorder,
                               organization=settings.organization, project=settings.project)
        stack.callback(close_adapter, adapter)  # registered after the client: closes first
        target = Target(base_url=base_url, client=client, adapter=adapter, recorder=recorder,
                        profile=profile, clock_is_ours=clock_is_ours,
                        fail_fast=settings.fail_fast, seed=settings.seed or 0,
                        api_key=api_key, second_api_key=second_key, openapi=settings.openapi,
                        connection=connection)
        if not target.adapter.capabilities.sdk:
            for requirement in ("SDK-REQUEST-CONFORMS", "SDK-RESULT-MATCHES",
                                "SDK-CHUNKED-UPLOAD"):
                target.recorder.cannot_test(requirement, "run with --sdk or --sdk-driver",
                                            Untested.SETTINGS)
        for entry in requirements.CATALOG.values():  # the client's, judged by a proxy only
            if requirements.PROXY in entry.needs:
                target.recorder.cannot_test(entry.id, "judged only on a client's own "
                                            "traffic: uploads-conformance proxy",
                                            Untested.SETTINGS)
        if clock_is_ours and profile.use_test_controls and not target.has_test_controls:
            target.recorder.cannot_test(
                "EXPIRY-ENFORCED", "the target offers no test controls (GET <base>/_conformance)"
                "; expiry would take an hour")
        elif not profile.use_test_controls:
            target.recorder.cannot_test(
                "EXPIRY-ENFORCED", f"profile {profile.name} does not use test controls",
                Untested.SETTINGS)
        if not clock_is_ours and profile.use_test_controls:
            target.recorder.cannot_test(
                "EXPIRY-ENFORCED", "the target's clock is shared by parallel workers; "
                "run with -n 1 to test expiry", Untested.SETTINGS)
        yield target


def _end_of_run_cleanup(config: pytest.Config, client: TargetClient,
                        ledger: UploadLedger) -> None:
    cancel_left_over(client)
    summary = ledger.summary().to_dict()
    worker_output = getattr(config, "workeroutput", None)
    if worker_output is not None:  # to the controller, when this worker finishes
        worker_output[CLEANUP_KEY] = summary
    else:
        config.stash[_CLEANUP] = summary


@contextmanager
def _hypothesis_home(home: Path) -> Iterator[None]:
    """Hypothesis's caches go to `home` for the session, then back where they were."""
    previous = storage_directory(intent_to_write=False).home_directory
    set_hypothesis_home_dir(home)
    try:
        yield
    finally:
        set_hypothesis_home_dir(previous)


def _start_emulator(stack: ExitStack, mutant: str | None) -> tuple[str, str, str]:
    from conformance.emulator import EmulatorConfig, EmulatorServer

    # Two keys, two tenants: the default run tests TENANT-ISOLATION too.
    api_key, second_key = ("sk-conformance-" + secrets.token_hex(8) for _ in range(2))
    config = EmulatorConfig(api_key=api_key, other_api_keys=(second_key,), test_controls=True,
                            mutant=mutant)
    server = stack.enter_context(EmulatorServer(config))
    return server.base_url, api_key, second_key


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    target = _target_of(item)
    if target is None:
        return
    if call.when == "call" and call.excinfo is not None and not call.excinfo.errisinstance(
            (pytest.fail.Exception, pytest.skip.Exception, halt.RunHalted)):
        # The class without its module path: the line is read by users, the traceback (in
        # the run's log) by whoever fixes the suite.
        failure = call.excinfo.value
        error = " ".join(f"{type(failure).__name__}: {failure}".split())
        report.user_properties.append((ERROR_KEY, f"{item.nodeid}: {error}"))
    stopped = halt.reason()
    if stopped is not None:  # the rest of the session would only wait to be stopped too
        item.session.shouldstop = stopped
        report.user_properties.append((HALT_KEY, stopped))
    if call.when == "teardown":
        report.user_properties.append((ADAPTER_KEY, adapter_versions(target.adapter)))
        report.user_properties.append((FINDINGS_KEY, target.recorder.to_dict()))
        target.recorder.clear()


@pytest.hookimpl(hookwrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Iterator[None]:
    # A suite test's findings are measured by rerunning it (reproduction.replay_test).
    target = _target_of(pyfuncitem)
    since = len(target.recorder.failures) if target is not None else 0
    started = time.monotonic()
    yield
    if target is not None:
        replay_test(target, since, pyfuncitem.obj, pyfuncitem.funcargs,
                    time.monotonic() - started)


def _target_of(item: pytest.Item) -> Target | None:
    if "uploads_target" not in getattr(item, "fixturenames", ()):
        return None
    funcargs = getattr(item, "funcargs", {})
    return funcargs.get("uploads_target")
