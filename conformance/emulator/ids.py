"""Object IDs: a prefix and 24 random alphanumerics (`upload_`, `part_`, `file-`)."""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits
_LENGTH = 24

UPLOAD_PREFIX = "upload_"
PART_PREFIX = "part_"
FILE_PREFIX = "file-"


def new_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(_LENGTH))


def quote_id(value: str, limit: int = 80) -> str:
    """A caller-supplied ID for a message: quoted, and cut short if it is long."""
    return repr(value if len(value) <= limit else value[:limit] + "...")
