"""`--requirements`, `--skip` and `--max-examples` on real runs against a mutant whose one
fault is COMPLETE-MD5's: left out, it neither fails the run nor earns a CONFORMANT."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import run_suite

# Few examples: the probes catch this mutant; the exploration is not the subject here.
MUTANT = ["--mutant", "md5-unchecked", "--seed", "1", "--max-examples", "10"]


def test_a_skipped_requirement_neither_fails_the_run_nor_makes_it_conformant(
        tmp_path: Path) -> None:
    done = run_suite(tmp_path, *MUTANT, "--skip", "COMPLETE-MD5", "--quiet")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert done.stdout.startswith("uploads-conformance: SELECTED PASS")  # --quiet: no more
    assert "SELECTED PASS" in done.stdout and "CONFORMANT (exit" not in done.stdout
    result = done.requirement("COMPLETE-MD5")
    assert result["status"] == "not_testable" and result["untested_cause"] == "left out"
    assert result["failures"] == [] and done.report["selection"] == "--skip COMPLETE-MD5"


def test_a_selected_requirement_is_judged_with_few_examples(tmp_path: Path) -> None:
    done = run_suite(tmp_path, *MUTANT, "--requirements", "complete-*", "--verbose")
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-2000:]
    assert "COMPLETE-MD5 failed: completion was accepted" in done.stdout  # as it was found
    assert "NOT TESTABLE    SDK-" not in done.stdout  # left out, so not listed as untested
    statuses = done.statuses()
    assert statuses["COMPLETE-MD5"] == "fail"
    assert statuses["CREATE-VALID"] == "not_testable"
    assert all(s != "fail" for r, s in statuses.items() if not r.startswith("COMPLETE-"))


def test_a_typo_in_a_requirement_exits_2_with_a_suggestion(tmp_path: Path) -> None:
    done = run_suite(tmp_path, "--requirements", "COMPLETE-MD", "--max-examples", "0")
    assert done.returncode == 2
    assert "--max-examples must be at least 1" in done.stderr or \
        "did you mean COMPLETE-MD5" in done.stderr
    typo = run_suite(tmp_path, "--requirements", "COMPLETE-MD", name="typo")
    assert typo.returncode == 2 and "did you mean COMPLETE-MD5" in typo.stderr
    assert "Traceback" not in typo.stderr + typo.stdout
