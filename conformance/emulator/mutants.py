"""The emulator's mutants: named, realistic faults, one per name, that the suite must catch.

A mutant is switched on with `EmulatorConfig(mutant="name")`. Each fault lives at one place
in the emulator, where the code asks `config.has_fault("name")`; grep for the name to find it.
"""

from __future__ import annotations

MUTANTS: dict[str, str] = {
    "part-limit-off-by-one": "refuses a part of exactly 64 MiB (the limit check is off by one)",
    "part-limit-missing": "accepts parts larger than 64 MiB",
    "upload-limit-off-by-one": "refuses a declared size of exactly 8 GiB",
    "upload-limit-missing": "accepts a declared size larger than 8 GiB",
    "byte-count-unchecked": "completes whatever the listed parts add up to",
    "byte-count-skips-last-part": "sums part_ids[:-1] when checking the byte count (off by one)",
    "order-ignored": "assembles parts in the order they were added, not the part_ids order",
    "md5-unchecked": "accepts any md5 at completion",
    "part-after-complete": "accepts parts on a completed upload",
    "part-after-cancel": "accepts parts on a cancelled upload",
    "complete-twice": "completing a completed upload succeeds again",
    "complete-after-cancel": "completing a cancelled upload succeeds",
    "cancel-after-complete": "cancelling a completed upload succeeds",
    "status-not-updated": "cancel answers with the status still pending",
    "foreign-part-accepted": "part IDs of another upload are accepted at completion",
    "unknown-part-ignored": "unknown part IDs are silently skipped at completion",
    "lost-update": "parallel part additions read-modify-write the part list around an await, "
    "losing parts",
    "upload-id-collision": "upload IDs derive from the creation second; a second upload in "
    "the same second overwrites the first",
    "expires-after-a-day": "expires_at is created_at + 86400 and expiry is enforced after a day",
    "expiry-not-enforced": "expired uploads still accept parts, completion and cancel",
    "file-missing": "a completed upload answers with file null",
    "file-bytes-wrong": "the nested file's bytes is the size of the first part",
    "error-envelope-missing": 'refusals for unknown uploads are answered {"detail": "Not Found"}',
    "server-error-on-bad-json": "a malformed JSON body raises, answered 500",
    "auth-not-enforced": "any bearer key is accepted; only its presence is checked",
    "unknown-create-fields-ignored": "unknown fields in a create request are ignored, not "
    "refused",
    "filename-truncated": "an upload's filename is answered cut to 64 characters (a narrow "
    "column)",
}
