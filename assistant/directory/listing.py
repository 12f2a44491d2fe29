"""Proposals as French text for `orient directory search`: grouped so that the order reads at a
glance (a heading where the distance band, the specialty when two are searched, or the
availability changes), distances in French number format, and the units declared full listed
apart under their own heading, not numbered (they cannot be chosen)."""

from __future__ import annotations

from orient.assistant.directory.matching import Proposal, SearchResult, km_fr


def _row(p: Proposal, rank: int | None) -> str:
    demo = " [démo]" if p.unit.demo else ""
    lead = f"{rank:>2}." if rank is not None else "  ·"
    return f"{lead} {p.unit.name} — {p.establishment.name} — {km_fr(p.distance_km)} ({p.unit.id}){demo}"


def search_text(result: SearchResult, more_hint: str = "augmentez --limit") -> str:
    """The whole listing, ending with a line break."""
    lines: list[str] = []
    if result.proposals:
        lines.append(result.ranking)
    rank = 0
    for heading, members in result.groups():
        lines.append("")
        lines.append(f"── {heading} ──")
        for p in members:
            rank += 1
            lines.append(_row(p, rank))
            lines.extend(f"      · {reason}" for reason in p.reasons)
    if not result.proposals:
        lines.append("Aucune unité ne remplit les critères.")
    if result.full:
        lines.append("")
        lines.append(f"── Unités déclarées complètes, non proposées ({len(result.full)}) ──")
        lines.extend(_row(p, None) for p in result.full)
    if result.more:
        lines.append("")
        lines.append(f"D'autres unités remplissent les critères : {more_hint}.")
    return "\n".join(lines) + "\n"


__all__ = ["search_text"]
