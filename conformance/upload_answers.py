"""Every Upload answer held to every rule that applies to it, whichever operation it answers.

An Upload comes back from create, complete and cancel (a repeated cancel and a race's winner
too). Each must have the documented shape (OBJECT-UPLOAD) and expire an hour after its
created_at (UPLOAD-EXPIRES-AT); after the create it is still the same upload, so its id,
created_at, filename, purpose and bytes are those the create answered. That last rule is
checked under OBJECT-UPLOAD, the requirement of every Upload answer: a completion that
answers another filename is a wrong Upload object, not a wrong create (CREATE-VALID is
judged on the create's answer alone, where a fault of the create shows first).
"""

from __future__ import annotations

from typing import Any, Final

from conformance.checks import Checker

# The fields an upload keeps for its whole life, as its create answered them.
KEPT_FIELDS: Final = ("id", "created_at", "filename", "purpose", "bytes")


class UploadAnswers:
    """What each create answered, to hold the later answers about that upload to it."""

    def __init__(self, check: Checker) -> None:
        self.check = check
        self.created: dict[str, dict[str, Any]] = {}  # upload ID -> its kept fields

    def first(self, body: Any, what: str, target_now: float | None) -> bool:
        """The answer that made an upload (a create): its shape and lifetime, and its
        created_at against the target's clock; remembered for the later answers. True
        when it is a well-formed Upload."""
        if not upload_answer(self.check, body, what, target_now):
            return False
        self.created[body["id"]] = {k: body[k] for k in KEPT_FIELDS}
        return True

    def later(self, upload_id: str, body: Any, what: str) -> bool:
        """A later answer about the upload (complete, cancel): its shape and lifetime, and
        the fields it keeps from its create. True when it is a well-formed Upload."""
        if not upload_answer(self.check, body, what, None):
            return False
        kept = self.created.get(upload_id)
        if kept is not None:
            changed = [f"{k} {body[k]!r} (the create answered {kept[k]!r})"
                       for k in KEPT_FIELDS if body[k] != kept[k]]
            self.check.expect(not changed, "OBJECT-UPLOAD",
                              f"{what} is not the upload the create answered: "
                              f"{'; '.join(changed)}")
        return True


def upload_answer(check: Checker, body: Any, what: str, target_now: float | None) -> bool:
    """Any Upload answer: its shape (OBJECT-UPLOAD), then expires_at = created_at + 3600
    (and created_at near the target's clock, when `target_now` is given)."""
    if not check.upload_object(body, what):
        return False
    check.timestamps(body, target_now, what)
    return True
