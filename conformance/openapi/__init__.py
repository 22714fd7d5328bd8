"""The project's own OpenAPI document of the four Uploads operations, and its reader.

`uploads.yaml` is the document; `default_openapi_path` says where it is and `load_document`
reads it once. `judge.py` holds the one reading of it that decides whether a request is valid.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml

__all__ = ["default_openapi_path", "load_document"]


def default_openapi_path() -> Path:
    """The project's own OpenAPI document of the four operations."""
    return Path(__file__).resolve().parent / "uploads.yaml"


@cache
def load_document() -> Mapping[str, Any]:
    """The project's document, parsed (read once per process; treat it as read-only)."""
    document: Mapping[str, Any] = yaml.safe_load(default_openapi_path().read_text())
    return document
