"""The classic stub (200 and a made-up object for every POST) is caught, and a baseline of its
deviations turns its run green while a new deviation on another target still fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from broken_targets import garbage_app, stub_app
from fairness_cli import (
    assert_four_reports,
    assert_no_traceback,
    assert_secret_kept,
    new_api_key,
    run_cli,
    target_args,
)
from fairness_serving import serve_app

# What the stub breaks, each found by this seed whatever the order of discovery: the state
# rules (after completion and cancel), md5, byte count, validation, limits and credentials.
STUB_BREAKS = {"PART-AFTER-END", "COMPLETE-MD5", "COMPLETE-STATE", "COMPLETE-BYTE-COUNT",
               "CREATE-INVALID", "UPLOAD-SIZE-LIMIT", "PART-SIZE-LIMIT", "AUTH-REQUIRED",
               "SCHEMA-NEGATIVE"}


@pytest.mark.slow
def test_a_baseline_accepts_known_deviations_and_only_those(tmp_path: Path) -> None:
    baseline = tmp_path / "conformance-baseline.json"
    api_key = new_api_key()
    with serve_app(stub_app()) as base_url:
        first = run_cli(tmp_path, *target_args(base_url, api_key), "--write-baseline",
                        str(baseline), name="stub")
        assert_no_traceback(first)
        assert first.returncode == 1, first.explain()
        assert first.failed() >= STUB_BREAKS, first.explain()
        assert_four_reports(first)
        assert_secret_kept(first, api_key, baseline)
        accepted = json.loads(baseline.read_text())["accepted_deviations"]
        assert sorted(accepted) == sorted(first.failed())

        second = run_cli(tmp_path, *target_args(base_url, api_key), "--baseline",
                         str(baseline), name="stub-with-baseline")
    assert_no_traceback(second)
    assert second.returncode == 0, second.explain()
    assert_four_reports(second)
    assert_secret_kept(second, api_key)
    report = second.report
    assert report["baseline_file"] == str(baseline)
    assert report["summary"]["must_failed"] == 0
    failed = [r for r in report["requirements"] if r["status"] == "fail"]
    assert {r["id"] for r in failed} >= STUB_BREAKS, second.explain()
    assert all(r["baseline"] for r in failed), [r["id"] for r in failed if not r["baseline"]]
    assert report["summary"]["baseline_accepted"] == len(failed)

    # The same baseline on a target that breaks something else: that is new, so exit 1.
    with serve_app(garbage_app()) as base_url:
        third = run_cli(tmp_path, *target_args(base_url, api_key), "--baseline",
                        str(baseline), name="garbage-with-baseline")
    assert_no_traceback(third)
    assert third.returncode == 1, third.explain()
    assert_secret_kept(third, api_key)
    object_upload = third.requirement("OBJECT-UPLOAD")
    assert object_upload["status"] == "fail" and not object_upload["baseline"]
    assert third.requirement("AUTH-REQUIRED")["baseline"], "an accepted deviation still counts"
    assert third.report["summary"]["must_failed"] >= 1
