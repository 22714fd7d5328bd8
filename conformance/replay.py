"""`uploads-conformance replay REPORT.json`: are a report's findings still there?

Every finding names the suite's test that found it (report.json 1.3, `test`). Replay runs
that test again with the run's seed, profile and `--max-examples`, judging only the
finding's requirement, `--times` times (3 by default), against the report's own target or
another one, and says for each finding:

    FIXED            the requirement held in every replay
    STILL FAILING    it failed in every replay
    FLAKY (n of m)   it failed in some replays and held in others
    NOT REPLAYED     no replay could judge it (the reason is given)

A replay runs the whole test that found the finding, as the run did, so a fix is judged by
the same exploration, not only by the one shrunk example; each replay stops at the
requirement's first failure. Exit status: 0 every finding is fixed; 1 one is still failing
or flaky; 2 nothing could be replayed (an unreadable report, no findings, an unreachable
target).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.options import CONNECTION_OPTIONS, add_options, settings_for_a_report
from conformance.results import Outcome, RunReport
from conformance.run import RunSettings, run

__all__ = ["Replay", "add_replay_arguments", "replay_command", "replay_findings"]

TIMES = 3
# The target options a replay takes from the run's table (one name, type and help each).
_TARGET_OPTIONS = (*CONNECTION_OPTIONS, "second_api_key", "mutant", "give_up_after", "sdk",
                   "sdk_driver")
_EXTERNAL = "external"
_MUTANT_KIND = "embedded emulator (mutant "


@dataclass(slots=True)
class Replay:
    """One finding's replays: which failed, which held, which could not judge it."""

    requirement: str
    test: str  # "" for a report older than 1.3: the whole suite runs
    message: str  # the finding's, from the report
    failed: int = 0
    held: int = 0
    unjudged: list[str] = field(default_factory=list)  # why a replay could not judge it
    messages: list[str] = field(default_factory=list)  # the failures' messages, new

    @property
    def verdict(self) -> str:
        judged = self.failed + self.held
        if judged == 0:
            return "NOT REPLAYED"
        if self.failed == 0:
            return "FIXED"
        if self.held == 0:
            return "STILL FAILING"
        return f"FLAKY ({self.failed} of {judged})"

    def to_dict(self) -> dict[str, Any]:
        return {"requirement": self.requirement, "test": self.test, "message": self.message,
                "verdict": self.verdict, "failed": self.failed, "held": self.held,
                "unjudged": self.unjudged, "new_messages": self.messages}


def findings_to_replay(report: RunReport, only: tuple[str, ...] = ()) -> list[Replay]:
    """One replay per requirement and test among the report's findings (two findings of
    one requirement from one test are judged by the same replays)."""
    wanted = {item.upper() for item in only}
    replays: dict[tuple[str, str], Replay] = {}
    for result in report.requirements:
        if wanted and result.id not in wanted:
            continue
        for finding in result.failures:
            key = (finding.requirement, finding.test)
            replays.setdefault(key, Replay(finding.requirement, finding.test, finding.message))
    return list(replays.values())


def replay_findings(report: RunReport, settings: RunSettings, replays: list[Replay],
                    times: int = TIMES,
                    progress: Callable[[str], None] | None = None) -> list[Replay]:
    """Replays each finding `times` times against the target `settings` name, with the
    report's profile and seed; the replays, counted."""
    for replay in replays:
        chosen = dataclasses.replace(
            settings, report_dir=None, profile=report.profile, seed=report.seed,
            max_examples=report.max_examples,
            requirements=replay.requirement, tests=(replay.test,) if replay.test else (),
            fail_fast=True, workers=1, baseline=None, write_baseline=None)
        for _ in range(times):
            _judge(replay, run(chosen))
        if progress is not None:
            progress(_line(replay, times))
    return replays


def _judge(replay: Replay, report: RunReport) -> None:
    if report.errors:
        replay.unjudged.append(report.errors[0])
        return
    result = next(r for r in report.requirements if r.id == replay.requirement)
    if result.status is Outcome.FAIL:
        replay.failed += 1
        replay.messages.extend(f.message for f in result.failures[:1])
    elif result.status is Outcome.PASS:
        replay.held += 1
    else:
        replay.unjudged.append(result.not_testable_reason or f"it was {result.status.value}")


def _line(replay: Replay, times: int) -> str:
    counted = f"{replay.failed} of {times} failed"
    where = replay.test or "the whole suite"
    line = f"  {replay.verdict:<16} {counted:<14} {replay.requirement}  {where}\n"
    if replay.failed:
        line += f"      now: {_one_line(replay.messages[0])}\n"
    if replay.unjudged:
        line += (f"      not judged {len(replay.unjudged)} time(s): "
                 f"{_one_line(replay.unjudged[0])}\n")
    return line


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def exit_status(replays: list[Replay]) -> int:
    """0 every finding fixed; 1 one still failing or flaky; 2 one could not be replayed."""
    verdicts = [r.verdict for r in replays]
    if any(v == "STILL FAILING" or v.startswith("FLAKY") for v in verdicts):
        return 1
    return 0 if verdicts and all(v == "FIXED" for v in verdicts) else 2


# --- the command -----------------------------------------------------------------------------


def add_replay_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("report", type=Path, metavar="REPORT.json",
                        help="the report.json whose findings to replay")
    parser.add_argument("--finding", action="append", default=None, metavar="ID",
                        help="replay only the findings of this requirement (repeatable)")
    parser.add_argument("--times", type=int, default=TIMES, metavar="N",
                        help=f"replays of each finding (default: {TIMES})")
    parser.add_argument("--embedded", action="store_true",
                        help="replay against a fresh embedded emulator (the clean one, or "
                        "--mutant's), not the report's target")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="write replay.json there")
    add_options(parser, _TARGET_OPTIONS)


def target_settings(report: RunReport, values: dict[str, Any], embedded: bool,
                    environ: dict[str, str]) -> RunSettings:
    """The target to replay against: the options', else the report's own (its URL, or
    the embedded emulator with the report's mutant)."""
    given = {name: values.get(name) for name in _TARGET_OPTIONS}
    settings = settings_for_a_report(given, environ)
    if settings.base_url or settings.mutant or embedded:
        return settings
    if report.target_kind == _EXTERNAL:
        return dataclasses.replace(settings, base_url=report.target)
    if report.target_kind.startswith(_MUTANT_KIND):
        return dataclasses.replace(settings, mutant=report.target_kind[len(_MUTANT_KIND):-1])
    return settings


def replay_command(args: argparse.Namespace) -> int:
    from conformance.cli import RUN_LOG, user_error
    from conformance.console_capture import captured_output
    from conformance.evidence import Redactor, redact_url
    from conformance.report import ReportError, load_report

    try:
        report = load_report(args.report)
    except ReportError as error:
        return user_error(str(error))
    if args.times < 1:
        return user_error("--times must be at least 1")
    replays = findings_to_replay(report, tuple(args.finding or ()))
    if not replays:
        which = " of " + ", ".join(args.finding) if args.finding else ""
        return user_error(f"{args.report} has no findings{which} to replay")
    settings = target_settings(report, vars(args), args.embedded, dict(os.environ))
    target = redact_url(settings.base_url) if settings.base_url else "the embedded emulator" \
        + (f" (mutant {settings.mutant})" if settings.mutant else "")
    log = args.out / RUN_LOG.replace("run", "replay") if args.out is not None else None
    with captured_output(log, Redactor(*settings.secrets())) as console:
        console.write(f"uploads-conformance replay: {len(replays)} finding(s) of {args.report}"
                      f" against {target}, {args.times} time(s) each (profile {report.profile}"
                      f", seed {report.seed})\n")
        replay_findings(report, settings, replays, args.times, progress=console.write)
    status = exit_status(replays)
    counts = {v: sum(r.verdict.split(" (")[0] == v for r in replays)
              for v in ("STILL FAILING", "FLAKY", "FIXED", "NOT REPLAYED")}
    print("replay: " + ", ".join(f"{n} {v.lower()}" for v, n in counts.items() if n)
          + f" (exit {status})")
    if args.out is not None:
        document = {"report": str(args.report), "target": target, "times": args.times,
                    "exit_status": status, "findings": [r.to_dict() for r in replays]}
        text = Redactor(*settings.secrets()).text(json.dumps(document, indent=2))
        (args.out / "replay.json").write_text(text + "\n", encoding="utf-8")
    return status

