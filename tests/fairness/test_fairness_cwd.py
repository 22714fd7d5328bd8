"""`uploads-conformance run` should leave the directory it is run from as it found it (the
engine's settings say "nothing written into the user's working directory")."""

from __future__ import annotations

from pathlib import Path

import pytest
from broken_targets import garbage_app
from fairness_cli import assert_no_traceback, cwd_leftovers, new_api_key, run_cli, target_args
from fairness_serving import serve_app


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="suite defect: a run leaves .hypothesis/ (Hypothesis' "
                   "constants and unicode caches, written by the stateful machine, outside "
                   "the schema checks' redirect) and, when pytest-benchmark is installed, "
                   ".benchmarks/ (the run's pytest session loads every installed plugin)")
def test_a_run_writes_nothing_into_its_working_directory(tmp_path: Path) -> None:
    api_key = new_api_key()
    with serve_app(garbage_app()) as base_url:  # a short run through every suite module
        run = run_cli(tmp_path, *target_args(base_url, api_key))
    assert_no_traceback(run)
    assert run.returncode == 1, run.explain()
    assert cwd_leftovers(run) == set(), sorted(cwd_leftovers(run))
