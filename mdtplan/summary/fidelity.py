"""The ``fidelity`` block of ``summary.json``: the councils' published figures beside the
model's, one row each.

:mod:`mdtplan.appraisal.fidelity` makes the rows from a solved summary and the scenario's
``fidelity`` section; they live here so that a summary read back from ``summary.json`` is typed
without the appraisal. Nothing here computes a figure.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

#: the keys every row has (CONTRACT §5), then the row's other keys, in the order written
FIDELITY_KEYS = ("council", "figure", "published", "model", "derived", "within", "source",
                 "basis", "model_path", "ends_within", "tolerance", "unit", "quote", "note")


@dataclass(frozen=True)
class FidelityRow:
    """One published figure and the model's (a row of ``summary.json``'s ``fidelity`` list).

    Attributes
    ----------
    council : str
    figure : str
        What the figure is, in the council's words (e.g. "Total annual savings").
    published : float or dict
        As the scenario gives it: a number, ``{low, high}``, ``{min}`` or ``{max}`` (with
        ``tolerance`` when one was given) [unit of ``unit``].
    model : float or dict or None
        The model's figure at ``model_path``: a number or ``{low, most_likely, high}``;
        ``None`` when there is no path or it leads nowhere (``note`` says which).
    derived : bool
        Whether the model's solve makes the figure (``True``) or it is the scenario's typed
        numbers added up (``False``; also ``False`` without a model figure).
    within : bool or None
        Whether the model's figure agrees with the published one (see
        :func:`mdtplan.appraisal.fidelity.within`); ``None`` when either is missing.
    source : str
        Publisher, title, year, address.
    basis : str
        ``model``, ``typed input``, ``not modelled`` (no path) or ``path not found``:
        ``derived`` in words.
    model_path : str or None
        Where the model's figure is in ``summary.json``.
    ends_within : bool or None
        For a ``{low, most_likely, high}`` model figure: whether its low and high both agree
        with the published figure too; else ``None``.
    tolerance : float or None
        For a single published value: how far the model may lie from it and be within
        (given, or half a unit of its last significant digit); else ``None``.
    unit : str
        ``gbp``, ``ratio``, ``share`` or ``number``.
    quote : str or None
        The published words.
    note : str or None
        Why the model has no such figure, how it is read, or that the path was not found.
    """

    council: str
    figure: str
    published: Any
    model: Any
    derived: bool
    within: bool | None
    source: str
    basis: str = "not modelled"
    model_path: str | None = None
    ends_within: bool | None = None
    tolerance: float | None = None
    unit: str = "gbp"
    quote: str | None = None
    note: str | None = None

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in FIDELITY_KEYS}

    @classmethod
    def from_dict(cls, doc: dict) -> FidelityRow:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in doc.items() if k in names})


def rows_to_list(rows: tuple[FidelityRow, ...] | None) -> list[dict] | None:
    """The ``fidelity`` list of ``summary.json`` (``None`` without a ``fidelity`` section)."""
    return None if rows is None else [r.to_dict() for r in rows]


def rows_from_list(doc: list | None) -> tuple[FidelityRow, ...] | None:
    """The rows read back from ``summary.json``'s ``fidelity`` list."""
    return None if doc is None else tuple(FidelityRow.from_dict(d) for d in doc)
