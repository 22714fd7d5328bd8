"""Create requests: bodies for `POST /uploads` that are valid, invalid, or valid by some reading.

Valid bodies use only (purpose, mime_type) pairs every implementation accepts; invalid
bodies each break one documented rule and name it; lenient variants are the edge cases the
documentation leaves open, which the suite observes and never fails.
"""

from __future__ import annotations

import copy
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from hypothesis import strategies as st

from conformance.api import (
    EXPIRES_AFTER_MAX,
    EXPIRES_AFTER_MIN,
    PURPOSES,
    SAFE_PURPOSE_MIME_TYPES,
    UPLOAD_LIMIT,
)
from strategies.sizes import declared_sizes

__all__ = [
    "EXPIRES_AFTER_MAX",
    "EXPIRES_AFTER_MIN",
    "MIME_EXTENSIONS",
    "PURPOSES",
    "SAFE_PURPOSE_MIME_TYPES",
    "InvalidRequest",
    "expires_afters",
    "filenames",
    "invalid_create_requests",
    "lenient_create_variants",
    "unusual_mime_variants",
    "valid_create_requests",
]

MIME_EXTENSIONS = {
    "text/plain": ".txt",
    "application/pdf": ".pdf",
    "application/jsonl": ".jsonl",
    "text/jsonl": ".jsonl",
    "image/png": ".png",
}

# --- valid requests -------------------------------------------------------------------

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_PLAIN = _LETTERS + "0123456789_-"
_MAX_FILENAME = 200


def _plain(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    # A letter first: names start with one, and strings shrink to "a" rather than "0".
    # (An index, not a one-letter string: the shrinker of Hypothesis 6.15x can crash on
    # equal strings drawn with different alphabets.)
    first = st.sampled_from(_LETTERS)
    rest = st.text(alphabet=_PLAIN, min_size=min_size - 1, max_size=max_size - 1)
    return st.builds(str.__add__, first, rest)


_words = _plain(1, 12)


def _nfc(text: str) -> str:
    # Normalised, so that a target which normalises filenames still echoes them unchanged.
    return unicodedata.normalize("NFC", text)


def _repeat_to(word: str, length: int) -> str:
    return (word * length)[:length]


def _stems(room: int) -> st.SearchStrategy[str]:
    unicode_letters = st.characters(categories=("L",))
    return st.one_of(
        _plain(1, 24),  # ordinary; shrinks to "a"
        st.text(unicode_letters, min_size=1, max_size=30).map(_nfc),
        st.lists(_words, min_size=2, max_size=5).map(" ".join),  # inner spaces
        st.lists(_words, min_size=2, max_size=5).map(".".join),  # extra dots
        # Long: a word repeated, which shrinks to "aaa…" (a long random string to "a000…").
        st.builds(_repeat_to, _words, st.integers(min(150, room), room)),
    )


@lru_cache  # strategies are built once: building them costs more than drawing from them
def filenames(mime_type: str = "text/plain") -> st.SearchStrategy[str]:
    """Valid filenames with an extension that fits `mime_type`; shrinks to "a.txt"-like."""
    extension = MIME_EXTENSIONS.get(mime_type, ".bin")
    return _stems(_MAX_FILENAME - len(extension)).map(lambda stem: stem + extension)


@lru_cache
def expires_afters() -> st.SearchStrategy[dict[str, Any]]:
    """Valid `expires_after` objects: anchor created_at, seconds 3600..2592000."""
    seconds = st.one_of(
        st.sampled_from((EXPIRES_AFTER_MIN, EXPIRES_AFTER_MAX)),
        st.integers(EXPIRES_AFTER_MIN, EXPIRES_AFTER_MAX),
    )
    return st.builds(lambda s: {"anchor": "created_at", "seconds": s}, seconds)


@st.composite
def valid_create_requests(
    draw: st.DrawFn, max_bytes: int = UPLOAD_LIMIT, min_bytes: int = 1
) -> dict[str, Any]:
    """Create bodies every conformant target accepts (CREATE-VALID).

    `min_bytes=0` lets the zero-byte upload (an OPEN-EMPTY-UPLOAD case) appear too.
    """
    purpose, mime_type = draw(st.sampled_from(SAFE_PURPOSE_MIME_TYPES))
    body: dict[str, Any] = {
        "filename": draw(filenames(mime_type)),
        "purpose": purpose,
        "bytes": draw(declared_sizes(max_bytes, min_size=min_bytes)),
        "mime_type": mime_type,
    }
    if draw(st.booleans()):
        body["expires_after"] = draw(expires_afters())
    return body


# --- invalid requests -----------------------------------------------------------------


@dataclass(frozen=True)
class InvalidRequest:
    """A create body that breaks a documented rule: `fault` says which, `requirement` checks it."""

    body: Any
    fault: str
    requirement: str


# Values of the wrong JSON type, by the name used in fault descriptions. Only types the
# documentation excludes outright: no whole-valued floats, no null for optional fields.
_WRONG_TYPES: dict[str, st.SearchStrategy[Any]] = {
    "a boolean": st.booleans(),
    "a string": st.sampled_from(("10", "", "ten", "3600")),
    "null": st.none(),
    "a number": st.integers(0, 1000),
    "a non-whole number": st.integers(0, 10**6).map(lambda n: n + 0.5),
    "an array": st.sampled_from(([], [10], ["a.txt"])),
    "an object": st.sampled_from(({}, {"value": 10})),
}
_FIELD_TYPES = {  # field: the kinds of value it accepts (never generated for it)
    "filename": {"a string"},
    "purpose": {"a string"},
    "mime_type": {"a string"},
    "bytes": {"a number"},
    "expires_after": {"an object", "null"},  # null: open (may be read as omitted)
    "expires_after.seconds": {"a number"},
    "expires_after.anchor": {"a string"},
}
_UNKNOWN_FIELDS = ("foo", "unexpected_field", "x_extra", "size", "file_name", "zz_" + "q" * 40)
_BAD_PURPOSES = ("", "fine_tune", "finetune", "assistant", "training", "not-a-purpose", "🙂")
_BAD_ANCHORS = ("", "created", "updated_at", "expires_at", "now")

_Build = Callable[[st.DrawFn, dict[str, Any]], tuple[Any, str]]


def _holder(body: dict[str, Any], path: str) -> tuple[dict[str, Any], str]:
    """The object holding `path` ("bytes", "expires_after.seconds") and the key in it."""
    if path.startswith("expires_after."):
        nested = body.setdefault("expires_after",
                                 {"anchor": "created_at", "seconds": EXPIRES_AFTER_MIN})
        return nested, path.split(".", 1)[1]
    return body, path


def _set(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    body = copy.deepcopy(body)
    holder, key = _holder(body, path)
    holder[key] = value
    return body


def _drop(path: str) -> _Build:
    def build(draw: st.DrawFn, body: dict[str, Any]) -> tuple[Any, str]:
        body = copy.deepcopy(body)
        holder, key = _holder(body, path)
        del holder[key]
        return body, f"{path} missing"

    return build


def _mistyped(path: str) -> tuple[_Build, ...]:
    """One fault per JSON type the field does not accept: "bytes is a string", ..."""
    kinds = sorted(set(_WRONG_TYPES) - _FIELD_TYPES[path])
    return tuple(_value(path, _WRONG_TYPES[kind], f"{path} is {kind}") for kind in kinds)


def _value(path: str, values: st.SearchStrategy[Any], fault: str) -> _Build:
    return lambda draw, body: (_set(body, path, draw(values)), fault)


def _unknown_field(draw: st.DrawFn, body: dict[str, Any]) -> tuple[Any, str]:
    name = draw(st.sampled_from(_UNKNOWN_FIELDS))
    return _set(body, name, draw(st.sampled_from((1, "x", True)))), f"unknown field {name!r}"


def _whole_body(fault: str, values: Callable[[dict[str, Any]], st.SearchStrategy[Any]]) -> _Build:
    return lambda draw, body: (draw(values(body)), fault)


def _below(limit: int) -> st.SearchStrategy[int]:
    return st.one_of(st.just(limit - 1), st.integers(-(10**6), limit - 1))


def _above(limit: int, top: int) -> st.SearchStrategy[int]:
    return st.one_of(st.just(limit + 1), st.integers(limit + 1, top))


# Ordered simplest first: Hypothesis shrinks towards the first entry.
_FAULTS: tuple[_Build, ...] = (
    _drop("filename"),
    _drop("purpose"),
    _drop("bytes"),
    _drop("mime_type"),
    _whole_body("body is an empty object", lambda b: st.just({})),
    _unknown_field,
    _value("purpose", st.sampled_from(_BAD_PURPOSES), "purpose not in the enum"),
    _value("bytes", st.integers(max_value=-1), "bytes is negative"),
    _value("bytes", _above(UPLOAD_LIMIT, 2**64), "bytes over 8 GiB"),
    *_mistyped("bytes"),
    *_mistyped("filename"),
    *_mistyped("purpose"),
    *_mistyped("mime_type"),
    *_mistyped("expires_after"),
    _value("expires_after.seconds", _below(EXPIRES_AFTER_MIN), "expires_after.seconds below 3600"),
    _value(
        "expires_after.seconds",
        _above(EXPIRES_AFTER_MAX, 10**12),
        "expires_after.seconds above 2592000",
    ),
    *_mistyped("expires_after.seconds"),
    _value("expires_after.anchor", st.sampled_from(_BAD_ANCHORS), "expires_after.anchor wrong"),
    *_mistyped("expires_after.anchor"),
    _drop("expires_after.seconds"),
    _drop("expires_after.anchor"),
    _whole_body("body is a JSON array", lambda b: st.sampled_from(([b], []))),
    _whole_body("body is a JSON string", lambda b: st.just("filename=a.txt")),
    _whole_body("body is a JSON number", lambda b: st.just(10)),
    _whole_body("body is JSON null", lambda b: st.none()),
    _whole_body("body is a JSON boolean", lambda b: st.booleans()),
)
# Every fault checks CREATE-INVALID except these.
_REQUIREMENTS = {"bytes over 8 GiB": "UPLOAD-SIZE-LIMIT"}


@st.composite
def invalid_create_requests(draw: st.DrawFn) -> InvalidRequest:
    """Create bodies that break exactly one documented rule, each naming its fault."""
    build = draw(st.sampled_from(_FAULTS))
    body, fault = build(draw, draw(valid_create_requests(max_bytes=1 << 20)))
    return InvalidRequest(body, fault, _REQUIREMENTS.get(fault, "CREATE-INVALID"))


# --- open cases -----------------------------------------------------------------------


@st.composite
def lenient_create_variants(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """(description, body) pairs valid by some reading (OPEN-LENIENCY): observed, never failed."""
    body = draw(valid_create_requests(max_bytes=1 << 20))
    variants = (
        ("expires_after is null", _set(body, "expires_after", None)),
        ("bytes is a whole-valued float", _set(body, "bytes", float(body["bytes"]))),
        (
            "expires_after.seconds is a whole-valued float",
            _set(body, "expires_after", {"anchor": "created_at", "seconds": 3600.0}),
        ),
    )
    return draw(st.sampled_from(variants))


_UNUSUAL_MIME_TYPES = (
    ("assistants", "text/plain; charset=utf-8"),
    ("assistants", "TEXT/PLAIN"),
    ("assistants", "text/markdown"),
    ("assistants", "application/json"),
    ("batch", "text/plain"),
    ("fine-tune", "application/json"),
    ("vision", "image/jpeg"),
    ("user_data", "application/octet-stream"),
)


@st.composite
def unusual_mime_variants(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """(description, body) with a purpose/mime_type pair not every target accepts
    (OPEN-MIME-TYPE): observed, never failed."""
    body = draw(valid_create_requests(max_bytes=1 << 20))
    purpose, mime_type = draw(st.sampled_from(_UNUSUAL_MIME_TYPES))
    body.update(purpose=purpose, mime_type=mime_type)
    return f"purpose {purpose!r} with mime_type {mime_type!r}", body
