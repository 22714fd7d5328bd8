"""Stand-in `openai` modules: the installed SDK with a version's gaps or faults planted.

`fake_openai(version, ...)` is a module object like `openai` (everything of the installed
SDK, which does the real work), whose clients' `uploads` lacks what older versions lacked
(`uploads` itself, `upload_file_chunked`, `expires_after` on create), or raises an error of
its own in one method (`raises={"complete": error}`), or refuses a part given as a stream
(`parts_need_bytes`), as SDK bugs do. Passed to the Python adapter as `openai=`.
"""

from __future__ import annotations

import types
from collections.abc import Iterable, Mapping
from typing import Any

import openai

__all__ = ["fake_openai"]


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
                 need_bytes: bool) -> None:
        self._real, self._missing = real, missing
        self.parts = _Parts(real.parts, need_bytes)
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
                parts_need_bytes: bool = False) -> types.ModuleType:
    """An `openai`-like module of `version`; `missing` names what its uploads lack
    ("uploads", "upload_file_chunked", "expires_after")."""
    lacking = set(missing)
    module = types.ModuleType("openai")
    module.__dict__.update({k: v for k, v in vars(openai).items() if not k.startswith("__")})
    module.__version__ = version  # type: ignore[attr-defined]

    class OpenAI(openai.OpenAI):
        @property  # type: ignore[override]
        def uploads(self) -> Any:
            if "uploads" in lacking:
                raise AttributeError("uploads")  # as before 1.37.0: no such attribute
            return _Uploads(super().uploads, lacking, raises or {}, parts_need_bytes)

    module.OpenAI = OpenAI  # type: ignore[attr-defined]
    return module
