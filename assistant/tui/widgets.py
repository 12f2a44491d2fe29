"""Small widgets the screens share."""

from __future__ import annotations

from rich.segment import Segment
from textual.strip import Strip
from textual.widgets import SelectionList
from textual.widgets._toggle_button import ToggleButton
from textual.widgets.option_list import OptionDoesNotExist

TICKED, UNTICKED = "X", " "


class MarkedSelectionList(SelectionList[str]):
    """A SelectionList whose ticked boxes show a mark (▐X▌) and unticked ones none (▐ ▌): Textual
    draws the same X in both, told apart by colour only, which a colour-blind person or the
    monochrome kiosk cannot see."""

    def render_line(self, y: int) -> Strip:
        line = super().render_line(y)
        segments = list(line)
        if len(segments) < 3 or segments[1].text != ToggleButton.BUTTON_INNER:
            return line
        try:  # the line's option, found as SelectionList.render_line finds it
            value = self.get_option_at_index(self.scroll_offset.y + y).value
        except OptionDoesNotExist:
            return line
        mark = TICKED if value in self.selected else UNTICKED
        inner = segments[1]
        segments[1] = Segment(mark, inner.style, inner.control)
        return Strip(segments, line.cell_length)
