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
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance import halt
from conformance.client.connection import Connection
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
from conformance.run_checks import SettingsError, check_settings, profile_names, sdk_names
from conformance.selection import Selection, describe

if TYPE_CHECKING:
    from conformance.progress import Progress

__all__ = ["RunSettings", "SettingsError", "profile_names", "publish", "run", "sdk_names"]

SUITE_INI = Path(__file__).parent / "suite" / "pytest.ini"
# pytest's exit code when a session was interrupted (Ctrl-C, or `-x` before any test ran).
_PYTEST_INTERRUPTED = 2


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
        check_settings(settings)
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
