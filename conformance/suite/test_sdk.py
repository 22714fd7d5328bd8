"""An SDK's whole-file helper (`upload_file_chunked`), when the run goes through an SDK."""

from __future__ import annotations

import pytest

from conformance.adapters.chunked import check_chunked_upload
from conformance.adapters.sdk_template import SdkAdapter
from conformance.suite._verdict import fail_on_broken_musts
from conformance.target import Target


def test_the_sdks_chunked_upload_helper(uploads_target: Target) -> None:
    adapter = uploads_target.adapter
    if not isinstance(adapter, SdkAdapter):
        why = "the run has no SDK with a chunked upload helper"
        uploads_target.recorder.cannot_test("SDK-CHUNKED-UPLOAD", why)
        pytest.skip(why)
    since = len(uploads_target.recorder.failures)
    check_chunked_upload(adapter, uploads_target.checker, uploads_target.client,
                         seed=uploads_target.seed)
    fail_on_broken_musts(uploads_target, since)
