"""Replay's bookkeeping: which findings are replayed together, the verdict its counts give,
the exit status, and which target a replay goes to."""

from __future__ import annotations

import pytest

from conformance.replay import Replay, exit_status, findings_to_replay, target_settings
from conformance.results import Finding, Outcome, RequirementResult, RunReport


def _report(kind: str = "embedded emulator", target: str = "embedded emulator") -> RunReport:
    def failed(rid: str, *tests: str) -> RequirementResult:
        return RequirementResult(rid, "MUST", "t", "s", Outcome.FAIL, failures=[
            Finding(rid, Outcome.FAIL, f"{rid} broke in {t}", test=t) for t in tests])

    return RunReport(target=target, target_kind=kind, profile="quick", seed=7,
                     started_at="2026-12-03T00:00:00+00:00", duration_s=1.0, versions={},
                     exit_status=1, verdict="", requirements=[
                         failed("COMPLETE-MD5", "a.py::x", "a.py::x", "b.py::y"),
                         failed("PART-SIZE-LIMIT", "c.py::z"),
                         RequirementResult("CREATE-VALID", "MUST", "t", "s", Outcome.PASS)])


def test_findings_of_one_requirement_and_test_are_replayed_once() -> None:
    replays = findings_to_replay(_report())
    assert [(r.requirement, r.test) for r in replays] == [
        ("COMPLETE-MD5", "a.py::x"), ("COMPLETE-MD5", "b.py::y"), ("PART-SIZE-LIMIT", "c.py::z")]
    only = findings_to_replay(_report(), ("part-size-limit",))
    assert [r.requirement for r in only] == ["PART-SIZE-LIMIT"]
    assert findings_to_replay(_report(), ("CREATE-VALID",)) == []


@pytest.mark.parametrize(("failed", "held", "unjudged", "verdict"), [
    (3, 0, 0, "STILL FAILING"), (0, 3, 0, "FIXED"), (1, 2, 0, "FLAKY (1 of 3)"),
    (0, 0, 3, "NOT REPLAYED"), (2, 0, 1, "STILL FAILING"),
])
def test_the_verdict_follows_the_counts(failed: int, held: int, unjudged: int,
                                        verdict: str) -> None:
    replay = Replay("R", "t.py::x", "m", failed=failed, held=held, unjudged=["why"] * unjudged)
    assert replay.verdict == verdict


def test_exit_0_only_when_every_finding_is_fixed() -> None:
    fixed, failing = Replay("A", "", "", held=3), Replay("B", "", "", failed=3)
    flaky, lost = Replay("C", "", "", failed=1, held=2), Replay("D", "", "", unjudged=["x"])
    assert exit_status([fixed]) == 0
    assert exit_status([fixed, failing]) == 1 and exit_status([flaky, lost]) == 1
    assert exit_status([fixed, lost]) == 2 and exit_status([]) == 2


def test_a_replay_goes_to_the_reports_target_unless_told_otherwise() -> None:
    external = _report("external", "http://127.0.0.1:9/v1")
    assert target_settings(external, {}, False, {}).base_url == "http://127.0.0.1:9/v1"
    other = target_settings(external, {"base_url": "http://h/v1"}, False, {})
    assert other.base_url == "http://h/v1"
    mutant = _report("embedded emulator (mutant md5-unchecked)")
    assert target_settings(mutant, {}, False, {}).mutant == "md5-unchecked"
    clean = target_settings(mutant, {}, True, {"OPENAI_BASE_URL": "http://env/v1"})
    assert clean.mutant is None and clean.base_url is None  # the report names its target
    keyed = target_settings(external, {}, False, {"OPENAI_API_KEY": "sk-env"})
    assert keyed.api_key == "sk-env"


def test_a_replay_explores_as_the_run_did(monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance import replay
    from conformance.run import RunSettings

    seen: list[RunSettings] = []

    def fake_run(settings: RunSettings) -> RunReport:
        seen.append(settings)
        return _report()  # COMPLETE-MD5 fails again

    monkeypatch.setattr(replay, "run", fake_run)
    report = _report()
    report.max_examples = 12
    replays = replay.replay_findings(report, RunSettings(), findings_to_replay(report)[:1], 2)
    assert [r.verdict for r in replays] == ["STILL FAILING"]
    assert all((s.seed, s.profile, s.max_examples, s.requirements, s.tests, s.report_dir)
               == (7, "quick", 12, "COMPLETE-MD5", ("a.py::x",), None) for s in seen)
    assert len(seen) == 2 and all(s.fail_fast for s in seen)
