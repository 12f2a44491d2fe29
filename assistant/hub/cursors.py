"""Feed cursors that reveal nothing of other callers' activity.

The feed's events are numbered by one sequence shared by everybody; handing those numbers out
would let anyone count the events of every other doctor and unit between two of theirs. A
caller gets instead, for each position, a cursor of its own: the position and a tag, enciphered
under a key of the database (`hub_key` "feed_cursor") and the caller's id. Cursors look random,
differ from one caller to another, and one that was not handed to this caller is recognised
(422) rather than decoded into a position.

The cipher is a balanced Feistel network over 62 bits (6 rounds of HMAC-SHA256), a keyed
permutation: 40 bits of position (10^12 events), 22 bits of tag.
"""

from __future__ import annotations

import hashlib
import hmac

BITS = 62
HALF = BITS // 2
HALF_MASK = (1 << HALF) - 1
TAG_BITS = 22
TAG_MASK = (1 << TAG_BITS) - 1
MAX_POSITION = (1 << (BITS - TAG_BITS)) - 1
ROUNDS = 6


class CursorError(ValueError):
    """A cursor this caller was never given; the message is French."""


class FeedCursors:
    def __init__(self, key: bytes) -> None:
        self._base = hmac.new(key, digestmod=hashlib.sha256)

    def _mac(self, *parts: object) -> int:
        mac = self._base.copy()
        mac.update("\x1f".join(str(p) for p in parts).encode())
        return int.from_bytes(mac.digest()[:8], "big")

    def _rounds(self, who: str, value: int, reverse: bool) -> int:
        left, right = value >> HALF, value & HALF_MASK
        order = range(ROUNDS - 1, -1, -1) if reverse else range(ROUNDS)
        for r in order:
            if reverse:
                left, right = right ^ (self._mac(who, r, left) & HALF_MASK), left
            else:
                left, right = right, left ^ (self._mac(who, r, right) & HALF_MASK)
        return (left << HALF) | right

    def encode(self, who: str, position: int) -> int:
        """The cursor of `position` (>= 1) for caller `who`: an integer in [1, 2^62)."""
        if not 1 <= position <= MAX_POSITION:
            raise ValueError(position)
        plain = (position << TAG_BITS) | (self._mac("tag", who, position) & TAG_MASK)
        cursor = self._rounds(who, plain, reverse=False)
        # 0 means "from the start": a permutation maps one position in 2^62 there; step on
        # (cycle walking) so that a cursor is never 0 (decode walks back the same way)
        while cursor == 0:
            cursor = self._rounds(who, cursor, reverse=False)
        return cursor

    def decode(self, who: str, cursor: int) -> int:
        """The position a cursor handed to `who` stands for, or CursorError."""
        if not 1 <= cursor < (1 << BITS):
            raise CursorError(_UNKNOWN)
        plain = self._rounds(who, cursor, reverse=True)
        if plain == 0:  # no plaintext is 0 (position >= 1): the walk of `encode`, undone
            plain = self._rounds(who, 0, reverse=True)
        position, tag = plain >> TAG_BITS, plain & TAG_MASK
        if position < 1 or tag != self._mac("tag", who, position) & TAG_MASK:
            raise CursorError(_UNKNOWN)
        return position


_UNKNOWN = ("Curseur du fil inconnu (« after ») : donnez une valeur « last » reçue du fil, 0 pour "
            "tout reprendre ou -1 pour partir de maintenant.")
