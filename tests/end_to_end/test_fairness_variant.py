"""A correct target that chooses differently wherever the documentation leaves it free must
pass: exit 0, no FAIL, and the report shows (as INFO) the choices it made."""

from __future__ import annotations

from pathlib import Path

import pytest

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
from tests.support.serving import serve_app
from tests.support.variant_target import VariantApp, VariantOptions

pytestmark = pytest.mark.slow

# Every liberty at once, the file endpoints withheld, the clock extension offered.
CHOOSY = VariantOptions()
# The other side of each open choice, the file endpoints served, no test controls, no Date.
PLAIN = VariantOptions(test_controls=False, serve_files=True, strict_edges=False,
                       lenient_content_type=False, dedupe_part_ids=False,
                       idempotent_cancel=False)


def _run_against(tmp_path: Path, options: VariantOptions) -> tuple[VariantApp, CliRun]:
    api_key = new_api_key()
    app = VariantApp(api_key, options)
    with serve_app(app, date_header=False) as base_url:
        run = run_suite(tmp_path, *target_args(base_url, api_key))
    assert_no_traceback(run)
    assert run.returncode == 0, run.explain()
    assert run.failed() == set(), run.explain()
    summary = run.report["summary"]
    assert summary["must_failed"] == summary["should_failed"] == 0, run.explain()
    assert run.report["errors"] == []
    assert_four_reports(run)
    assert_secret_kept(run, api_key)
    assert_nothing_written_to_cwd(run)
    # The suite really talked to the variant: IDs were issued and rewritten both ways.
    assert app.ids.to_variant_ids, "the variant issued no IDs"
    return app, run


def _seen(observations: list[str], *needles: str) -> bool:
    return any(all(n in text for n in needles) for text in observations)


def test_a_variant_with_every_open_choice_taken_differently_passes(tmp_path: Path) -> None:
    _, run = _run_against(tmp_path, CHOOSY)
    codes = run.observations("OPEN-REFUSAL-CODE")
    for code in ("409", "410", "422"):
        assert _seen(codes, code), (code, codes)
    assert _seen(codes, "EXPIRY-ENFORCED", "410"), codes
    assert run.statuses()["EXPIRY-ENFORCED"] == "pass", run.explain()

    formats = run.observations("OPEN-ID-FORMAT")
    assert _seen(formats, "upload IDs look like upl-<24 chars>"), formats
    assert _seen(formats, "part IDs look like <28 chars, no prefix>"), formats
    assert _seen(run.observations("OPEN-FILE-ENDPOINTS"), "not served (404)")
    assert _seen(run.observations("OPEN-NESTED-FILE-STATUS"), "'uploaded'")
    assert _seen(run.observations("OPEN-CANCEL-TWICE"), "accepted (200)")
    leniency = run.observations("OPEN-LENIENCY")
    assert _seen(leniency, "expires_after: null", "refused (422)"), leniency
    assert _seen(leniency, "bytes as 4.0", "refused (422)"), leniency
    assert _seen(leniency, "JSON body sent as text/plain", "accepted (200)"), leniency
    # Without the file endpoints the content cannot be read: not testable, never failed.
    assert run.statuses()["CONTENT-BYTES"] == "not_testable"


def test_a_variant_without_test_controls_or_date_serving_files_passes(tmp_path: Path) -> None:
    _, run = _run_against(tmp_path, PLAIN)
    statuses = run.statuses()
    # Files are read through the variant's own file IDs, byte for byte.
    assert statuses["CONTENT-BYTES"] == "pass", run.explain()
    assert statuses["COMPLETE-ORDER"] == "pass", run.explain()
    assert _seen(run.observations("OPEN-FILE-ENDPOINTS"), "served")
    # No clock to advance: expiry is not testable here, never failed.
    assert statuses["EXPIRY-ENFORCED"] == "not_testable", run.explain()
    codes = run.observations("OPEN-REFUSAL-CODE")
    assert _seen(codes, "409") and _seen(codes, "422"), codes
    assert _seen(run.observations("OPEN-CANCEL-TWICE"), "refused (409)")
    assert _seen(run.observations("OPEN-ID-FORMAT"), "upl-<24 chars>")
