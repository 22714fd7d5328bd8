"""Every failure carries a replay verdict measured in its own run, and a target that answers a
replay differently no longer ends the exploration.

The flaky targets (tests/support/flaky_targets.py) are the reference emulator with one fault
that a replay may see differently: every second upload lands on a replica that takes parts
after the end, each create is answered with the filename of the create before it
(deterministic, given the steps that show it), or parts after the end are taken while the
test's switch says so (a verdict the test decides)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from conformance import engine
from conformance.adapters.http import HttpAdapter
from conformance.exerciser import scenario
from conformance.reproduction import measure
from conformance.results import Finding, Outcome, Reproduction
from conformance.run import RunSettings, run
from conformance.target import Target
from tests.support.adapter_helpers import API_KEY, FAST, run_machine, target_with
from tests.support.cli import mutant_report_dir
from tests.support.flaky_targets import (
    Switch,
    alternating_replicas_app,
    stale_echo_app,
    switchable_leak_app,
)
from tests.support.serving import serve_app

# Shrinking run to its end: the shrunk example, and so its replays, depend on the seed alone.
WHOLE_SHRINK = dataclasses.replace(FAST, shrink_seconds=60)


@contextmanager
def _target(app: Any) -> Iterator[Target]:
    with serve_app(app) as base_url, \
            target_with(base_url, lambda url, client, rec: HttpAdapter(client)) as target:
        target.profile = WHOLE_SHRINK
        yield target


def _failure(target: Target, requirement: str) -> Finding:
    found = [f for f in target.recorder.failures if f.requirement == requirement]
    assert found, f"{requirement} did not fail: {[f.requirement for f in target.recorder.failures]}"
    return found[0]


def test_a_target_that_answers_replays_differently_does_not_end_the_exploration() -> None:
    with _target(alternating_replicas_app(API_KEY)) as target:
        failed = run_machine(target, examples=40)
        finding = _failure(target, "PART-AFTER-END")
        observed = target.recorder.observations.get("OPEN-NONDETERMINISM", {})
    assert failed == {"PART-AFTER-END"}
    assert not observed, observed  # Hypothesis never gave up on the draws
    replay = finding.replay  # how often depends on which replica each replay lands on
    assert replay is not None and replay.tries == WHOLE_SHRINK.replays
    assert replay.reproduced >= 1, replay.label


def test_a_machine_finding_that_comes_back_in_two_replays_of_three_is_flaky_2_of_3(
        monkeypatch: pytest.MonkeyPatch) -> None:
    switch = Switch()
    real_measure = engine.measure

    def measure_switching(target: Target, findings: list[Finding], once: Callable[[], None],
                          tries: int) -> None:
        turns = iter([True, False, True])  # the fault is there in the 1st and 3rd replays

        def switched() -> None:
            switch.leaking = next(turns)
            once()

        real_measure(target, findings, switched, tries)

    monkeypatch.setattr(engine, "measure", measure_switching)
    with _target(switchable_leak_app(API_KEY, switch)) as target:
        run_machine(target, examples=40)
        finding = _failure(target, "PART-AFTER-END")
    # The shrunk example's own steps, replayed: the same steps each time, so its verdict
    # follows the switch exactly.
    assert finding.replay == Reproduction(2, 3)
    assert finding.replay.label == "flaky (2 of 3)"


def test_a_deterministic_fault_that_needs_earlier_steps_is_measured_deterministic() -> None:
    with _target(stale_echo_app(API_KEY)) as target:
        run_machine(target, examples=40)
        finding = _failure(target, "CREATE-VALID")
    assert finding.replay == Reproduction(WHOLE_SHRINK.replays, WHOLE_SHRINK.replays)
    assert finding.replay.label == f"deterministic ({WHOLE_SHRINK.replays} of 3)"


def test_a_scenario_replayed_counts_only_the_replays_where_its_requirement_failed_again(
        emulator: Any) -> None:
    with target_with(emulator.base_url, lambda url, client, rec: HttpAdapter(client)) as target:
        calls = iter(range(10))

        def once() -> None:  # fails CREATE-VALID on the 2nd call only, OBJECT-UPLOAD never
            with scenario(target, "flaky scenario"):
                if next(calls) == 1:
                    target.checker.fail("CREATE-VALID", "made up")
                target.checker.ok("OBJECT-UPLOAD")

        source = "scenario: flaky scenario"
        found = [Finding("CREATE-VALID", Outcome.FAIL, "first", source=source),
                 Finding("NO-SERVER-ERROR", Outcome.FAIL, "other", source=source)]
        measure(target, found, once, tries=3)
        assert [f.replay for f in found] == [Reproduction(1, 3), Reproduction(0, 3)]
        # What the replays saw added nothing to the run's own record.
        assert target.recorder.failures == [] and "OBJECT-UPLOAD" not in target.recorder.passes


@pytest.mark.parametrize(("replay", "label"), [
    (Reproduction(3, 3), "deterministic (3 of 3)"),
    (Reproduction(1, 3), "flaky (1 of 3)"),
    (Reproduction(0, 1), "not reproduced (0 of 1)"),
    (Reproduction(0, 0, "the run was stopped"), "not replayed (the run was stopped)"),
])
def test_a_replay_reads_as_its_counts_say(replay: Reproduction, label: str) -> None:
    assert replay.label == label
    assert Reproduction.from_dict(replay.to_dict()) == replay


def test_every_failure_of_a_mutant_run_carries_its_replay_verdict_in_every_report(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    folder: Path = mutant_report_dir(tmp_path_factory.getbasetemp())
    report = json.loads((folder / "report.json").read_text())
    failures = [f for r in report["requirements"] for f in r["failures"]]
    assert failures
    for finding in failures:
        assert "replay" in finding, finding["requirement"]
    md5 = [f for f in failures if f["requirement"] == "COMPLETE-MD5"]
    assert md5 and all(f["replay"]["reproduced"] == f["replay"]["tries"] > 0 for f in md5)
    for name in ("report.md", "report.html", "junit.xml"):
        assert "deterministic (" in (folder / name).read_text(), name


def test_replays_0_replays_nothing_and_each_finding_says_so(emulator: Any) -> None:
    settings = RunSettings(replays=0)
    assert settings.run_profile().replays == 0
    with target_with(emulator.base_url, lambda url, client, rec: HttpAdapter(client)) as target:
        calls: list[None] = []
        found = [Finding("CREATE-VALID", Outcome.FAIL, "first", source="scenario: s")]
        measure(target, found, lambda: calls.append(None), tries=0)
    assert calls == [] and found[0].replay == Reproduction(0, 0, "--replays 0")
    assert found[0].replay.label == "not replayed (--replays 0)"
    assert run(RunSettings(replays=-1, report_dir=None)).errors == ["--replays must be 0 or more"]
