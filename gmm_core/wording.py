"""Counts in sentences: "1 row", "2 rows", "1,000 rows"."""

from __future__ import annotations


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``count`` and ``noun`` in the number the count calls for, with thousands separators;
    ``plural`` for nouns that do not take an "s" ("spectrum", "spectra")."""
    count = int(count)
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"
