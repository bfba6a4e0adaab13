"""A direct build's model seen as the MIP start heuristic reads a built Pyomo model.

A session made from data (:meth:`mdtplan.solve.Session.from_data`) has HiGHS's arrays but no
Pyomo model yet; :class:`ModelView` gives the heuristic (:func:`mdtplan.solve.start.build_start`)
the index, data, parameter values, the constraint components present and the ``open_site``
bounds, and maps its plan to HiGHS columns (:meth:`ModelView.start_columns`) and a solution
back to per-component values (:meth:`ModelView.values`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .start.instance import StartInput

#: variable components of the model (the rest of a direct build's ``keys`` are constraints)
VAR_NAMES = ("open_site", "assign", "fte_steps", "agency_fte", "unmet_hours", "max_travel_cost",
             "contiguity_flow", "shortfall_bits", "hub_core_demand", "hub_level_hours",
             "lever_people")


@dataclass(eq=False)
class _ViewVar:
    """A variable of a :class:`ModelView` (what the MIP start heuristic reads and sets)."""

    family: str
    member: int
    lower: float | None = None
    upper: float | None = None


class _ViewFamily:
    """A variable component of a :class:`ModelView`; its members are made when asked for."""

    def __init__(self, name: str, keys: list, lower=None, upper=None):
        self._name, self._keys = name, keys
        self._lower, self._upper = lower, upper
        self._vars: list | None = None
        self._pos: dict | None = None

    def values(self):
        if self._vars is None:
            n = len(self._keys)
            lo = [None] * n if self._lower is None else self._lower
            up = [None] * n if self._upper is None else self._upper
            self._vars = [_ViewVar(self._name, i, lo[i], up[i]) for i in range(n)]
        return list(self._vars)

    def __getitem__(self, key):
        if self._pos is None:
            self._pos = {k: i for i, k in enumerate(self._keys)}
        if self._vars is None:
            self.values()
        return self._vars[self._pos[key]]

    def __len__(self):
        return len(self._keys)


class ModelView:
    """The direct build's variables by component and member, for a session whose Pyomo model
    is not built yet: the HiGHS column of each (:meth:`column`, :meth:`family_columns`), a
    start as columns (:meth:`start_columns`), a solution by component (:meth:`values`), and
    what the heuristic start reads (:meth:`start_input`)."""

    def __init__(self, data, ix, mm):
        self.mdtplan_index = ix
        self.mdtplan_data = data
        self.stages = [stage for stage, _ in mm.stages]  # objective_stages(data, ix)
        status = data.sites["status"].astype(str)
        row_of = {s: i for i, s in enumerate(status.index.tolist())}
        if len(row_of) == len(status):  # by position (a reindex costs more than the rest)
            status = status.to_numpy()
            # a site id not in the table has no status (reindex: NaN): not required
            required = [s in row_of and status[row_of[s]] == "required" for s in ix.site_ids]
        else:
            required = status.reindex(ix.site_ids).to_numpy() == "required"
        self._site_lower = np.array([1.0 if r else 0.0 for r in required], dtype=float)
        self._site_upper = np.ones(len(ix.site_ids))
        self.open_site = _ViewFamily("open_site", ix.site_ids, lower=self._site_lower.tolist(),
                                     upper=self._site_upper.tolist())
        self.assign = _ViewFamily("assign", ix.pairs)
        for name in ("fte_steps", "agency_fte", "unmet_hours"):
            setattr(self, name, _ViewFamily(name, ix.staff))
        if "max_travel_cost" in mm.keys:
            self.max_travel_cost = _ViewVar("max_travel_cost", 0)
        # per variable component: member -> column (-1 where the build dropped it)
        self._col: dict[str, np.ndarray] = {}
        for f, (start, stop) in mm.col_spans.items():
            col = np.full(len(mm.keys[f]), -1, dtype=np.int64)
            col[mm.col_member[start:stop]] = np.arange(start, stop)
            self._col[f] = col

    def start_input(self, params: dict) -> StartInput:
        """What the heuristic start reads, with the mutable parameters ``params`` in force."""
        return StartInput(self.mdtplan_data, self.mdtplan_index, dict(params),
                          self._site_lower.copy(), self._site_upper.copy(), list(self.stages))

    def column(self, var: _ViewVar) -> int | None:
        """The HiGHS column of ``var``, or None when the direct build dropped it."""
        col = self._col.get(var.family)
        j = -1 if col is None else int(col[var.member])
        return None if j < 0 else j

    def family_columns(self, family: str) -> np.ndarray | None:
        """The HiGHS column of every member of variable component ``family`` (-1 where the
        direct build dropped it), in the index's member order (``ix.site_ids`` for
        ``open_site``, ``ix.pairs`` for ``assign``, ``ix.staff`` for the staff families);
        None when the model has no such component."""
        return self._col.get(family)

    def start_columns(self, plan, complete: bool) -> dict:
        """A :class:`~mdtplan.solve.start.StartPlan` as ``{column: value}`` (as
        :func:`mdtplan.solve.start.start_values`; only hubs and assignment unless
        ``complete``)."""
        ix = self.mdtplan_index
        hit = np.zeros(len(ix.pairs))
        hit[plan.pair] = 1.0
        values = {"open_site": np.asarray(plan.is_open, dtype=float), "assign": hit}
        if complete and ix.staff:
            values.update(fte_steps=np.asarray(plan.steps, float),
                          agency_fte=np.asarray(plan.agency_fte, float),
                          unmet_hours=np.asarray(plan.unmet_hours, float))
        if complete and getattr(plan, "flows", None) is not None:
            values["contiguity_flow"] = np.asarray(plan.flows, float)
        if complete:  # variables a rule declares (the fair-shortfall level)
            values.update({f: np.asarray(v, float) for f, v in plan.extra.items()})
        out: dict = {}
        for f, v in values.items():
            col = self._col.get(f)
            if col is None:
                continue
            keep = col >= 0
            out.update(zip(col[keep].tolist(), v[keep].tolist(), strict=True))
        if complete and "max_travel_cost" in self._col and self._col["max_travel_cost"][0] >= 0:
            out[int(self._col["max_travel_cost"][0])] = float(plan.max_travel)
        return out

    def values(self, x: np.ndarray, compiled) -> dict[str, np.ndarray]:
        """Each variable component's values from the solution ``x`` as :meth:`Session._load`
        would set them: integers rounded, clipped to the bounds; columns the build dropped at
        their lower bound (0 when none)."""
        ix = self.mdtplan_index
        n = len(compiled.col_lower)
        xi = np.asarray(x, dtype=float)[:n].copy()
        ints = compiled.integrality[:n].astype(bool)
        xi[ints] = np.round(xi[ints])
        xi = np.minimum(np.maximum(xi, compiled.col_lower[:n]), compiled.col_upper[:n])
        out = {"open_site": np.array([v.lower for v in self.open_site.values()], dtype=float),
               "assign": np.zeros(len(ix.pairs))}
        for name in ("fte_steps", "agency_fte", "unmet_hours"):
            out[name] = np.zeros(len(ix.staff))
        if "lever_people" in self._col:
            out["lever_people"] = np.zeros(len(self._col["lever_people"]))
        for f, col in self._col.items():
            if f in out:
                keep = col >= 0
                out[f][keep] = xi[col[keep]]
        return out
