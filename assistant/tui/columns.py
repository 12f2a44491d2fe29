"""Table columns that fit the terminal: fixed widths for short values, the rest of the width
shared among the columns of free text (names, answers, motives), whose cells wrap onto more
lines instead of being cut or pushed off the right edge."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.widgets import DataTable

PADDING = 2  # a DataTable cell's padding, left and right
SCROLLBAR = 2
MIN_FLEX = 8


@dataclass(frozen=True)
class Column:
    label: str
    width: int = 0  # fixed width; 0: a share of what is left
    weight: int = 1  # that share, relative to the other free columns

    @property
    def flexible(self) -> bool:
        return self.width == 0


def widths(columns: list[Column], total: int) -> list[int]:
    """The width of each column's content for a table `total` cells wide."""
    left = total - SCROLLBAR - PADDING * len(columns) - sum(c.width for c in columns)
    weights = sum(c.weight for c in columns if c.flexible) or 1
    out, given = [], 0
    flexible = [c for c in columns if c.flexible]
    for c in columns:
        if not c.flexible:
            out.append(c.width)
            continue
        share = max(MIN_FLEX, left * c.weight // weights)
        if c is flexible[-1]:  # the last one takes the remainder of the division
            share = max(MIN_FLEX, left - given)
        given += share
        out.append(share)
    return out


def set_columns(table: DataTable[Any], columns: list[Column], total: int) -> None:
    """Replace the table's columns (and rows) by `columns` fitted to `total` cells."""
    table.clear(columns=True)
    for column, width in zip(columns, widths(columns, total), strict=True):
        table.add_column(column.label, width=width)
