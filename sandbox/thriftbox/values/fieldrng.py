"""Per-field random sources: what makes a field's value independent of the struct's other fields.

A struct draws one 64-bit number from its own random source, then gives each field a source seeded with that
number mixed with the field's name. Adding, removing or reordering fields therefore leaves the values of the
others as they were: a value depends on (seed, service, method, arguments, field path) only.

``random.Random`` takes ~9 µs to seed (it fills the Mersenne Twister's 624 words), too slow for every field of
every struct. :class:`FieldRng` is a ``random.Random`` driven by splitmix64 instead: seeding is free and each
draw costs well under a microsecond; ``randint``, ``choice``, ``uniform``... work as usual on top of it.
"""

from __future__ import annotations

import hashlib
import random

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


def salt(*parts: str) -> int:
    """A stable 64-bit number for a name (the same in every process)."""
    text = "\x1f".join(parts).encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def mix(n: int) -> int:
    """splitmix64's finalizer: a well-scrambled 64-bit function of ``n``."""
    z = (n + _GOLDEN) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


class FieldRng(random.Random):
    """A cheap, seedable ``random.Random`` (splitmix64); not for cryptography, nor for long sequences."""

    def __init__(self, x: int = 0) -> None:
        self._state = x & _MASK
        self.gauss_next = None

    def seed(self, a: object = None, version: int = 2) -> None:
        self._state = (a if isinstance(a, int) else salt(repr(a))) & _MASK

    def _next(self) -> int:
        s = self._state = (self._state + _GOLDEN) & _MASK
        z = ((s ^ (s >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return z ^ (z >> 31)

    def random(self) -> float:
        return (self._next() >> 11) * (1.0 / 9007199254740992.0)

    def getrandbits(self, k: int) -> int:
        if k <= 64:
            return self._next() >> (64 - k) if k > 0 else 0
        n, bits = 0, 0
        while bits < k:
            n = (n << 64) | self._next()
            bits += 64
        return n >> (bits - k)

    def getstate(self) -> tuple[int, ...]:
        return (self._state,)

    def setstate(self, state: tuple[int, ...]) -> None:
        self._state = state[0]


def field_rng(base: int, field_salt: int) -> FieldRng:
    """The random source of the field with ``field_salt`` in a struct that drew ``base``."""
    return FieldRng(mix(base ^ field_salt))
