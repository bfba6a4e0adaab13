"""An earlier plan to start a what-if from: a previous run's ``hubs.csv`` and ``assignment.csv``
(``mdtplan solve --start-from DIR``), or a stored job's result tables (the service).

A planner who changes one thing of a solved plan (the budget cap, the hub count or band, a
site's status) gives the solve its earlier plan; the heuristic start fits it to the changed
rules and searches around it (:mod:`mdtplan.solve.start.prior`). Only ids are read: the open
hubs and the hub serving each area. Ids the scenario lacks are left out and counted
(``summary.json`` -> ``start_from`` -> ``matched``), so a plan of a scenario with other areas
or sites still helps where it overlaps; a plan with none of the scenario's sites is refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from .problems import _listing, _Problems, _rows_text

#: the most rows read from an earlier plan's tables (England has 35,672 LSOAs; an
#: assignment with shares may list an area more than once)
MAX_PLAN_ROWS = 500_000


@dataclass(frozen=True)
class PriorPlan:
    """An earlier plan, by ids: the hubs it opened and the hub serving each area.

    Attributes
    ----------
    open_sites : tuple of str
        Site ids of the plan's open hubs.
    serving : dict
        Area id -> site id of the hub serving it (the largest share when an area was split).
    source : str
        Where the plan came from, for the run's report (a folder, a scenario id).
    """

    open_sites: tuple = ()
    serving: dict = field(default_factory=dict)
    source: str = "an earlier plan"

    def positions(self, ix) -> tuple[np.ndarray, np.ndarray, dict]:
        """``(is_open, chosen, matched)`` in the positions of ``ix`` (anything with
        ``site_ids`` and ``area_ids``): open sites (bool per site), the site position serving
        each area (-1 where the plan has none, or names a site or area this model lacks),
        and how much of the plan this model knows (``sites``, ``sites_given``, ``areas``
        (areas of the plan that are areas of this model), ``areas_given``)."""
        site_pos = {str(s): i for i, s in enumerate(ix.site_ids)}
        area_pos = {str(a): i for i, a in enumerate(ix.area_ids)}
        is_open = np.zeros(len(ix.site_ids), dtype=bool)
        for s in self.open_sites:
            i = site_pos.get(str(s))
            if i is not None:
                is_open[i] = True
        chosen = np.full(len(ix.area_ids), -1, dtype=np.int64)
        known = 0
        for a, s in self.serving.items():
            i, j = area_pos.get(str(a)), site_pos.get(str(s))
            known += i is not None
            if i is not None and j is not None:
                chosen[i] = j
        matched = {"sites": int(is_open.sum()), "sites_given": len(self.open_sites),
                   "areas": known, "areas_given": len(self.serving)}
        return is_open, chosen, matched

    def catchments(self, ix) -> np.ndarray:
        """Per area of ``ix``, which of :attr:`open_sites` served it (its index there), -1
        where none did: the earlier catchments, whether or not their hubs are sites of this
        model (a what-if may move a closed hub's whole catchment to a site inside it)."""
        hub = {str(s): k for k, s in enumerate(self.open_sites)}
        area_pos = {str(a): i for i, a in enumerate(ix.area_ids)}
        group = np.full(len(ix.area_ids), -1, dtype=np.int64)
        for a, s in self.serving.items():
            i, k = area_pos.get(str(a)), hub.get(str(s))
            if i is not None and k is not None:
                group[i] = k
        return group


def prior_from_tables(hubs: pd.DataFrame | None, assignment: pd.DataFrame, source: str, *,
                      hubs_file: str = "hubs.csv",
                      assignment_file: str = "assignment.csv") -> PriorPlan:
    """A :class:`PriorPlan` from a plan's tables (``hubs``: ``site_id``; ``assignment``:
    ``area_id``, ``site_id`` and optionally ``share``). Every problem is gathered and raised
    as one :class:`~mdtplan.errors.InputError` naming the file, row and column.

    Without ``hubs`` the open hubs are the sites the assignment uses.
    """
    p = _Problems()
    if len(assignment) > MAX_PLAN_ROWS:
        raise InputError([_error(assignment_file, None, None,
                                 f"has {len(assignment):,} rows, more than the "
                                 f"{MAX_PLAN_ROWS:,} an earlier plan may have",
                                 "give the assignment.csv mdtplan wrote for that run")])
    for name in ("area_id", "site_id"):
        if name not in assignment.columns:
            p.error(assignment_file, None, name, f"has no '{name}' column (it has "
                    f"{_listing(assignment.columns) or 'none'})",
                    "give the assignment.csv mdtplan wrote for that run")
    if hubs is not None and "site_id" not in hubs.columns:
        p.error(hubs_file, None, "site_id", f"has no 'site_id' column (it has "
                f"{_listing(hubs.columns) or 'none'})",
                "give the hubs.csv mdtplan wrote for that run")
    if p.errors:
        raise InputError(p.errors)
    frame = assignment.copy()
    share = (pd.to_numeric(frame["share"], errors="coerce") if "share" in frame.columns
             else pd.Series(1.0, index=frame.index))
    frame["share"] = share
    for name in ("area_id", "site_id"):
        blank = frame[name].isna() | (frame[name].astype(str).str.strip() == "")
        if blank.any():
            rows = (np.flatnonzero(blank.to_numpy()) + 2).tolist()  # header is row 1
            p.error(assignment_file, _rows_text(rows[:3]) if len(rows) <= 3 else
                    f"{_rows_text(rows[:2])} and {len(rows) - 2} more", name,
                    f"is empty in {len(rows)} row{'s' if len(rows) != 1 else ''}",
                    "every row names the area and the hub serving it")
    bad_share = frame["share"].isna() | (frame["share"] < 0)
    if bad_share.any():
        rows = (np.flatnonzero(bad_share.to_numpy()) + 2).tolist()
        p.error(assignment_file, _rows_text(rows[:3]), "share",
                "is not a number of 0 or more", "shares are the part of the area's demand "
                "each hub serves (1 when the area has one hub)")
    if p.errors:
        raise InputError(p.errors)
    frame["area_id"] = frame["area_id"].astype(str).str.strip()
    frame["site_id"] = frame["site_id"].astype(str).str.strip()
    # the hub with the largest share serves each area (the first listed on a tie)
    order = frame.sort_values("share", ascending=False, kind="stable")
    top = order.drop_duplicates("area_id", keep="first")
    serving = dict(zip(top["area_id"], top["site_id"], strict=True))
    if hubs is not None:
        ids = hubs["site_id"].dropna().astype(str).str.strip()
        open_sites = tuple(dict.fromkeys(i for i in ids if i))
    else:
        open_sites = tuple(dict.fromkeys(top.loc[top["share"] > 0, "site_id"]))
    if not open_sites:
        raise InputError([_error(hubs_file if hubs is not None else assignment_file, None,
                                 "site_id", "names no open hub: the run it came from has "
                                 "no plan to start from",
                                 "start from a run that found a plan")])
    return PriorPlan(open_sites=open_sites, serving=serving, source=source)


def read_prior(folder: str | Path) -> PriorPlan:
    """The plan a previous ``mdtplan solve`` (or ``demo``) wrote into ``folder``: its
    ``hubs.csv`` (open hubs) and ``assignment.csv`` (the hub serving each area).

    Raises
    ------
    InputError
        The folder or its assignment.csv is missing, the run there found no plan
        (``summary.json``'s status), or a table lacks a column or has empty ids.
    """
    folder = Path(folder)
    shown = str(folder)
    if not folder.is_dir():
        raise InputError([_error(shown, None, None, "is not a folder",
                                 "give the --out folder of an earlier mdtplan solve")])
    status = _status(folder / "summary.json")
    assignment_path = folder / "assignment.csv"
    if status in ("infeasible", "no_solution", "error"):
        raise InputError([_error(str(folder / "summary.json"), None, "status",
                                 f"says '{status}': that run has no plan to start from",
                                 "start from a run that found a plan (status optimal or "
                                 "feasible)")])
    if not assignment_path.is_file():
        raise InputError([_error(str(assignment_path), None, None, "is missing",
                                 "give the --out folder of an earlier mdtplan solve that "
                                 "found a plan")])
    assignment = _read(assignment_path)
    hubs_path = folder / "hubs.csv"
    hubs = _read(hubs_path) if hubs_path.is_file() else None
    return prior_from_tables(hubs, assignment, shown, hubs_file=str(hubs_path),
                             assignment_file=str(assignment_path))


def _status(path: Path) -> str | None:
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # the tables decide; a damaged summary is not the plan
    return doc.get("status") if isinstance(doc, dict) else None


def _read(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""],
                           nrows=MAX_PLAN_ROWS + 1, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError,
            ValueError) as err:
        raise InputError([_error(str(path), None, None, f"cannot be read as CSV ({err})",
                                 "give the file mdtplan wrote, unchanged")]) from None


def _error(file, row, column, message, hint=None):
    p = _Problems()
    p.error(file, row, column, message, hint)
    return p.errors[0]
