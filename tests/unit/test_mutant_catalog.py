"""The mutants and the catalog agree: each mutant names the MUST requirement(s) that must
catch it, and each MUST rule a target can break is proved by a mutant, or is listed here as
a known gap."""

from __future__ import annotations

from conformance.emulator.mutants import CAUGHT_BY, MUTANT_RULES
from conformance.requirements import CATALOG, PROXY, SDK, Level

# MUST requirements no mutant proves yet: a check of them could stop working and the kill
# matrix would not notice. Remove an ID when a mutant names it (the test below says so).
NOT_PROVED_YET: dict[str, str] = {
    "OBJECT-PART": "no mutant answers a malformed UploadPart",
    "PART-VALID": "no mutant refuses a valid part (the limit mutants are PART-SIZE-LIMIT's)",
    "PART-UNKNOWN-UPLOAD": "no mutant accepts a part for an unknown upload",
    "PART-INVALID": "no mutant accepts a part request without its 'data' field",
}

# These judge the SDK in front of the target, not the target: no emulator mutant can break
# them (the SDK adapters' own tests prove those checks).
JUDGE_THE_SDK = {r.id for r in CATALOG.values() if SDK in r.needs}
# The same for the client whose traffic goes through `uploads-conformance proxy`.
JUDGE_THE_CLIENT = {r.id for r in CATALOG.values() if PROXY in r.needs}


def _must() -> set[str]:
    return {r.id for r in CATALOG.values() if r.level is Level.MUST}


def test_every_mutant_names_must_requirements_of_the_catalog() -> None:
    for mutant in MUTANT_RULES:
        caught_by = CAUGHT_BY[mutant.name]
        assert caught_by, f"{mutant.name} names no requirement"
        assert len(set(caught_by)) == len(caught_by), mutant.name
        unknown = [i for i in caught_by if i not in CATALOG]
        assert not unknown, f"{mutant.name} names {unknown}, not in the catalog"
        not_must = [i for i in caught_by if CATALOG[i].level is not Level.MUST]
        assert not not_must, f"{mutant.name} names {not_must}: no kill without a MUST"


def test_every_must_a_target_can_break_is_proved_by_a_mutant_or_a_known_gap() -> None:
    proved = {i for ids in CAUGHT_BY.values() for i in ids}
    unproved = _must() - JUDGE_THE_SDK - JUDGE_THE_CLIENT - proved - set(NOT_PROVED_YET)
    assert not unproved, f"no mutant proves {sorted(unproved)}: add one, or list it above"
    # The list is of gaps only: once a mutant proves a rule, it leaves the list.
    assert not proved & set(NOT_PROVED_YET), sorted(proved & set(NOT_PROVED_YET))
    assert set(NOT_PROVED_YET) <= _must() - JUDGE_THE_SDK


def test_caught_by_is_each_mutants_own() -> None:
    assert list(CAUGHT_BY) == [m.name for m in MUTANT_RULES]
    for mutant in MUTANT_RULES:
        assert "caught_by" in vars(mutant), f"{mutant.name} inherits its caught_by"


def test_a_kill_by_another_requirement_is_a_row_of_its_own_and_not_counted() -> None:
    from conformance.mutation import CLEAN, MutantResult, render_matrix, verdict

    def row(name: str, killed: bool, failed: str, status: int) -> MutantResult:
        return MutantResult(name, "a fault", killed, failed, 1.0, 2, status,
                            expected="COMPLETE-MD5")

    results = [row(CLEAN, False, "", 0), row("right", True, "COMPLETE-MD5", 1),
               row("wrong", False, "COMPLETE-ORDER", 1), row("survivor", False, "", 0)]
    assert [verdict(r) for r in results[1:]] == [
        "killed", "killed by the wrong requirement: COMPLETE-ORDER", "SURVIVED"]
    summary = "Mutants killed: 1 of 3; 1 caught by the wrong requirement, not counted"
    assert summary in render_matrix(results)
