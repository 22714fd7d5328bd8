"""Running the suite: `RunSettings` and `run()`.

    from conformance import RunSettings, run
    report = run(RunSettings(base_url="http://127.0.0.1:8000/v1", api_key=key))

`run` checks the settings, runs the suite's pytest modules in this process with a
`conformance.plugin.Collector` as a plugin instance, builds the `RunReport` once (start
time, duration, baseline) and writes the reports once. The options that set
`RunSettings` are `conformance.options.OPTIONS`.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance import halt
from conformance.client.connection import DIRECT, Connection
from conformance.client.health import LOST_BUDGET_S, health
from conformance.credentials import secrets_of
from conformance.evidence import redact_url
from conformance.profiles import PROFILES, Profile
from conformance.reporting import (
    EXIT_RUN_FAILED,
    RunFacts,
    apply_baseline,
    now_iso,
    read_baseline,
    redacted,
    run_failed_report,
    settle,
    write_baseline,
)
from conformance.results import RunReport
from conformance.selection import Selection, describe

if TYPE_CHECKING:
    from conformance.progress import Progress

__all__ = ["RunSettings", "SettingsError", "publish", "run"]

SUITE_INI = Path(__file__).parent / "suite" / "pytest.ini"
# pytest's exit code when a session was interrupted (Ctrl-C, or `-x` before any test ran).
_PYTEST_INTERRUPTED = 2


class SettingsError(ValueError):
    """Settings with which no run can be done; the message is one line, fit for a user."""


@dataclass(frozen=True, slots=True)
class RunSettings:
    """What a run tests and how. The defaults are those of `uploads-conformance run`, except
    that nothing is read from the environment here (the command line and the plugin do)."""

    base_url: str | None = None  # None: start an embedded emulator and test it
    api_key: str | None = field(default=None, repr=False)  # kept out of every output
    # Another tenant's key, for TENANT-ISOLATION; kept out of every output as well.
    second_api_key: str | None = field(default=None, repr=False)
    report_dir: Path | None = Path("reports")  # None: write no report files
    profile: str = "quick"
    seed: int | None = None  # None: a random seed, which the report gives
    workers: int = 1  # pytest-xdist workers
    openapi: Path | None = None  # another OpenAPI document for the schema checks
    baseline: Path | None = None  # accepted deviations: their failures do not fail the run
    write_baseline: Path | None = None  # write the failed requirements as a baseline here
    fail_fast: bool = False
    sdk: str | None = None
    sdk_driver: str | None = None
    mutant: str | None = None  # a mutant of the embedded emulator
    request_timeout: float = 30.0  # one exchange's deadline, however slowly it answers
    give_up_after: float = LOST_BUDGET_S  # seconds a misbehaving target may waste
    max_time: float | None = None  # seconds for the whole run; None: the profile's
    rate_limit: float | None = None  # requests a second; None: the profile's; 0: no limit
    # --header, once per header: "NAME:VALUE", the values treated as secrets
    header: tuple[str, ...] = field(default=(), repr=False)
    query: tuple[str, ...] = ()  # "NAME=VALUE", added to every request's URL
    auth_header: str | None = None  # send the key as "NAME: KEY"; None: Authorization Bearer
    organization: str | None = None  # OpenAI-Organization, as the official SDKs send it
    project: str | None = None  # OpenAI-Project
    cacert: Path | None = None  # verify the target's TLS certificate against this bundle
    insecure: bool = False  # do not verify it at all
    proxy: str | None = field(default=None, repr=False)  # an http(s) proxy URL
    requirements: str | None = None  # --requirements: judge only these (IDs, patterns)
    skip: str | None = None  # --skip: judge all but these
    max_examples: int | None = None  # the stateful exploration's examples; None: profile's
    replays: int | None = None  # replays of each failure in its run; None: the profile's
    tests: tuple[str, ...] = ()  # only these of the suite's tests (node IDs); (): all
    hypothesis_home: Path | None = None  # Hypothesis's caches; run(): a private temp dir
    stop_at: float | None = None  # run(): when --max-time passes (unix time), for workers

    def run_profile(self) -> Profile:
        """The profile, with what the options override."""
        profile = PROFILES[self.profile]
        if self.max_examples is not None:
            profile = dataclasses.replace(profile, max_examples=self.max_examples)
        if self.replays is not None:
            profile = dataclasses.replace(profile, replays=self.replays)
        return profile

    def selection(self) -> Selection:
        """What the run judges; ValueError (one line) for an item that names nothing."""
        return Selection.parse(self.requirements, self.skip)

    def run_time_limit(self) -> float:
        return self.max_time if self.max_time is not None else PROFILES[self.profile].max_time_s

    def requests_per_second(self) -> float | None:
        rate = self.rate_limit if self.rate_limit is not None else \
            PROFILES[self.profile].rate_limit
        return rate or None

    def connection(self) -> Connection:
        """How requests reach the target; ValueError when an option is malformed."""
        return Connection.parse(headers=(*self.header, *self.identity_headers()),
                                query=self.query,
                                auth_header=self.auth_header, cacert=self.cacert,
                                insecure=self.insecure, proxy=self.proxy)

    def identity_headers(self) -> tuple[str, ...]:
        """--organization and --project as headers ("NAME:VALUE"), as the SDKs send them."""
        return tuple(f"{name}:{value}" for name, value in (
            ("OpenAI-Organization", self.organization), ("OpenAI-Project", self.project))
            if value)

    def secrets(self) -> tuple[str, ...]:
        """What no output may contain: the keys (`credentials.secrets_of`) and the
        connection's secrets."""
        try:
            extra = self.connection().secrets()
        except ValueError:  # malformed: scrub every value given, to be safe
            extra = (*self.header, *self.query, *filter(None, [self.proxy]))
        return tuple(filter(None, (*secrets_of(self.api_key, self.second_api_key), *extra)))

    def with_seed(self) -> RunSettings:
        """These settings with a seed: the given one, else a fresh random one."""
        if self.seed is not None:
            return self
        return dataclasses.replace(self, seed=int.from_bytes(os.urandom(4), "big") >> 1)

    def facts(self, started_at: str = "", duration_s: float = 0.0) -> RunFacts:
        """The header of this run's report."""
        if self.base_url:
            target, kind = redact_url(self.base_url), "external"
        else:
            target = "embedded emulator"
            kind = f"embedded emulator (mutant {self.mutant})" if self.mutant else target
        adapter = self.sdk or (f"driver: {self.sdk_driver}" if self.sdk_driver else "http")
        return RunFacts(target=target, target_kind=kind, profile=self.profile,
                        seed=self.seed if self.seed is not None else 0, adapter=adapter,
                        started_at=started_at, duration_s=duration_s,
                        selection=describe(self.requirements, self.skip),
                        max_examples=self.max_examples)

    def to_wire(self) -> dict[str, Any]:
        """Plain values, for xdist's channel to its workers (see conformance.plugin)."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return {name: str(v) if isinstance(v, Path) else v for name, v in values.items()}

    @classmethod
    def from_wire(cls, values: Mapping[str, Any]) -> RunSettings:
        return cls(**{name: _from_wire(name, v) for name, v in values.items()})


def _from_wire(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in _PATH_FIELDS:
        return Path(value)
    return tuple(value) if isinstance(value, list) else value


_PATH_FIELDS = frozenset({"report_dir", "openapi", "baseline", "write_baseline",
                          "hypothesis_home", "cacert"})


def profile_names() -> Sequence[str]:
    return sorted(PROFILES)


def sdk_names() -> Sequence[str]:
    # Looked up only when a parser is built: the adapters pull in the client and the oracle.
    from conformance.adapters.registry import SDK_CHOICES

    return SDK_CHOICES


# --- the run ---------------------------------------------------------------------------------


def run(settings: RunSettings,
        progress: Callable[[str], None] | Progress | None = None) -> RunReport:
    """Test the target the settings name, write the reports, return the report.

    `progress`, if given, gets a line (ending in a newline) as each of the suite's tests
    ends: what the command line shows while pytest's own output goes to the run's log. A
    `conformance.progress.Progress` of the caller's own chooses how (a live status line,
    the messages of new failures).

    Settings with which no run can be done (a bad value, an unreachable target, an
    unreadable baseline) give a report with exit status 2 and the reason in `errors`. A
    report file that cannot be written raises OSError (its `filename` says which).
    """
    import pytest

    from conformance.plugin import Collector
    from conformance.progress import Progress

    started_at, started = now_iso(), time.monotonic()
    halt.reset()
    health.reset(settings.give_up_after)
    settings = dataclasses.replace(settings.with_seed(), stop_at=None)
    try:
        accepted = read_baseline(settings.baseline) if settings.baseline else None
        _check(settings)
    except ValueError as error:
        return publish(run_failed_report(settings.facts(started_at), str(error)), settings)
    settings = dataclasses.replace(settings, stop_at=time.time() + settings.run_time_limit()
                                   - (time.monotonic() - started))
    with _hypothesis_home(settings) as settings:
        collector = Collector(settings)
        plugins: list[object] = [collector]
        if progress is not None:
            plugins.append(progress if isinstance(progress, Progress) else Progress(progress))
        code = int(pytest.main(_pytest_args(settings), plugins=plugins))
    facts = settings.facts(started_at, round(time.monotonic() - started, 2))
    report = collector.build_report(facts)
    stopped = halt.reason() or ("interrupted" if code == _PYTEST_INTERRUPTED
                                or collector.interrupted else None)
    if report is None:
        why = stopped or f"the suite did not finish (pytest exit {code})"
        return publish(run_failed_report(facts, why), settings)
    if stopped:
        # What ran is reported, but a stopped run is never a verdict on the target.
        report.errors.append(f"stopped early: {stopped}; what did not run is not tested")
        settle(report)
    if accepted is not None:
        apply_baseline(report, accepted, str(settings.baseline))
    report = publish(report, settings)
    # A run that could not be done found too little to accept as a baseline.
    if settings.write_baseline is not None and report.exit_status != EXIT_RUN_FAILED:
        write_baseline(report, settings.write_baseline)
    return report


def publish(report: RunReport, settings: RunSettings) -> RunReport:
    """The report with the API key scrubbed from it, its files written into
    `settings.report_dir` (none when that is None)."""
    from conformance.report import write_reports

    secrets = settings.secrets()
    report = redacted(report, *secrets)
    if settings.report_dir is not None:
        write_reports(report, settings.report_dir, redact=secrets)
    return report


def _check(settings: RunSettings) -> None:
    """SettingsError with the reason when no run can be done with these settings."""
    if settings.profile not in PROFILES:
        raise SettingsError(f"unknown profile {settings.profile!r}; choose from "
                            + ", ".join(profile_names()))
    if settings.workers < 1:
        raise SettingsError("-n must be at least 1")
    for name, value in (("--request-timeout", settings.request_timeout),
                        ("--give-up-after", settings.give_up_after),
                        ("--max-time", settings.max_time)):
        if value is not None and not value > 0:
            raise SettingsError(f"{name} must be a number of seconds above 0")
    if settings.max_examples is not None and settings.max_examples < 1:
        raise SettingsError("--max-examples must be at least 1")
    if settings.replays is not None and settings.replays < 0:
        raise SettingsError("--replays must be 0 or more")
    try:
        settings.selection()
    except ValueError as error:
        raise SettingsError(str(error)) from None
    if settings.rate_limit is not None and not settings.rate_limit >= 0:
        raise SettingsError("--rate-limit must be 0 (no limit) or a number of requests a "
                            "second above 0")
    if settings.openapi is not None and not settings.openapi.is_file():
        raise SettingsError(f"the OpenAPI document {settings.openapi} does not exist")
    if settings.second_api_key is not None and settings.second_api_key == settings.api_key:
        raise SettingsError("--second-api-key must be another tenant's key, not --api-key's")
    if settings.mutant and settings.base_url:
        raise SettingsError("--mutant applies to the embedded emulator; drop --base-url")
    if settings.mutant:
        from conformance.emulator import MUTANTS

        if settings.mutant not in MUTANTS:
            raise SettingsError(f"unknown mutant {settings.mutant!r}; see "
                                "`uploads-conformance serve --list-mutants`")
    _check_adapter(settings)
    _check_connection(settings)
    for test in settings.tests:
        _check_test(test)
    if settings.base_url and not settings.base_url.startswith(("http://", "https://")):
        raise SettingsError(f"--base-url must be an http(s) URL, not {settings.base_url!r}")
    if settings.report_dir is not None:
        _check_report_dir(settings.report_dir)
    if settings.base_url:
        _check_reachable(settings)


def _check_adapter(settings: RunSettings) -> None:
    if settings.sdk and settings.sdk_driver:
        raise SettingsError("give --sdk or --sdk-driver, not both")
    if settings.sdk and settings.sdk not in sdk_names():
        raise SettingsError(f"unknown SDK {settings.sdk!r}; choose from "
                            + ", ".join(sdk_names()))
    if settings.sdk and settings.sdk != "http":
        try:
            import openai
        except ImportError:
            raise SettingsError("--sdk needs the openai package: pip install "
                                "'uploads-conformance[sdk]'") from None
        from conformance.adapters.sdk_capabilities import python_sdk_problem

        problem = python_sdk_problem(openai)  # an SDK without the Uploads API: exit 2
        if problem is not None:
            raise SettingsError(problem)


def _check_connection(settings: RunSettings) -> None:
    try:
        # --organization and --project reach an SDK through its own settings (make_adapter).
        plain = dataclasses.replace(settings, organization=None, project=None).connection()
        settings.connection()
    except ValueError as error:
        raise SettingsError(str(error)) from None
    if plain != DIRECT and (settings.sdk not in (None, "http") or settings.sdk_driver):
        raise SettingsError("--header, --query, --auth-header, --cacert, --insecure and "
                            "--proxy apply to plain HTTP runs; the SDK adapters do not take "
                            "them yet")


# A suite test's node ID: a module of the suite and a test in it, nothing else (a report is
# untrusted input, and a path there must not make pytest import a file of the report's).
_TEST_ID = re.compile(r"(test_[a-z0-9_]+\.py)::[A-Za-z0-9_]+(\[[^\]/\\]*\])?")


def _check_test(test: str) -> None:
    match = _TEST_ID.fullmatch(test)
    if match is None or not (SUITE_INI.parent / match.group(1)).is_file():
        raise SettingsError(f"{test[:200]!r} is not a test of this version of the suite")


def _check_report_dir(report_dir: Path) -> None:
    # Found out before the run, not after it: writing the reports is its last step.
    report_dir.mkdir(parents=True, exist_ok=True)
    if not os.access(report_dir, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(report_dir))


def _check_reachable(settings: RunSettings) -> None:
    from conformance.preflight import check_target

    assert settings.base_url is not None
    check_target(settings.base_url, settings.api_key,
                 timeout=min(10.0, settings.request_timeout), connection=settings.connection())


def _pytest_args(settings: RunSettings) -> list[str]:
    # Only the suite's own configuration: the settings reach the plugin through the
    # collector, so nothing of them (the key least of all) is on any command line.
    args = ["-c", str(SUITE_INI), "--rootdir", str(SUITE_INI.parent)]
    if settings.tests:  # node IDs as a report names them, relative to the suite
        args += [str(SUITE_INI.parent / test) for test in settings.tests]
    else:
        args += ["--pyargs", "conformance.suite"]
    if settings.fail_fast:
        args.append("-x")
    if settings.workers > 1:
        args += ["-n", str(settings.workers)]
    return args


@contextmanager
def _hypothesis_home(settings: RunSettings) -> Iterator[RunSettings]:
    """The settings with a Hypothesis home: the given one, else a private temporary one
    removed afterwards, so that no cache lands in the user's working directory."""
    if settings.hypothesis_home is not None:
        yield settings
        return
    with tempfile.TemporaryDirectory(prefix="uploads-hypothesis-",
                                     ignore_cleanup_errors=True) as home:
        yield dataclasses.replace(settings, hypothesis_home=Path(home))
