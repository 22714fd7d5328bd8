"""`Mutant`: the clean rules with one named fault."""

from __future__ import annotations

from typing import ClassVar

from ..rules import Rules


class Mutant(Rules):
    """The rules with one fault: `name` and `description` say which, `caught_by` which
    requirement(s) of the suite must catch it.

    `caught_by` holds requirement IDs as plain strings (the emulator imports nothing of the
    suite): the rules the fault breaks, any one of which failing counts as the kill. More
    than one where the suite may rightly charge the fault to either, e.g. a valid completion
    refused is charged to COMPLETE-MD5 when it carries the md5, to COMPLETE-VALID without.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    caught_by: ClassVar[tuple[str, ...]]
