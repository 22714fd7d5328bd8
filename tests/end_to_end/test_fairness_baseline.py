"""The classic stub (200 and a made-up object for every POST, whatever the state) is caught;
a baseline of its deviations turns its next run green, while a new deviation on another
target (one that answers garbage) still fails the run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.broken_targets import garbage_app, stub_app
from tests.support.cli import (
    assert_four_reports,
    assert_no_traceback,
    assert_secret_kept,
    new_api_key,
    run_suite,
    target_args,
)
from tests.support.serving import serve_app

# Found whatever the order of discovery: by fixed scenarios and the schema checks.
STUB_ALWAYS_CAUGHT = {"CREATE-INVALID", "UPLOAD-SIZE-LIMIT", "PART-SIZE-LIMIT",
                      "AUTH-REQUIRED", "SCHEMA-NEGATIVE"}
# The state rules the stub breaks, found by the stateful machine (at most `max_rounds` = 8
# broken requirements per run, so not necessarily all of them).
STUB_STATE_RULES = {"PART-AFTER-END", "PART-UNKNOWN-UPLOAD", "COMPLETE-MD5",
                    "COMPLETE-STATE", "COMPLETE-BYTE-COUNT", "COMPLETE-FOREIGN-PART",
                    "CANCEL-STATE", "RACE-LINEARIZABLE"}
# Everything the stub really breaks: a failure outside this set would be a false alarm.
# The stub fails nearly every test: replaying each failure once is enough to say the run
# replays (the replay verdicts are tested on the mutant runs).
ONE_REPLAY = ("--replays", "1")
STUB_BREAKS = STUB_ALWAYS_CAUGHT | STUB_STATE_RULES | {
    "PART-INVALID", "COMPLETE-INVALID",
    "SCHEMA-RESPONSE",  # it echoes `bytes: false`
    "NO-SERVER-ERROR"}  # its JSON parser overflows on a deeply nested body: a 500

@pytest.mark.slow
def test_a_baseline_accepts_known_deviations_and_only_those(tmp_path: Path) -> None:
    baseline = tmp_path / "conformance-baseline.json"
    api_key = new_api_key()
    with serve_app(stub_app()) as base_url:
        first = run_suite(tmp_path, *target_args(base_url, api_key), *ONE_REPLAY,
                          "--write-baseline", str(baseline), name="stub")
        assert_no_traceback(first)
        assert_four_reports(first)
        assert first.returncode == 1, first.explain()
        failed = first.failed()
        assert failed >= STUB_ALWAYS_CAUGHT, first.explain()
        assert len(failed & STUB_STATE_RULES) >= 5, first.explain()
        assert failed <= STUB_BREAKS, f"false alarm: {failed - STUB_BREAKS}"
        assert_secret_kept(first, api_key, baseline)
        accepted = json.loads(baseline.read_text())["accepted_deviations"]
        assert sorted(accepted) == sorted(failed)

        # The same baseline on a target that breaks something else (its answers are not JSON:
        # OBJECT-UPLOAD): that is new, so exit 1.
        with serve_app(garbage_app()) as garbage_url:
            other = run_suite(tmp_path, *target_args(garbage_url, api_key), *ONE_REPLAY,
                              "--baseline", str(baseline), name="garbage-with-baseline")
        assert_no_traceback(other)
        assert_four_reports(other)
        assert_secret_kept(other, api_key)  # it echoes the Authorization header back
        assert other.returncode == 1, other.explain()
        object_upload = other.requirement("OBJECT-UPLOAD")
        assert object_upload["status"] == "fail" and not object_upload["baseline"]
        assert "no JSON body" in object_upload["failures"][0]["message"]
        assert other.requirement("SCHEMA-CONTENT-TYPE")["status"] == "fail"  # text/html
        assert other.requirement("AUTH-REQUIRED")["baseline"], "an accepted deviation counts"
        assert other.report["summary"]["must_failed"] >= 1

        # The stub again, with its baseline: only accepted deviations, so exit 0.
        second = run_suite(tmp_path, *target_args(base_url, api_key), *ONE_REPLAY, "--baseline",
                           str(baseline), name="stub-with-baseline")
    assert_no_traceback(second)
    assert_four_reports(second)
    assert_secret_kept(second, api_key)
    report = second.report
    assert report["baseline_file"] == str(baseline)
    failed_now = {r["id"]: r for r in report["requirements"] if r["status"] == "fail"}
    for requirement, result in failed_now.items():
        assert result["baseline"] == (requirement in accepted), result
    assert report["summary"]["baseline_accepted"] == len(set(failed_now) & set(accepted))
    new = sorted(set(failed_now) - set(accepted))
    assert set(new) <= STUB_BREAKS, f"false alarm: {new}"
    assert not new, f"the unchanged stub showed a deviation the first run did not: {new}"
    assert second.returncode == 0, second.explain()
    assert report["summary"]["must_failed"] == 0
    assert report["verdict"].startswith("CONFORMANT"), report["verdict"]
    assert set(failed_now) >= STUB_ALWAYS_CAUGHT
