"""The API keys a run sends: the user's, another tenant's (`--second-api-key`), and the key
one character off the user's that the auth probe sends. One place says which strings are
secrets, so that every redactor of the run scrubs all of them."""

from __future__ import annotations

import string
from typing import Final

__all__ = ["SECOND_KEY_VARIABLE", "near_miss", "other_keys", "secrets_of"]

# Where --second-api-key is read from when it is not given, and where a curl line reads it.
SECOND_KEY_VARIABLE: Final = "UPLOADS_CONFORMANCE_SECOND_API_KEY"


def near_miss(key: str) -> str:
    """The key with its last character changed to another of its kind (a digit to a digit,
    a letter to a letter of the same case): a key a target must refuse, and that only a
    check of the whole key refuses (not one of its length, its prefix or its format)."""
    last = key[-1:]
    for alphabet in (string.digits, string.ascii_lowercase, string.ascii_uppercase):
        if last and last in alphabet:
            return key[:-1] + alphabet[(alphabet.index(last) + 1) % len(alphabet)]
    return key[:-1] + ("x" if last != "x" else "y")


def other_keys(api_key: str | None, second_api_key: str | None) -> dict[str, str | None]:
    """The secret keys a run sends besides the user's own, each with the environment
    variable a reproduction reads it from (None: shown redacted, the near miss)."""
    keys: dict[str, str | None] = {}
    if api_key:
        keys[near_miss(api_key)] = None
    if second_api_key:
        keys[second_api_key] = SECOND_KEY_VARIABLE
    return keys


def secrets_of(api_key: str | None, second_api_key: str | None = None) -> tuple[str, ...]:
    """The keys of a run and the near miss of the user's: what no output may contain."""
    return (*filter(None, [api_key]), *other_keys(api_key, second_api_key))
