"""Counts in the messages people read: "1 frame", "3 frames", never "1 frames"."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun``, in the plural (``noun`` + "s" unless given) for any ``n`` but 1;
    thousands grouped, as 29,009 reads at a glance and 29009 does not."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def any_of(n: int) -> str:
    """ "any of " before a count of ``n`` things, unless it is 1: "in any of the 3 photos", but
    "in the 1 photo", not "in any of the 1 photo"."""
    return "" if n == 1 else "any of "
