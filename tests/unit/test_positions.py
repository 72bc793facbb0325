"""Ordering keys: always strictly between their neighbours, never a failure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from taskapp.adapters.positions import FractionalPositions

positions = FractionalPositions()


@given(st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=40))
def test_repeated_placements_keep_a_total_order(choices: list[int]) -> None:
    """Insert each new key at a position chosen among the current gaps: the sequence of
    keys stays strictly increasing, byte by byte (as PostgreSQL's COLLATE "C" compares)."""
    keys: list[str] = []
    for choice in choices:
        slot = choice % (len(keys) + 1)
        low = keys[slot - 1] if slot > 0 else None
        high = keys[slot] if slot < len(keys) else None
        key = positions.between(low, high)
        assert low is None or low.encode() < key.encode()
        assert high is None or key.encode() < high.encode()
        keys.insert(slot, key)


def test_new_keys_come_after_every_earlier_key() -> None:
    now = datetime(2026, 11, 22, tzinfo=UTC)
    earlier = positions.for_new(now)
    moved_to_end = positions.between(earlier, None)
    later = positions.for_new(now + timedelta(microseconds=5))
    assert earlier < moved_to_end < later
    assert earlier > "h0000000Z"  # after every key migration 0010 gave existing tasks


def test_equal_or_hand_made_neighbours_do_not_fail() -> None:
    assert positions.between("a0", "a0") > "a0"
    assert positions.between("not a key", "zzz") > "not a key"
