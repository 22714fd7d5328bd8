"""Broken targets: the run names the broken requirements (exit 1), or says it could not be
done (exit 2) when there is no target to test; either way it writes the four reports, keeps
the API key out of them and never shows a traceback. (The stub and the garbage target are
run in test_fairness_baseline.py, which needs them anyway.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.broken_targets import resetting_app, wrong_types_app
from tests.support.cli import (
    CliRun,
    assert_four_reports,
    assert_no_traceback,
    assert_nothing_written_to_cwd,
    assert_secret_kept,
    new_api_key,
    run_suite,
    target_args,
)
from tests.support.serving import never_answering, nothing_listening, serve_app


def _check_run_basics(run: CliRun, api_key: str) -> None:
    assert_no_traceback(run)
    assert_four_reports(run)
    assert_secret_kept(run, api_key)


@pytest.mark.slow
def test_a_target_answering_wrong_types_and_cut_bodies_is_caught(tmp_path: Path) -> None:
    api_key = new_api_key()
    with serve_app(wrong_types_app()) as base_url:
        run = run_suite(tmp_path, *target_args(base_url, api_key))
    _check_run_basics(run, api_key)
    assert_nothing_written_to_cwd(run)
    assert run.returncode == 1, run.explain()
    assert {"OBJECT-UPLOAD", "SCHEMA-RESPONSE", "NO-SERVER-ERROR"} <= run.failed(), \
        run.explain()
    message = run.requirement("OBJECT-UPLOAD")["failures"][0]["message"]
    assert "'bytes'" in message and "not an integer" in message, message


@pytest.mark.slow
def test_a_target_resetting_part_requests_is_not_conformant(tmp_path: Path) -> None:
    """The emulator, except that every part request's connection is reset.

    It is reachable and answers every other request, so the run can be done: the verdict
    should be exit 1 with NO-SERVER-ERROR failed.
    """
    api_key = new_api_key()
    with serve_app(resetting_app(api_key)) as base_url:
        run = run_suite(tmp_path, *target_args(base_url, api_key))
    _check_run_basics(run, api_key)
    assert "NO-SERVER-ERROR" in run.failed(), run.explain()
    no_answer = run.requirement("NO-SERVER-ERROR")["failures"][0]["message"]
    assert "no usable answer" in no_answer, no_answer
    assert run.returncode == 1, run.explain()


def test_an_unreachable_target_exits_2_at_once(tmp_path: Path) -> None:
    api_key = new_api_key()
    with nothing_listening() as base_url:
        run = run_suite(tmp_path, *target_args(base_url, api_key), timeout=60)
    _check_run_basics(run, api_key)
    assert run.returncode == 2, run.explain()
    assert run.duration_s < 20, run.explain()
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("uploads-conformance: error: "), run.stderr
    assert "unreachable" in lines[0] and base_url in lines[0]
    report = run.report
    assert report["exit_status"] == 2 and report["errors"], report["errors"]
    assert run.failed() == set()


@pytest.mark.slow
def test_a_target_that_never_answers_exits_2_in_bounded_time(tmp_path: Path) -> None:
    api_key = new_api_key()
    with never_answering() as base_url:
        run = run_suite(tmp_path, *target_args(base_url, api_key), timeout=60)
    _check_run_basics(run, api_key)
    assert run.returncode == 2, run.explain()
    assert run.duration_s < 30, run.explain()
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "unreachable" in lines[0] and "timeout" in lines[0], run.stderr
    assert run.report["exit_status"] == 2
