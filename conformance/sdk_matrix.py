"""The SDK version matrix: the suite run through each SDK version, one column each.

`plan_columns` turns the versions asked for into columns (a Python version once per client,
sync and async; a Node version once); `run_column` installs the column's SDK in its own
environment (`conformance.sdk_envs`), runs `uploads-conformance run` through it as a child
process with its reports in OUT/<column>, and returns the column's report. A column whose
SDK could not be installed, or whose run wrote no report, still gets a report.json, with
exit status 2 and the reason, so that the comparison (`conformance.compare_command`) shows
it as a column saying so. The command line is `conformance.sdk_matrix_command`.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from conformance import requirements
from conformance.credentials import SECOND_KEY_VARIABLE
from conformance.evidence import Redactor
from conformance.options import OPTIONS, settings_from_options
from conformance.recorder import Recorder
from conformance.report.json_report import ReportError, load_report
from conformance.reporting import build_report, now_iso
from conformance.results import RunReport, Untested
from conformance.run import RunSettings, publish
from conformance.sdk_envs import Environment, InstallFailed, node_environment, python_environment

__all__ = ["CLIENTS", "Column", "ColumnRun", "Installers", "RunOptions", "child_command",
           "plan_columns", "run_column"]

CLIENTS: Final = ("sync", "async")  # the Python SDK's two clients: OpenAI, AsyncOpenAI
# Past the run's own deadline, how long its child may take before it is stopped: the run
# stops itself at its deadline, so this only catches a child that hangs.
DEADLINE_MARGIN_S: Final = 120.0
STOP_GRACE_S: Final = 30.0  # after SIGTERM, for the run to write what it has
CONSOLE_LOG: Final = "console.log"  # the child's terminal output, redacted, in its folder
# Set by the matrix for each column, so not among the run options after `--`.
_OWN_OPTIONS: Final = {"sdk": "--python / --node", "sdk_driver": "--node and --node-driver",
                       "report_dir": "--out", "write_baseline": "one run's baseline"}
# Secrets go to each run in its environment, never on its command line.
_SECRET_VARIABLES: Final = {"api_key": "OPENAI_API_KEY", "second_api_key": SECOND_KEY_VARIABLE}


@dataclass(frozen=True, slots=True)
class Column:
    """One SDK version through one of its clients."""

    language: str  # "python" or "node"
    version: str
    client: str = "sync"  # Python: "sync" or "async"; Node: "sync" (one client)

    @property
    def sdk(self) -> str:
        """The SDK as the run's adapter names it (`--sdk`, or the Node driver's name)."""
        if self.language == "node":
            return "openai-node"
        return "openai-python-async" if self.client == "async" else "openai-python"

    @property
    def name(self) -> str:
        """Its folder under OUT: python-1.37.0, python-async-1.37.0, node-6.49.0."""
        prefix = "python-async" if self.sdk == "openai-python-async" else self.language
        return f"{prefix}-{self.version}"

    @property
    def label(self) -> str:
        return f"{self.sdk} {self.version}"


@dataclass(frozen=True, slots=True)
class ColumnRun:
    """What a column gave: its report (written at `path`), and how it was got."""

    column: Column
    report: RunReport
    path: Path  # its report.json
    install: str  # "cached", "installed in 4.2 s", or why it could not be installed
    installed: bool
    ran: bool  # its run wrote a report (not a stand-in written here)
    seconds: float  # the run's time, the child's start to its end


@dataclass(frozen=True, slots=True)
class RunOptions:
    """The run options given after `--`, as each column's run gets them."""

    arguments: tuple[str, ...]  # for `run`'s command line: no secret among them
    settings: RunSettings  # what they make: the target and seed to announce, the secrets

    @classmethod
    def parse(cls, given: Sequence[str]) -> RunOptions:
        """Checked as `run` checks them (ValueError, one line, if they are not right); the
        seed always given, a fresh one if none was, so that every column sees the same
        generated sequence."""
        from conformance.cli import add_run_arguments

        tokens = list(given[1:] if given[:1] == ["--"] else given)
        parser = _RunOptionsParser(prog="uploads-conformance sdk-matrix ... --",
                                   add_help=False)
        add_run_arguments(parser)
        values = parser.parse_args(tokens)
        for name, instead in _OWN_OPTIONS.items():
            if getattr(values, name, None) is not None:
                flag = "--" + name.replace("_", "-")
                raise ValueError(f"{flag} is set by the matrix for each column ({instead}); "
                                 "leave it out of the run options")
        settings = settings_from_options(vars(values), os.environ).with_seed()
        arguments: list[str] = []
        for option in OPTIONS:  # the one table of a run's options, so that none is missed
            value = getattr(values, option.name, None)
            if value is None or value is False or option.name in _SECRET_VARIABLES \
                    or option.name in _OWN_OPTIONS or option.name == "seed":  # 0 is a value
                continue
            flag = option.flags[-1]
            if option.type is None:
                arguments.append(flag)
            else:
                for item in value if option.repeat else [value]:
                    arguments += [flag, str(item)]
        arguments += ["--seed", str(settings.seed)]
        arguments += ["-q"] if values.quiet else ["-v"] if values.verbose else []
        return cls(tuple(arguments), settings)

    def environment(self) -> dict[str, str]:
        """The runs' environment: this one, with the secrets given as options in their
        variables, where `run` reads them."""
        env = dict(os.environ)
        for name, variable in _SECRET_VARIABLES.items():
            value = getattr(self.settings, name)
            if value:
                env[variable] = value
        return env


class _RunOptionsParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise ValueError(f"in the run options after --: {message}")


def plan_columns(python: Sequence[str], node: Sequence[str],
                 clients: Sequence[str]) -> list[Column]:
    """The columns in the order asked: each Python version for each client, then Node."""
    return ([Column("python", version, client) for version in python for client in clients]
            + [Column("node", version) for version in node])


class Installers:
    """How columns get their environment: one install per SDK version, whatever the
    number of clients run through it (a failed one is not tried twice)."""

    def __init__(self, cache: Path, node_driver: Path | None = None, node: str = "node",
                 npm: str = "npm") -> None:
        self.cache, self.node_driver, self.node, self.npm = cache, node_driver, node, npm
        self._made: dict[tuple[str, str], Environment | InstallFailed] = {}

    def environment(self, column: Column) -> Environment:
        key = (column.language, column.version)
        if key not in self._made:
            try:
                if column.language == "python":
                    self._made[key] = python_environment(column.version, self.cache)
                else:
                    assert self.node_driver is not None, "a Node column needs the driver"
                    self._made[key] = node_environment(column.version, self.cache,
                                                       self.node_driver, self.node, self.npm)
            except InstallFailed as failure:
                self._made[key] = failure
        made = self._made[key]
        if isinstance(made, InstallFailed):
            raise made
        return made


def child_command(column: Column, environment: Environment, run_args: Sequence[str],
                  report_dir: Path) -> list[str]:
    """`uploads-conformance run` through the column's SDK: with the environment's Python
    for a Python SDK, with this one and the driver for a Node SDK. No secret in it: the
    key travels in the child's environment ($OPENAI_API_KEY), not on a command line any
    process list shows."""
    if column.language == "python":
        assert environment.python is not None
        head = [str(environment.python), "-m", "conformance.cli", "run", "--sdk", column.sdk]
    else:
        assert environment.driver is not None
        head = [sys.executable, "-m", "conformance.cli", "run",
                "--sdk-driver", environment.driver]
    return [*head, *run_args, "--report-dir", str(report_dir)]


def run_column(column: Column, installers: Installers, options: RunOptions, *, out: Path,
               time_limit: float) -> ColumnRun:
    """Install the column's SDK (or reuse it), run the suite through it with `options`,
    and return its report; `time_limit` is the run's own deadline in seconds."""
    settings = options.settings
    folder = out / column.name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").unlink(missing_ok=True)  # an older matrix's is not this run's
    mine = dataclasses.replace(settings, report_dir=folder)
    try:
        environment = installers.environment(column)
    except InstallFailed as failure:
        report = _stand_in(column, mine, f"{column.label} could not be installed",
                           f"{column.label} could not be installed: {failure}")
        return ColumnRun(column, report, folder / "report.json",
                         str(failure), installed=False, ran=False, seconds=0.0)
    started = time.monotonic()
    code, tail = _run_child(child_command(column, environment, options.arguments, folder),
                            folder / CONSOLE_LOG, options.environment(),
                            Redactor(*settings.secrets()), time_limit + DEADLINE_MARGIN_S)
    seconds = time.monotonic() - started
    try:
        report = load_report(folder / "report.json")
    except ReportError:
        why = "it did not finish in time" if code is None else f"exit {code}"
        report = _stand_in(column, mine, f"the run through {column.label} wrote no report",
                           f"the run through {column.label} wrote no report ({why}): {tail}")
        return ColumnRun(column, report, folder / "report.json",
                         environment.how, installed=True, ran=False, seconds=seconds)
    return ColumnRun(column, report, folder / "report.json", environment.how,
                     installed=True, ran=True, seconds=seconds)


def _run_child(command: list[str], log: Path, env: Mapping[str, str], redactor: Redactor,
               timeout: float) -> tuple[int | None, str]:
    """The child's exit status (None: stopped past `timeout`) and its last output line;
    its whole output, redacted, into `log`.

    The child runs in a session of its own, so that stopping it (past the timeout, or
    when this command is interrupted) stops its workers and its driver too; it is asked
    with SIGTERM first, so that it still writes its reports, marked interrupted.
    """
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, env=dict(env), text=True,
                               errors="replace", start_new_session=True)
    code: int | None = None
    try:
        output, _ = process.communicate(timeout=timeout)
        code = process.returncode
    except subprocess.TimeoutExpired:
        _stop_group(process)
        output, _ = process.communicate()
    except BaseException:  # interrupted: the child's run ends too, with its reports
        _stop_group(process)
        process.communicate()
        raise
    output = redactor.text(output)
    log.write_text(output)
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return code, (lines[-1][:300] if lines else "no output")


def _stop_group(process: subprocess.Popen[str]) -> None:
    for sig, wait in ((signal.SIGTERM, STOP_GRACE_S), (signal.SIGKILL, None)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _stand_in(column: Column, settings: RunSettings, why: str, error: str) -> RunReport:
    """The report of a column that has no run's report: every requirement not tested
    because of `why`, and exit status 2 for `error` (the whole reason); written into the
    column's folder like a run's."""
    recorder = Recorder()
    for requirement_id in requirements.CATALOG:
        recorder.cannot_test(requirement_id, f"not run: {why}", Untested.INCOMPLETE)
    report = build_report(recorder, [error], settings.facts(now_iso()))
    sdk = "openai (Python)" if column.language == "python" else "openai-node"
    report.versions.update(adapter=column.sdk, sdk=sdk, sdk_version=column.version)
    report.adapter = column.sdk if column.language == "python" else f"driver ({sdk})"
    return publish(report, settings)
