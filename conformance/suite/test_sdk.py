"""An SDK's whole-file helper (`upload_file_chunked`), when the run goes through an SDK:
with a small part size, with its own default (around 64 MiB in the thorough profile), and
with arguments it should refuse."""

from __future__ import annotations

import pytest

from conformance.adapters.chunked import CHUNKED_REQUIREMENT, check_chunked_upload
from conformance.adapters.chunked_arguments import ARGUMENTS_REQUIREMENT, check_chunked_arguments
from conformance.adapters.sdk_template import SdkAdapter
from conformance.results import Untested
from conformance.suite._verdict import fail_on_broken_musts
from conformance.target import Target


def _sdk_adapter(target: Target) -> SdkAdapter:
    adapter = target.adapter
    if not isinstance(adapter, SdkAdapter):
        why = "the run has no SDK with a chunked upload helper"
        target.recorder.cannot_test(CHUNKED_REQUIREMENT, why)
        target.recorder.cannot_test(ARGUMENTS_REQUIREMENT, why, Untested.SETTINGS)
        pytest.skip(why)
    return adapter


def test_the_sdks_chunked_upload_helper(uploads_target: Target) -> None:
    adapter = _sdk_adapter(uploads_target)
    since = len(uploads_target.recorder.failures)
    check_chunked_upload(adapter, uploads_target.checker, uploads_target.client,
                         seed=uploads_target.seed)
    fail_on_broken_musts(uploads_target, since)


def test_the_helpers_default_part_size(uploads_target: Target) -> None:
    adapter = _sdk_adapter(uploads_target)
    since = len(uploads_target.recorder.failures)
    # From a file on disk, as a user uploads a large file; the seeds differ from the
    # small-part files' so that no two files of a run hold the same bytes.
    check_chunked_upload(adapter, uploads_target.checker, uploads_target.client,
                         uploads_target.profile.chunked_default_sizes, part_size=None,
                         from_path=True, seed=uploads_target.seed + 100,
                         source="sdk-chunked-default")
    fail_on_broken_musts(uploads_target, since)


def test_the_arguments_the_helper_should_refuse(uploads_target: Target) -> None:
    adapter = _sdk_adapter(uploads_target)
    since = len(uploads_target.recorder.failures)
    check_chunked_arguments(adapter, uploads_target.checker, uploads_target.client,
                            seed=uploads_target.seed + 200)
    fail_on_broken_musts(uploads_target, since)  # a SHOULD: only a MUST fails the test
