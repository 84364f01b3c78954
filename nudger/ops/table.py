"""Columns for the text a person reads: a header row, each column as wide as its widest
cell, the last one (a title, a subject) left as long as it is."""

from __future__ import annotations

from collections.abc import Sequence


def table(header: Sequence[str], rows: Sequence[Sequence[str]], gap: str = "  ") -> list[str]:
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header))]
    return [gap.join(str(cell).ljust(w) if i < len(widths) - 1 else str(cell)
                     for i, (cell, w) in enumerate(zip(row, widths, strict=True))).rstrip()
            for row in (header, *rows)]
