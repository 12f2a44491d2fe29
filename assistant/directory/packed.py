"""Compact read-only tables of strings for the data loaded in memory (communes, ICD-10).

Tens of thousands of short strings cost about 60 bytes each as separate Python objects, and the
objects still alive among the temporaries of a load keep the memory those used from being given
back. These keep one text and an array of offsets instead: build them once the loading is over,
and the load's temporaries free their memory entirely.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import accumulate
from typing import Generic, TypeVar

V = TypeVar("V")


class Packed:
    """Strings kept as one text and the end offset of each. Indexable, so `bisect` searches it
    when its strings are sorted."""

    __slots__ = ("_ends", "_text")

    def __init__(self, items: Iterable[str]) -> None:
        items = list(items)
        self._text = "".join(items)
        self._ends = array("I", accumulate(map(len, items)))

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, index: int) -> str:
        return self._text[self._ends[index - 1] if index else 0 : self._ends[index]]

    def __iter__(self) -> Iterator[str]:
        return map(self.__getitem__, range(len(self._ends)))

    def find(self, item: str) -> int | None:
        """Position of `item` in these sorted strings, or None."""
        index = bisect_left(self, item)
        return index if index < len(self._ends) and self[index] == item else None

    def starting_with(self, prefix: str) -> Iterator[tuple[int, str]]:
        """(position, string) of the sorted strings that start with `prefix`, in order."""
        at = bisect_left(self, prefix)
        while at < len(self._ends) and (item := self[at]).startswith(prefix):
            yield at, item
            at += 1


class PackedMap(Generic[V]):
    """A read-only mapping from strings, its keys sorted and packed; the values in a sequence
    made by `values` (packed strings by default, an `array` for numbers)."""

    __slots__ = ("_values", "keys")

    def __init__(self, items: dict[str, V],
                 values: Callable[[Iterable[V]], Sequence[V]] = Packed) -> None:  # type: ignore[assignment]
        keys = sorted(items)
        self.keys = Packed(keys)
        self._values = values(items[k] for k in keys)

    def get(self, key: str) -> V | None:
        at = self.keys.find(key)
        return None if at is None else self._values[at]

    def __contains__(self, key: str) -> bool:
        return self.keys.find(key) is not None

    def __len__(self) -> int:
        return len(self.keys)
