"""Running the suite: `RunSettings`, the one table of their options, and `run()`.

    from conformance import RunSettings, run
    report = run(RunSettings(base_url="http://127.0.0.1:8000/v1", api_key=key))

`run` checks the settings, runs the suite's pytest modules in this process with a
`conformance.plugin.Collector` as a plugin instance, builds the `RunReport` once (start
time, duration, baseline) and writes the four reports once. `OPTIONS` is the one table
from which both the command line (`--base-url`) and the pytest plugin (`--uploads-base-url`)
are built, so a setting has one name, one type and one help text.
"""

from __future__ import annotations

import dataclasses
import errno
import os
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
from conformance.evidence import redact_url
from conformance.profiles import PROFILES
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

if TYPE_CHECKING:
    from conformance.client import TargetClient

__all__ = ["OPTIONS", "Option", "RunSettings", "SettingsError", "publish", "run",
           "settings_from_options"]

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
    cacert: Path | None = None  # verify the target's TLS certificate against this bundle
    insecure: bool = False  # do not verify it at all
    proxy: str | None = field(default=None, repr=False)  # an http(s) proxy URL
    hypothesis_home: Path | None = None  # Hypothesis's caches; run(): a private temp dir
    stop_at: float | None = None  # run(): when --max-time passes (unix time), for workers

    def run_time_limit(self) -> float:
        return self.max_time if self.max_time is not None else PROFILES[self.profile].max_time_s

    def requests_per_second(self) -> float | None:
        rate = self.rate_limit if self.rate_limit is not None else \
            PROFILES[self.profile].rate_limit
        return rate or None

    def connection(self) -> Connection:
        """How requests reach the target; ValueError when an option is malformed."""
        return Connection.parse(headers=self.header, query=self.query,
                                auth_header=self.auth_header, cacert=self.cacert,
                                insecure=self.insecure, proxy=self.proxy)

    def secrets(self) -> tuple[str, ...]:
        """What no output may contain: the key and the connection's secrets."""
        try:
            extra = self.connection().secrets()
        except ValueError:  # malformed: scrub every value given, to be safe
            extra = (*self.header, *self.query, *filter(None, [self.proxy]))
        return tuple(filter(None, (self.api_key, *extra)))

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
                        started_at=started_at, duration_s=duration_s)

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


# --- the options: one table for the command line and the pytest plugin ----------------------


def _profile_names() -> Sequence[str]:
    return sorted(PROFILES)


def _sdk_names() -> Sequence[str]:
    # Looked up only when a parser is built: the adapters pull in the client and the oracle.
    from conformance.adapters.registry import SDK_CHOICES

    return SDK_CHOICES


@dataclass(frozen=True, slots=True)
class Option:
    """A setting as `uploads-conformance run --NAME` and the plugin's `--uploads-NAME` take it."""

    name: str  # the RunSettings field it sets
    help: str
    type: Callable[[str], Any] | None = str  # None: a switch that takes no value
    choices: Callable[[], Sequence[str]] | None = None
    metavar: str | None = None
    short: str | None = None  # the command line's short flag
    env: str | None = None  # read when the option is not given, as the official SDKs do
    in_plugin: bool = True  # offered by the pytest plugin too
    repeat: bool = False  # may be given more than once; the values make a tuple

    @property
    def flags(self) -> list[str]:
        long = "--" + self.name.replace("_", "-")
        return [self.short, long] if self.short else [long]

    @property
    def plugin_flag(self) -> str:
        return "--uploads-" + self.name.replace("_", "-")

    @property
    def plugin_dest(self) -> str:
        return "uploads_" + self.name

    def parser_arguments(self) -> dict[str, Any]:
        """Keyword arguments for argparse's or pytest's `add_argument` / `addoption`.

        Every default is None (False for a switch): RunSettings holds the defaults.
        """
        if self.type is None:
            return {"action": "store_true", "help": self.help}
        arguments: dict[str, Any] = {"type": self.type, "default": None, "help": self.help}
        if self.repeat:
            arguments["action"] = "append"
        if self.choices is not None:
            arguments["choices"] = list(self.choices())
        if self.metavar is not None:
            arguments["metavar"] = self.metavar
        return arguments


OPTIONS: tuple[Option, ...] = (
    Option("base_url", "the target, e.g. http://127.0.0.1:8000/v1 (default: $OPENAI_BASE_URL; "
           "without either, an embedded emulator)", metavar="URL", env="OPENAI_BASE_URL"),
    Option("api_key", "the target's API key (default: $OPENAI_API_KEY); never written to a "
           "report", metavar="KEY", env="OPENAI_API_KEY"),
    Option("report_dir", "write report.json, junit.xml, report.md and report.html here "
           "(default: reports/; under pytest, only when given)", type=Path, metavar="DIR"),
    Option("profile", "how much to try (default: quick)", choices=_profile_names),
    Option("seed", "reproduce an earlier run", type=int, metavar="N"),
    # pytest-xdist has its own -n under pytest.
    Option("workers", "run the suite's tests on this many pytest-xdist workers", type=int,
           metavar="WORKERS", short="-n", in_plugin=False),
    Option("openapi", "OpenAPI document for the schema checks (default: the project's)",
           type=Path, metavar="PATH"),
    Option("baseline", "accepted deviations: their failures do not fail the run", type=Path,
           metavar="FILE", in_plugin=False),
    Option("write_baseline", "write this run's failed requirements as a baseline file",
           type=Path, metavar="FILE", in_plugin=False),
    Option("fail_fast", "stop at the first MUST failure", type=None),
    Option("sdk", "run the operations through this SDK (default: plain HTTP)",
           choices=_sdk_names),
    Option("sdk_driver", "run the operations through a driver program for another "
           "language's SDK (docs/sdk-drivers.md)", metavar="COMMAND"),
    Option("mutant", "test the embedded emulator with this mutant switched on",
           metavar="NAME"),
    Option("request_timeout", "seconds one exchange may take, connect to last byte, plus "
           "one for each MiB sent or received (default: 30)", type=float, metavar="SECONDS"),
    Option("give_up_after", "seconds of the run a misbehaving target may waste (requests "
           "without an answer, retry waits on 429/503) before the run stops with exit 2 "
           f"(default: {LOST_BUDGET_S:g})", type=float, metavar="SECONDS"),
    Option("max_time", "seconds the whole run may take; past them it stops, reports what "
           "it has and exits 2 (default: the profile's, 300 for quick)", type=float,
           metavar="SECONDS"),
    Option("rate_limit", "send at most this many requests a second (default: the "
           "profile's, 2 for real-api, else no limit; 0: no limit)", type=float,
           metavar="PER_SECOND"),
    Option("header", "send this header with every request (repeatable; its value is "
           "treated as a secret)", metavar="NAME:VALUE", repeat=True),
    Option("query", "add this parameter to every request's URL, e.g. api-version=2024-10-21 "
           "(repeatable)", metavar="NAME=VALUE", repeat=True),
    Option("auth_header", "send the key in this header as it is (e.g. api-key), not as "
           "Authorization: Bearer KEY", metavar="NAME"),
    Option("cacert", "verify the target's TLS certificate against this CA bundle (PEM)",
           type=Path, metavar="FILE"),
    Option("insecure", "do not verify the target's TLS certificate", type=None),
    Option("proxy", "send the requests through this http(s) proxy", metavar="URL"),
)


def settings_from_options(values: Mapping[str, Any], environ: Mapping[str, str]) -> RunSettings:
    """RunSettings from parsed options, keyed by field name. An option that was not given
    falls back to its environment variable (OPENAI_BASE_URL, OPENAI_API_KEY), then to the
    RunSettings default."""
    given: dict[str, Any] = {}
    for option in OPTIONS:
        value = values.get(option.name)
        if value is None and option.env is not None:
            value = environ.get(option.env) or None
        if value is not None:
            given[option.name] = tuple(value) if option.repeat else value
    return RunSettings(**given)


# --- the run ---------------------------------------------------------------------------------


def run(settings: RunSettings, progress: Callable[[str], None] | None = None) -> RunReport:
    """Test the target the settings name, write the reports, return the report.

    `progress`, if given, gets a line (ending in a newline) as each of the suite's tests
    ends: what the command line shows while pytest's own output goes to the run's log.

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
            plugins.append(Progress(progress))
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
    """The report with the API key scrubbed from it, its four files written into
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
                            + ", ".join(_profile_names()))
    if settings.workers < 1:
        raise SettingsError("-n must be at least 1")
    for name, value in (("--request-timeout", settings.request_timeout),
                        ("--give-up-after", settings.give_up_after),
                        ("--max-time", settings.max_time)):
        if value is not None and not value > 0:
            raise SettingsError(f"{name} must be a number of seconds above 0")
    if settings.rate_limit is not None and not settings.rate_limit >= 0:
        raise SettingsError("--rate-limit must be 0 (no limit) or a number of requests a "
                            "second above 0")
    if settings.openapi is not None and not settings.openapi.is_file():
        raise SettingsError(f"the OpenAPI document {settings.openapi} does not exist")
    if settings.mutant and settings.base_url:
        raise SettingsError("--mutant applies to the embedded emulator; drop --base-url")
    if settings.mutant:
        from conformance.emulator import MUTANTS

        if settings.mutant not in MUTANTS:
            raise SettingsError(f"unknown mutant {settings.mutant!r}; see "
                                "`uploads-conformance serve --list-mutants`")
    _check_adapter(settings)
    _check_connection(settings)
    if settings.base_url and not settings.base_url.startswith(("http://", "https://")):
        raise SettingsError(f"--base-url must be an http(s) URL, not {settings.base_url!r}")
    if settings.report_dir is not None:
        _check_report_dir(settings.report_dir)
    if settings.base_url:
        _check_reachable(settings)


def _check_adapter(settings: RunSettings) -> None:
    if settings.sdk and settings.sdk_driver:
        raise SettingsError("give --sdk or --sdk-driver, not both")
    if settings.sdk and settings.sdk not in _sdk_names():
        raise SettingsError(f"unknown SDK {settings.sdk!r}; choose from "
                            + ", ".join(_sdk_names()))
    if settings.sdk and settings.sdk != "http":
        try:
            import openai  # noqa: F401
        except ImportError:
            raise SettingsError("--sdk needs the openai package: pip install "
                                "'uploads-conformance[sdk]'") from None


def _check_connection(settings: RunSettings) -> None:
    try:
        connection = settings.connection()
    except ValueError as error:
        raise SettingsError(str(error)) from None
    if connection != DIRECT and (settings.sdk not in (None, "http") or settings.sdk_driver):
        raise SettingsError("--header, --query, --auth-header, --cacert, --insecure and "
                            "--proxy apply to plain HTTP runs; the SDK adapters do not take "
                            "them yet")


def _check_report_dir(report_dir: Path) -> None:
    # Found out before the run, not after it: writing the reports is its last step.
    report_dir.mkdir(parents=True, exist_ok=True)
    if not os.access(report_dir, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(report_dir))


def _check_reachable(settings: RunSettings) -> None:
    from conformance.client import TargetClient, TargetUnreachable

    assert settings.base_url is not None
    api_key = settings.api_key
    try:
        with TargetClient(settings.base_url, api_key, max_retries=1,
                          timeout=min(10.0, settings.request_timeout),
                          connection=settings.connection()) as client:
            client.check_reachable()
            if api_key is not None:
                _check_key_accepted(client)
    except TargetUnreachable as error:
        raise SettingsError(str(error)) from None
    except halt.RunHalted as stopped:  # it wasted the budget before any test, or a signal
        raise SettingsError(f"the target could not be tested: {stopped}") from None


def _check_key_accepted(client: TargetClient) -> None:
    """A run whose every request the target refuses with 401 tests nothing: say so first.

    One harmless request with the key (cancelling an upload that was never issued) tells:
    a target that takes the key answers it with a refusal of the ID (or anything else), and
    only one that refuses the key answers 401. (A rotated CI secret is the usual cause.)
    """
    from conformance.api import CANCEL

    answer = client.request("POST", CANCEL.path("upload_uploads_conformance_key_check"))
    if answer.status == 401:
        raise SettingsError(
            "the target refused the API key with 401 (a request with it to "
            f"{CANCEL.path('upload_…')}): check --api-key or OPENAI_API_KEY; nothing was tested")


def _pytest_args(settings: RunSettings) -> list[str]:
    # Only the suite's own configuration: the settings reach the plugin through the
    # collector, so nothing of them (the key least of all) is on any command line.
    args = ["-c", str(SUITE_INI), "--rootdir", str(SUITE_INI.parent),
            "--pyargs", "conformance.suite"]
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
