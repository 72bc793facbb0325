"""Ordering keys for manual order (fractional indexing): a move writes one row, never
renumbers the others. `fractional-indexing` (CC0, a port of the widely used JavaScript
library) makes the keys; this adds what concurrent clients need."""

from __future__ import annotations

import secrets
from datetime import datetime

from fractional_indexing import generate_key_between

DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"  # the library's

# Keys made for new things: integer part of 9 base-62 digits (head "i") holding the
# microseconds since the epoch, so "at the end" needs no read of the current last key.
_NEW_HEAD = "i"
_NEW_WIDTH = 9


def _base62(number: int, width: int) -> str:
    digits = []
    while number:
        number, digit = divmod(number, 62)
        digits.append(DIGITS[digit])
    return "".join(reversed(digits)).rjust(width, "0")


def _jitter() -> str:
    """Two random digits, the last never "0" (keys must not end in 0): two clients placing
    into the same gap at the same moment get different keys."""
    return secrets.choice(DIGITS) + secrets.choice(DIGITS[1:])


def _after(low: str | None) -> str:
    """A key sorting right after `low`, whatever `low` looks like."""
    if low is None:
        return "a0" + _jitter()
    try:
        key: str = generate_key_between(low, None)
    except Exception:
        return low + _jitter()  # not a library key (made by hand): extend it
    return key


class FractionalPositions:
    def between(self, low: str | None, high: str | None) -> str:
        try:
            key: str = generate_key_between(low, high)
        except Exception:
            # Neighbours with equal keys (two moves into one gap at the same instant, or
            # rows inserted by hand with the column's default) leave no key strictly
            # between: go right after `low`; ties are broken by id.
            return _after(low)
        jittered = key + _jitter()
        return jittered if high is None or jittered < high else key

    def for_new(self, now: datetime) -> str:
        micros = int(now.timestamp() * 1_000_000)
        return _NEW_HEAD + _base62(micros, _NEW_WIDTH) + _jitter()
