"""A correct target that takes the liberties a wrapper around the emulator cannot (parts
past the declared size accepted and the byte count checked at completion, subsets and
duplicates at completion, zero-byte parts, idempotent cancel, every lenient edge) passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import (
    PROFILE,
    SEED,
    assert_four_reports,
    assert_no_traceback,
    assert_secret_kept,
    new_api_key,
    run_suite,
)
from tests.support.lenient_target import lenient_app
from tests.support.serving import serve_app


@pytest.mark.slow
def test_a_lenient_correct_target_passes(tmp_path: Path) -> None:
    api_key = new_api_key()
    with serve_app(lenient_app(api_key)) as base_url:
        run = run_suite(tmp_path, "--base-url", base_url, "--api-key", api_key,
                        "--profile", PROFILE, "--seed", SEED)
    assert_no_traceback(run)
    assert_four_reports(run)
    assert_secret_kept(run, api_key)
    assert run.failed() == set(), run.explain()
    assert run.returncode == 0, run.explain()
    statuses = run.statuses()
    for requirement in ("EXPIRY-ENFORCED", "CONTENT-BYTES", "COMPLETE-ORDER", "COMPLETE-MD5"):
        assert statuses[requirement] == "pass", run.explain()
    assert any("accepted (200)" in o for o in run.observations("OPEN-OVERFLOW-PART"))
    assert any("accepted (200)" in o for o in run.observations("OPEN-ZERO-BYTE-PART"))
    assert any("accepted (200)" in o for o in run.observations("OPEN-CANCEL-TWICE"))

