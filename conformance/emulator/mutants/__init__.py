"""The emulator's mutants: named, realistic faults, one per name, that the suite must catch.

Each mutant is a subclass of the clean `Rules` that overrides the one decision it gets
wrong; its name, its description, the requirement(s) that must catch it and its fault
are together, here and nowhere else: `faults.py` holds the faults a single request shows,
`races.py` those only overlapping requests show. `MUTANT_RULES` lists them, `MUTANTS` maps
each name to its description, `CAUGHT_BY` to its requirement IDs, and `rules_for` gives
the rules an emulator runs with (`EmulatorConfig(mutant=NAME)`).
"""

from __future__ import annotations

from ..rules import Rules
from .base import Mutant
from .faults import (
    AcceptsNegativeBytes,
    AuthNotEnforced,
    ByteCountSkipsLastPart,
    ByteCountUnchecked,
    CancelAfterComplete,
    CompleteAfterCancel,
    CompleteFieldsUnchecked,
    CompleteTwice,
    ErrorEnvelopeMissing,
    ExpiresAfterADay,
    ExpiryNotEnforced,
    FileBytesWrong,
    FileMissing,
    FilenameTruncated,
    ForeignPartAccepted,
    KeyPrefixOnly,
    Md5Unchecked,
    OrderIgnored,
    PartAfterCancel,
    PartAfterComplete,
    PartLimitMissing,
    PartLimitOffByOne,
    ServerErrorOnBadJson,
    StatusNotUpdated,
    TenantLeak,
    UnknownCreateFieldsIgnored,
    UnknownPartIgnored,
    UploadIdCollision,
    UploadLimitMissing,
    UploadLimitOffByOne,
    UploadWithoutObject,
)
from .races import (
    ByteCountRace,
    CancelAppliedLate,
    CancelCheckThenAct,
    CompletionRace,
    LostUpdate,
    LostUpdateOnAYield,
    PartIdCounter,
    PartNotRechecked,
    PartRecordedLate,
)

__all__ = ["CAUGHT_BY", "MUTANTS", "MUTANT_RULES", "Mutant", "rules_for"]

MUTANT_RULES: tuple[type[Mutant], ...] = (
    PartLimitOffByOne, PartLimitMissing, UploadLimitOffByOne, UploadLimitMissing,
    ByteCountUnchecked, ByteCountSkipsLastPart, OrderIgnored, Md5Unchecked,
    PartAfterComplete, PartAfterCancel, CompleteTwice, CompleteAfterCancel,
    CancelAfterComplete, StatusNotUpdated, ForeignPartAccepted, UnknownPartIgnored,
    LostUpdate, UploadIdCollision, ExpiresAfterADay, ExpiryNotEnforced,
    FileMissing, FileBytesWrong, ErrorEnvelopeMissing, ServerErrorOnBadJson,
    AuthNotEnforced, UnknownCreateFieldsIgnored, FilenameTruncated, CompleteFieldsUnchecked,
    AcceptsNegativeBytes, UploadWithoutObject, KeyPrefixOnly, TenantLeak,
    # Concurrency: each shows only when requests overlap (races.py).
    LostUpdateOnAYield, ByteCountRace, PartIdCounter, PartRecordedLate, PartNotRechecked,
    CompletionRace, CancelCheckThenAct, CancelAppliedLate,
)

MUTANTS: dict[str, str] = {mutant.name: mutant.description for mutant in MUTANT_RULES}
"""Each mutant's name and what its fault is, in the kill matrix's order."""

CAUGHT_BY: dict[str, tuple[str, ...]] = {mutant.name: mutant.caught_by for mutant in MUTANT_RULES}
"""Each mutant's name and the requirement IDs of which one must fail for it to be killed."""

_BY_NAME: dict[str, type[Mutant]] = {mutant.name: mutant for mutant in MUTANT_RULES}


def rules_for(mutant: str | None) -> Rules:
    """The rules an emulator runs with: the clean ones, or the named mutant's."""
    if mutant is None:
        return Rules()
    return _BY_NAME[mutant]()
