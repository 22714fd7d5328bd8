"""Fixtures for the schema-driven checks' tests: correct targets on loopback ports."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.schema_targets import API_KEY, make_app, serve


@pytest.fixture(scope="module")
def lenient_target() -> Iterator[str]:
    """A correct target that takes every liberty the documentation leaves open."""
    with serve(make_app(api_key=API_KEY)) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def strict_target() -> Iterator[str]:
    """A correct target that takes none of them (and refuses with 422 and 415)."""
    with serve(make_app(api_key=API_KEY, strict=True)) as base_url:
        yield base_url
