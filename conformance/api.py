"""The Uploads API's documented facts, and its four operations, in one place.

The oracle, the strategies and the checks read their limits, enums and paths from here, so
that a fact read one way cannot be read another way elsewhere in the suite. (The reference
emulator keeps its own reading on purpose, so that a misreading here is caught there.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final
from urllib.parse import quote

MiB: Final = 1024 * 1024
PART_LIMIT: Final = 64 * MiB  # rule 1: 64 MB, read as the SDK's 64 MiB part size
UPLOAD_LIMIT: Final = 8 * 1024**3  # rule 2: 8 GB, read as 8 GiB
LIFETIME_S: Final = 3600  # rule 3: an upload expires one hour after it is created
PURPOSES: Final = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
EXPIRES_AFTER_MIN: Final = 3600
EXPIRES_AFTER_MAX: Final = 2_592_000  # 30 days
EXPIRES_AFTER_RANGE: Final = (EXPIRES_AFTER_MIN, EXPIRES_AFTER_MAX)
UPLOAD_STATUSES: Final = ("pending", "completed", "cancelled", "expired")
# Purpose and mime_type pairs that every implementation accepts; other pairs may be
# refused ("for some purposes the correct mime_type must be specified").
SAFE_PURPOSE_MIME_TYPES: Final[tuple[tuple[str, str], ...]] = (
    ("assistants", "text/plain"),
    ("assistants", "application/pdf"),
    ("batch", "application/jsonl"),
    ("fine-tune", "application/jsonl"),
    ("fine-tune", "text/jsonl"),
    ("vision", "image/png"),
    ("user_data", "application/pdf"),
    ("user_data", "text/plain"),
    ("evals", "application/jsonl"),
)


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of the API: how it is sent, and the word the steps of a report use."""

    id: str  # the operationId of the project's OpenAPI document
    method: str
    path_template: str  # "{upload_id}" marks the one path parameter
    adapter_method: str  # the `Adapter` method that runs it
    step_word: str  # "create", "add a part", ... as a report's steps say it

    def path(self, upload_id: str = "") -> str:
        # IDs are untrusted (the target's, or the suite's odd ones): keep them one segment.
        return self.path_template.replace("{upload_id}", quote(upload_id, safe=""))


CREATE = Operation("createUpload", "POST", "/uploads", "create", "create")
ADD_PART = Operation("addUploadPart", "POST", "/uploads/{upload_id}/parts", "add_part",
                     "add a part")
COMPLETE = Operation("completeUpload", "POST", "/uploads/{upload_id}/complete", "complete",
                     "complete")
CANCEL = Operation("cancelUpload", "POST", "/uploads/{upload_id}/cancel", "cancel", "cancel")
OPERATIONS: Final = (CREATE, ADD_PART, COMPLETE, CANCEL)
BY_ADAPTER_METHOD: Final = {op.adapter_method: op for op in OPERATIONS}


def file_content_path(file_id: str) -> str:
    """Where a target that serves files gives a completed upload's bytes back."""
    return f"/files/{quote(file_id, safe='')}/content"


def file_path(file_id: str) -> str:
    return f"/files/{quote(file_id, safe='')}"
