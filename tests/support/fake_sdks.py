"""Stand-in `openai` modules: the installed SDK with a version's gaps or faults planted.

`fake_openai(version, ...)` is a module object like `openai` (everything of the installed
SDK, which does the real work), whose clients' `uploads` lacks what older versions lacked
(`uploads` itself, `upload_file_chunked`, `expires_after` on create), or raises an error of
its own in one method (`raises={"complete": error}`), or refuses a part given as a stream
(`parts_need_bytes`), as SDK bugs do, or has a chunked helper of its own (`chunked_helper=`:
`helper_with_default`, `helper_retrying_parts`, `helper_checking_arguments`). Passed to the
Python adapter as `openai=`.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import openai

__all__ = ["GIVE_UP_AFTER", "fake_openai", "helper_checking_arguments", "helper_retrying_parts",
           "helper_with_default"]

ChunkedHelper = Callable[..., Any]  # helper(uploads, *, file, mime_type, purpose, ...)


class _Parts:
    def __init__(self, real: Any, need_bytes: bool) -> None:
        self._real, self._need_bytes = real, need_bytes

    def create(self, upload_id: str, *, data: Any, **options: Any) -> Any:
        if self._need_bytes and not isinstance(data, bytes):
            raise TypeError(f"Expected file input to be bytes, not {type(data).__name__}")
        return self._real.create(upload_id, data=data, **options)


class _Uploads:
    """`client.uploads` as an older or broken version has it."""

    def __init__(self, real: Any, missing: set[str], raises: Mapping[str, Exception],
                 need_bytes: bool, helper: ChunkedHelper | None = None) -> None:
        self._real, self._missing = real, missing
        self.parts = _Parts(real.parts, need_bytes)
        if helper is not None:
            self.upload_file_chunked = functools.partial(helper, real)
        if "expires_after" in missing:
            self.create = self._create_without_expires_after
        for name, error in raises.items():
            setattr(self, name, _raiser(error))

    def _create_without_expires_after(self, *, bytes: int, filename: str, mime_type: str,
                                      purpose: str, extra_body: Any = None) -> Any:
        return self._real.create(bytes=bytes, filename=filename, mime_type=mime_type,
                                 purpose=purpose, extra_body=extra_body)

    def __getattr__(self, name: str) -> Any:
        if name in self._missing:
            raise AttributeError(name)
        return getattr(self._real, name)


def _raiser(error: Exception) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        raise error
    return call


def fake_openai(version: str, *, missing: Iterable[str] = (),
                raises: Mapping[str, Exception] | None = None,
                parts_need_bytes: bool = False,
                chunked_helper: ChunkedHelper | None = None) -> types.ModuleType:
    """An `openai`-like module of `version`; `missing` names what its uploads lack
    ("uploads", "upload_file_chunked", "expires_after"); `chunked_helper` replaces its
    `upload_file_chunked`."""
    lacking = set(missing)
    module = types.ModuleType("openai")
    module.__dict__.update({k: v for k, v in vars(openai).items() if not k.startswith("__")})
    module.__version__ = version  # type: ignore[attr-defined]

    class OpenAI(openai.OpenAI):
        @property  # type: ignore[override]
        def uploads(self) -> Any:
            if "uploads" in lacking:
                raise AttributeError("uploads")  # as before 1.37.0: no such attribute
            return _Uploads(super().uploads, lacking, raises or {}, parts_need_bytes,
                            chunked_helper)

    module.OpenAI = OpenAI  # type: ignore[attr-defined]
    return module


# --- chunked helpers of other SDKs (sync), each with one habit -----------------------------


def _file_of(file: Any, filename: str | None) -> tuple[bytes, str]:
    if isinstance(file, bytes):
        return file, filename or "upload.bin"
    return Path(file).read_bytes(), filename or Path(file).name


# A helper that retries gives up after this many attempts, so that a suite that fails to
# stop it still ends (and says how many requests it let through).
GIVE_UP_AFTER = 200


def _upload(uploads: Any, data: bytes, filename: str, declared: int, mime_type: str,
            purpose: str, part_size: int, md5: Any, retry: bool = False) -> Any:
    upload = uploads.create(bytes=declared, filename=filename, mime_type=mime_type,
                            purpose=purpose)
    part_ids, offset, attempts = [], 0, 0
    while offset < len(data):  # part_size 0 makes no progress: the loop a bound must stop
        chunk = data[offset : offset + part_size]
        attempts += 1
        try:
            part = uploads.parts.create(upload_id=upload.id, data=chunk)
        except Exception:  # the habit under test: whatever fails is retried
            if retry and attempts < GIVE_UP_AFTER:
                continue  # "whatever fails is retried": forever, for an empty part
            raise
        part_ids.append(part.id)
        offset += len(chunk)
    return uploads.complete(upload_id=upload.id, part_ids=part_ids, md5=md5)


def helper_with_default(default: int) -> ChunkedHelper:
    """A helper correct in all but one way: its default part size is `default`."""
    def helper(uploads: Any, *, file: Any, mime_type: str, purpose: str,
               filename: str | None = None, bytes: int | None = None,
               part_size: int | None = None, md5: Any = openai.omit) -> Any:
        data, name = _file_of(file, filename)
        return _upload(uploads, data, name, len(data) if bytes is None else bytes, mime_type,
                       purpose, default if part_size is None else part_size, md5)
    return helper


def helper_retrying_parts(uploads: Any, *, file: Any, mime_type: str, purpose: str,
                          filename: str | None = None, bytes: int | None = None,
                          part_size: int | None = None, md5: Any = openai.omit) -> Any:
    """A helper that takes any part size and retries a part whatever the failure (a
    refusal, a connection error, any exception), with no end (but GIVE_UP_AFTER)."""
    data, name = _file_of(file, filename)
    return _upload(uploads, data, name, len(data) if bytes is None else bytes, mime_type,
                   purpose, 64 * 1024 * 1024 if part_size is None else part_size, md5,
                   retry=True)


def helper_checking_arguments(limit: int) -> ChunkedHelper:
    """A helper that refuses, before sending anything, a part size outside 1..`limit` and
    a `bytes` other than the file's size."""
    def helper(uploads: Any, *, file: Any, mime_type: str, purpose: str,
               filename: str | None = None, bytes: int | None = None,
               part_size: int | None = None, md5: Any = openai.omit) -> Any:
        data, name = _file_of(file, filename)
        size = limit if part_size is None else part_size
        if not 0 < size <= limit:
            raise ValueError(f"part_size must be between 1 and {limit}, not {size}")
        if bytes is not None and bytes != len(data):
            raise ValueError(f"bytes={bytes} but the file holds {len(data)} bytes")
        return _upload(uploads, data, name, len(data), mime_type, purpose, size, md5)
    return helper
