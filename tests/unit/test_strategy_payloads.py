"""Virtual payloads: position-deterministic bytes, streamed digests, and `matches`."""

from __future__ import annotations

import hashlib
import itertools

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

from conformance.api import PART_LIMIT
from strategies.payloads import (
    MD5_CHOICES,
    Payload,
    concat_md5,
    iter_concat,
    matches,
    md5_for,
    payloads,
    payloads_for_plan,
    payloads_from_plan,
    wrong_md5,
)
from strategies.sizes import size_plans_for_total

BLOCK = 64 * 1024
# Generating and comparing a few hundred KiB may take longer than the default deadline
# on a busy machine: no timing is asserted here.
SLOW = settings(deadline=None, derandomize=True)  # and the same examples every run
NO_DB = settings(database=None, max_examples=2000, derandomize=True)  # find(), reproducibly
chunk_sizes = st.one_of(
    st.integers(1, 10), st.sampled_from((BLOCK - 1, BLOCK, BLOCK + 1)), st.integers(1, 300_000)
)


@SLOW
@given(payloads(300_000, min_size=0), chunk_sizes)
def test_bytes_do_not_depend_on_the_chunk_size(payload: Payload, chunk_size: int) -> None:
    chunks = list(payload.iter_chunks(chunk_size))
    assert b"".join(chunks) == payload.read()
    assert len(payload.read()) == len(payload) == payload.size
    assert all(len(chunk) == chunk_size for chunk in chunks[:-1])
    assert not chunks or 1 <= len(chunks[-1]) <= chunk_size


@SLOW
@given(st.integers(), st.integers(0, 200_000), st.integers(0, 200_000))
def test_a_shorter_payload_is_a_prefix_of_a_longer_one(seed: int, a: int, b: int) -> None:
    short, long = sorted((a, b))
    assert Payload(seed, long).read()[:short] == Payload(seed, short).read()


@SLOW
@given(payloads(200_000, min_size=0))
def test_md5_is_the_md5_of_the_bytes(payload: Payload) -> None:
    assert payload.md5() == hashlib.md5(payload.read()).hexdigest()


@SLOW
@given(st.lists(payloads(100_000, min_size=0), max_size=5), chunk_sizes)
def test_concatenation_streams_the_parts_in_order(parts: list[Payload], chunk_size: int) -> None:
    whole = b"".join(p.read() for p in parts)
    assert b"".join(iter_concat(parts, chunk_size)) == whole
    assert concat_md5(parts) == hashlib.md5(whole).hexdigest()


@SLOW
@given(st.integers(), st.integers(), st.integers(2, 5000))
def test_different_seeds_give_different_bytes(a: int, b: int, size: int) -> None:
    if a != b:
        if (a - b) % 256:
            assert Payload(a, size).read()[0] != Payload(b, size).read()[0]
        assert Payload(a, max(size, 64)).read() != Payload(b, max(size, 64)).read()


def test_byte_zero_is_the_seed_modulo_256() -> None:
    assert [Payload(seed, 1).read()[0] for seed in (0, 1, 255, 256, -1)] == [0, 1, 255, 0, 255]


@SLOW
@given(st.data(), size_plans_for_total(5_000, max_part=1_000, max_parts=4))
def test_any_reordering_of_planned_parts_is_visible(data: st.DataObject, plan: list[int]) -> None:
    parts = data.draw(payloads_for_plan(plan))
    expected = concat_md5(parts)
    for order in itertools.permutations(range(len(parts))):
        if list(order) != sorted(order):
            assert concat_md5([parts[i] for i in order]) != expected


def test_payloads_from_plan_use_consecutive_seeds() -> None:
    assert payloads_from_plan([3, 5], first_seed=7) == [Payload(7, 3), Payload(8, 5)]


@SLOW
@given(st.lists(payloads(20_000, min_size=0), max_size=4), chunk_sizes)
def test_matching_content_matches_whatever_the_chunking(
    parts: list[Payload], chunk_size: int
) -> None:
    ok, description = matches(parts, iter_concat(parts, chunk_size))
    assert ok, description


@SLOW
@given(st.lists(payloads(20_000), min_size=1, max_size=4), st.data())
def test_a_corrupted_byte_is_located(parts: list[Payload], data: st.DataObject) -> None:
    content = bytearray(b"".join(p.read() for p in parts))
    offset = data.draw(st.integers(0, len(content) - 1))
    content[offset] ^= 0xFF
    ok, description = matches(parts, [bytes(content[:offset]), bytes(content[offset:])])
    assert not ok
    assert f"byte offset {offset} " in description
    assert f"got {len(content)}" in description


def test_a_swap_names_the_parts_involved() -> None:
    a, b = Payload(1, 100), Payload(2, 100)
    ok, description = matches([a, b], [b.read(), a.read()])
    assert not ok
    assert "byte offset 0 " in description and "part #0" in description
    assert "how part #1 starts" in description


def test_short_and_long_content_is_reported_with_lengths() -> None:
    parts = [Payload(1, 10), Payload(2, 10)]
    whole = b"".join(p.read() for p in parts)
    ok, description = matches(parts, [whole[:15]])
    assert not ok and "expected 20 bytes, got 15" in description and "part #1" in description
    ok, description = matches(parts, [whole, b"xyz"])
    assert not ok and "expected 20 bytes, got 23" in description
    ok, _ = matches([], [])
    assert ok


def test_a_full_size_part_streams_in_constant_memory() -> None:
    payload = Payload(42, PART_LIMIT)
    digest = hashlib.md5()
    for chunk in payload.iter_chunks((1 << 20) + 7):
        digest.update(chunk)
    assert digest.hexdigest() == payload.md5()


def test_a_negative_size_is_refused() -> None:
    with pytest.raises(ValueError):
        Payload(0, -1)


def test_payloads_shrink_to_seed_zero_and_few_bytes() -> None:
    found = find(payloads(1 << 20), lambda p: p.size > 1000, settings=NO_DB)
    # 1001, or a nearby boundary size (4095, 4096): one shrink step cannot leave a boundary.
    assert found.seed == 0 and 1001 <= found.size <= 4097
    plan_parts = find(payloads_for_plan([1, 2, 3]), lambda ps: True, settings=NO_DB)
    assert [p.seed for p in plan_parts] == [0, 1, 2]


RIGHT = hashlib.md5(b"abc").hexdigest()


@settings(derandomize=True)
@given(MD5_CHOICES, st.one_of(st.none(), st.binary().map(lambda b: hashlib.md5(b).hexdigest())))
def test_every_md5_choice_is_none_or_well_formed(choice: int, right: str | None) -> None:
    """Whatever the right md5 is (or whether it is known), a choice reads as an md5 of its
    own kind: so the same draws send the same kind of md5 on any replay."""
    md5 = md5_for(choice, right)
    assert md5 is None or (len(md5) == 32 and int(md5, 16) >= 0)
    if choice == 0:
        assert md5 is None
    elif right is None:
        assert md5 == "0" * 32  # made up: not known to be right or wrong
    else:
        assert md5 == (right, wrong_md5(right), right.upper())[choice - 1]


@pytest.mark.parametrize("sent", [None, RIGHT, wrong_md5(RIGHT), RIGHT.upper()])
def test_every_md5_choice_is_generated(sent: str | None) -> None:
    choice = find(MD5_CHOICES, lambda choice: md5_for(choice, RIGHT) == sent, settings=NO_DB)
    assert md5_for(choice, RIGHT) == sent


def test_md5_choices_shrink_to_no_md5() -> None:
    assert md5_for(find(MD5_CHOICES, lambda choice: True, settings=NO_DB), RIGHT) is None


def test_a_wrong_md5_is_well_formed_and_not_the_right_one() -> None:
    assert wrong_md5(RIGHT) != RIGHT and len(wrong_md5(RIGHT)) == 32
    made_up = find(MD5_CHOICES, lambda choice: md5_for(choice, None) is not None,
                   settings=NO_DB)
    assert md5_for(made_up, None) == "0" * 32
