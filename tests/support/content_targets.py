"""Fake targets for the content checks and the checks of every Upload answer, each built
from an existing fake: one fault each, or one legitimate choice.

- `ContentAnswered(app, status, body)`: any target whose GET /files/{id}/content is answered
  `status` with `body` instead of the file (an error page, a 404 envelope, a refusal);
  around `lenient_app`, which serves files and takes subsets and duplicates of part_ids.
- `DuplicatesInAddedOrder`: the variant (serving files) that takes duplicate part_ids and
  reads each part once, but assembles the listed parts in the order they were added: wrong.
  `VariantApp(options=SERVING)` itself reads them once in part_ids order: right.
- `UploadAnswersEdited(edit)`: the variant (serving files) whose complete and cancel
  answers (or those of `kinds`) are changed by `edit` (an expires_at an hour short, another
  filename).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.support.fake_targets import envelope
from tests.support.variant_target import VARIANT_API_KEY, VariantApp, VariantOptions

Scope = dict[str, Any]
# The variant with the file endpoints, without the clock; duplicates read once.
SERVING = VariantOptions(test_controls=False, serve_files=True, dedupe_part_ids=True)
SERVER_ERROR_PAGE = b"Internal Server Error"  # starts with 0x49, as the report said
NOT_FOUND = json.dumps(envelope("No such file.", code="not_found")).encode()
FORBIDDEN = json.dumps(envelope("Not allowed to download files of purpose: assistants.",
                                param="file_id")).encode()


class ContentAnswered:
    """ASGI middleware: GET .../files/{id}/content gets `status` and `body`; the rest passes."""

    def __init__(self, app: Any, status: int, body: bytes,
                 media_type: str = "application/json") -> None:
        self.app, self.status, self.body, self.media_type = app, status, body, media_type
        self.answered = 0

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" \
                or not scope["path"].endswith("/content"):
            await self.app(scope, receive, send)
            return
        self.answered += 1
        await send({"type": "http.response.start", "status": self.status,
                    "headers": [(b"content-type", self.media_type.encode()),
                                (b"content-length", str(len(self.body)).encode())]})
        await send({"type": "http.response.body", "body": self.body, "more_body": False})


class DuplicatesInAddedOrder(VariantApp):
    """Duplicate part_ids taken and each part read once, in the order the parts were added
    (a set of IDs, not a list): the file's bytes are out of part_ids order."""

    def __init__(self, api_key: str = VARIANT_API_KEY) -> None:
        super().__init__(api_key, SERVING)

    def _rewrite_request_body(self, scope: Scope, kind: str, body: bytes) -> bytes:
        data = json.loads(body) if kind == "complete" and body else None
        part_ids = data.get("part_ids") if isinstance(data, dict) else None
        if isinstance(part_ids, list) and len(set(map(str, part_ids))) != len(part_ids):
            added = list(self.ids.to_emulator_ids)  # variant IDs, in the order issued
            data["part_ids"] = sorted(set(part_ids), key=lambda p: added.index(p)
                                      if p in added else len(added))
            body = json.dumps(data).encode()
        return super()._rewrite_request_body(scope, kind, body)


class UploadAnswersEdited(VariantApp):
    """The Upload answered by the operations `kinds` (complete and cancel: not create's),
    changed by `edit`."""

    def __init__(self, edit: Callable[[dict[str, Any]], None], api_key: str = VARIANT_API_KEY,
                 kinds: tuple[str, ...] = ("complete", "cancel"),
                 options: VariantOptions = SERVING) -> None:
        super().__init__(api_key, options)
        self.edit, self.kinds = edit, kinds

    def _rewrite_answer(self, kind: str, path: str, status: int,
                        raw: bytes) -> tuple[int, bytes]:
        status, body = super()._rewrite_answer(kind, path, status, raw)
        if kind in self.kinds and status == 200:
            data = json.loads(body)
            if isinstance(data, dict) and data.get("object") == "upload":
                self.edit(data)
                body = json.dumps(data).encode()
        return status, body


def expires_a_minute_after(upload: dict[str, Any]) -> None:
    upload["expires_at"] = upload["created_at"] + 60


def renamed(upload: dict[str, Any]) -> None:
    upload["filename"] = "renamed-" + upload["filename"]
