"""Problems gathered while loading, and the words that report them.

:class:`_Problems` collects every error and warning as a :class:`~mdtplan.errors.Problem`
(file, row, column, message, hint) so that a loader can check everything and raise once. The
small text helpers word the row, id and count fields of those problems the same way in every
loader (``rows 3 and 7``, ``E1 and 4 more``, ``a, b, … and 12 more (22 in all)``).
"""

from __future__ import annotations

from ..errors import Problem

MAX_LISTED = 10
"""How many ids a message lists before saying how many more there are."""


class _Problems:
    """Gathers errors and warnings while loading."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def error(self, file, row, column, message, hint=None) -> None:
        self.items.append(Problem(_s(file), _s(row), _s(column), message, hint, "error"))

    def warn(self, file, row, column, message, hint=None) -> None:
        self.items.append(Problem(_s(file), _s(row), _s(column), message, hint, "warning"))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.items if p.severity != "error"]


def _s(value) -> str | None:
    return None if value is None else str(value)


def _listing(items, limit: int = MAX_LISTED) -> str:
    """``a, b, c`` or ``a, b, … and 12 more (22 in all)``."""
    items = [str(i) for i in items]
    head = ", ".join(items[:limit])
    if len(items) > limit:
        head += f", … and {len(items) - limit} more ({len(items)} in all)"
    return head


def _rows_text(rows) -> str:
    """Row field for a Problem: ``7``, ``rows 3 and 7``, or ``rows 3, 7 and 4 more``."""
    rows = [int(r) for r in rows]
    if len(rows) == 1:
        return str(rows[0])
    if len(rows) == 2:
        return f"rows {rows[0]} and {rows[1]}"
    return f"rows {rows[0]}, {rows[1]} and {len(rows) - 2} more"


def _ids_text(ids) -> str:
    """Row field for a Problem about some ids: ``E1``, or ``E1 and 4 more`` (the message lists
    them)."""
    ids = [str(i) for i in ids]
    return ids[0] if len(ids) == 1 else f"{ids[0]} and {len(ids) - 1} more"


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _says(n: int, word: str, verb: str, verb_plural: str) -> str:
    """``1 id appears`` / ``2 ids appear``."""
    return f"{_plural(n, word)} {verb if n == 1 else verb_plural}"


def _show(value) -> str:
    text = str(value)
    return repr(text[:40] + "…") if len(text) > 40 else repr(text)
