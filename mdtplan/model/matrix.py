"""The model of record as HiGHS matrices, built straight from the data with numpy.

:func:`build_matrix` produces exactly the problem that :func:`mdtplan.model.build.build_model`
followed by Pyomo's ``LinearStandardFormCompiler`` (:func:`mdtplan.solve.compile_model`) hands to
HiGHS: the same columns in the same order, the same rows in the same order, the same bounds,
integrality, coefficients and objective. It is vectorised (one numpy pass per constraint family),
so it costs a small fraction of the Pyomo compile; the Pyomo model stays the model of record and
``tests/model/test_matrix.py`` (and the benchmark, on every instance) proves the two equal
(:func:`mdtplan.solve.compile_differences`).

Columns and rows are named by ``(component name, position in the component's index)``, so a
:class:`mdtplan.solve.Session` can map them back to the Pyomo variables and constraints.

What the compiler does, and this module repeats:

* terms with a zero coefficient are left out; a row left with no term is left out, and so is a
  column in no row and not in the objective;
* columns come component by component, in the order a component is first met (the objective
  first, then the constraints in the order they were declared), each with all its members in
  index order (before empty ones are dropped);
* rows keep their sense (``mixed_form``): ``body <= upper``, ``body >= lower``, or both for ``==``.

Each rule family writes its own rows (``rows`` of its :class:`~mdtplan.model.families.base.
Family`, beside its Pyomo rule); this module lays out the columns, calls the families in build
order and assembles the matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import groupby

import numpy as np
import scipy.sparse as sp

from . import families
from .families.base import INF, VAR_FAMILIES, Columns, Rows
from .families.catchment_contiguous import contiguity_index, declares_flow, n_flow_columns
from .families.lever_reach import lever_index, n_lever_columns
from .families.lever_reach import upper_bounds as lever_upper_bounds
from .families.shortfall_level import BITS, spread_index
from .index import ModelIndex, index_data
from .objective import objective_stages, stage_optimum_held_rows, stage_terms


@dataclass
class MatrixModel:
    """The compiled problem: what HiGHS is given, with names to map it back to Pyomo.

    Attributes
    ----------
    col_family, row_family : list of str
        Component of each column (a ``Var``) and row (a ``Constraint``).
    col_member, row_member : ndarray of int
        Position of each column (row) in its component's index, in Pyomo's index order.
    col_lower, col_upper : ndarray
    integrality : ndarray of int32
        1 for integer columns.
    row_lower, row_upper : ndarray
        ``-inf`` / ``inf`` where a side is open.
    A : scipy.sparse.csc_matrix
        Rows x columns, sorted indices, no explicit zeros.
    c0 : ndarray
        The first objective stage's costs per column; ``offset0`` its constant (0).
    stages : list of (str, ndarray)
        Every objective stage's cost vector over the columns, in lexicographic order.
    keys : dict
        Component name -> its index keys in order (``col_member``/``row_member`` index them),
        for every variable and constraint component the Pyomo model has, rows dropped or not.
    """

    col_family: list
    col_member: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray
    row_family: list
    row_member: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    A: sp.csc_matrix
    c0: np.ndarray
    offset0: float = 0.0
    stages: list = field(default_factory=list)
    keys: dict = field(default_factory=dict)

    @property
    def col_spans(self) -> dict:
        """Component -> (first, last + 1) column: each component's columns are contiguous."""
        return _spans(self.col_family)

    @property
    def row_spans(self) -> dict:
        """Constraint -> (first, last + 1) row: each constraint's rows are contiguous."""
        return _spans(self.row_family)

    def col_name(self, j: int) -> str:
        """``family[key]`` of column ``j``, as Pyomo names it."""
        return _name(self.col_family[j], self.keys[self.col_family[j]][int(self.col_member[j])])

    def row_name(self, i: int) -> str:
        """``family[key]`` of row ``i``, as Pyomo names it."""
        return _name(self.row_family[i], self.keys[self.row_family[i]][int(self.row_member[i])])


def _spans(families: list) -> dict:
    """Component -> (first, last + 1) position in ``families`` (one pass over its runs)."""
    out: dict = {}
    at = 0
    for f, run in groupby(families):
        at_end = at + len(list(run))
        if f not in out:
            out[f] = [at, at_end]
        else:
            out[f][1] = at_end
        at = at_end
    return {f: tuple(v) for f, v in out.items()}


def _name(family: str, key) -> str:
    if key is None:
        return family
    parts = key if isinstance(key, tuple) else (key,)
    return f"{family}[{','.join(str(p) for p in parts)}]"

    @property
    def shape(self) -> tuple[int, int]:
        return self.A.shape


# --------------------------------------------------------------------------------------------
# Parameters


def default_params(data, ix: ModelIndex) -> dict:
    """The mutable parameters' values as :func:`~mdtplan.model.build.build_model` starts them
    (:func:`~mdtplan.model.families.param_defaults`, with the indexed ones)."""
    return {**families.param_defaults(data),
            "staff_fte_max": None,  # from the data and the demand scale
            "stage_optimum_bound": {}}


def model_params(model) -> dict:
    """The current values of a built model's mutable parameters (its ``params`` block), for
    :func:`build_matrix`: scalars as values, indexed ones as dicts."""
    out = {}
    for name in default_params(model.mdtplan_data, model.mdtplan_index):
        p = model.params.component(name)
        if p is None:
            out[name] = None
        elif p.is_indexed():
            out[name] = {k: float(v.value) for k, v in p.items()}
        else:
            out[name] = p.value
    out["demand_scale"] = float(out["demand_scale"] if out["demand_scale"] is not None else 1.0)
    if out["stage_optimum_bound"] is None:
        out["stage_optimum_bound"] = {}
    return out


# --------------------------------------------------------------------------------------------
# Building


def build_matrix(data, ix: ModelIndex | None = None, params: dict | None = None) -> MatrixModel:
    """The problem :func:`~mdtplan.solve.compile_model` would produce for ``build_model(data)``.

    The variables' columns are laid out here; each registered rule family
    (:func:`mdtplan.model.families.registry`) adds its own rows, in build order, then the
    objective's stage holds.

    Parameters
    ----------
    data : ModelData
    ix : ModelIndex, optional
        ``index_data(data)`` (computed when not given).
    params : dict, optional
        Values of the mutable parameters (:func:`model_params` of a built model); defaults to
        those a freshly built model has (:func:`default_params`).
    """
    ix = ix or index_data(data)
    p = default_params(data, ix)
    p.update({k: v for k, v in (params or {}).items() if k in p})
    stages = objective_stages(data, ix)
    n_site, n_pair, n_staff = len(ix.site_ids), len(ix.pairs), len(ix.staff)
    has_mt = "max_travel" in stages
    spread = spread_index(data, ix)  # the fair-shortfall rule's variables, when it is built
    n_hub = len(spread.hubs) if spread is not None else 0

    # -- columns, in declaration order (reordered at the end) --------------------------------
    n_flow = n_flow_columns(data, ix)
    sizes = {"open_site": n_site, "assign": n_pair, "fte_steps": n_staff,
             "agency_fte": n_staff, "unmet_hours": n_staff, "max_travel_cost": int(has_mt),
             "shortfall_bits": BITS if spread is not None else 0,
             "hub_core_demand": n_hub, "hub_level_hours": n_hub * BITS,
             "contiguity_flow": n_flow, "lever_people": n_lever_columns(data, ix)}
    offset = {}
    at = 0
    for name in VAR_FAMILIES:
        offset[name] = at
        at += sizes[name]
    n_col = at

    roles = data.roles
    staff_role = [r for _, r in ix.staff]

    def per_staff(column):
        values = roles[column].astype(float).to_dict() if len(roles) else {}
        return np.array([values[r] for r in staff_role], dtype=float)

    cols = Columns(data=data, ix=ix, params=p, stages=stages, offset=offset, sizes=sizes,
                   step_s=per_staff("fte_step"), share_s=per_staff("max_agency_share"),
                   cost_s=per_staff("cost_gbp_per_fte"), prem_s=per_staff("agency_premium"))

    lower = np.zeros(n_col)
    upper = np.full(n_col, INF)
    integ = np.zeros(n_col, dtype=np.int32)
    o_open, o_assign, o_fte = offset["open_site"], offset["assign"], offset["fte_steps"]
    status = data.sites["status"].astype(str).reindex(ix.site_ids).to_numpy() if n_site else \
        np.zeros(0, dtype=object)
    lower[o_open:o_open + n_site] = (status == "required").astype(float)
    upper[o_open:o_open + n_site] = 1.0
    integ[o_open:o_open + n_site] = 1
    upper[o_assign:o_assign + n_pair] = 1.0
    if data.assignment == "single":
        integ[o_assign:o_assign + n_pair] = 1
    integ[o_fte:o_fte + n_staff] = 1
    o_ag = offset["agency_fte"]
    upper[o_ag:o_ag + n_staff] = np.where(cols.share_s <= 0, 0.0, INF)
    if data.objective != "max_demand_met":
        o_un = offset["unmet_hours"]
        upper[o_un:o_un + n_staff] = 0.0
    if sizes["lever_people"]:
        o_lv = offset["lever_people"]
        upper[o_lv:o_lv + sizes["lever_people"]] = lever_upper_bounds(lever_index(data, ix), ix)
    if spread is not None:
        o_bits = offset["shortfall_bits"]
        upper[o_bits:o_bits + BITS] = 1.0
        integ[o_bits:o_bits + BITS] = 1

    # -- rows: each family's, in build order, then the stage holds ----------------------------
    terms = {s: stage_terms(cols, s) for s in stages}
    R = Rows()
    for family in families.registry():
        family.rows(cols, R)
    stage_optimum_held_rows(cols, R, terms)

    var_keys = {"open_site": ix.site_ids, "assign": ix.pairs, "fte_steps": ix.staff,
                "agency_fte": ix.staff, "unmet_hours": ix.staff}
    if has_mt:
        var_keys["max_travel_cost"] = [None]
    if declares_flow(data, ix):
        var_keys["contiguity_flow"] = contiguity_index(data, ix).keys
    if sizes["lever_people"]:
        var_keys["lever_people"] = lever_index(data, ix).keys
    if spread is not None:
        var_keys.update(shortfall_bits=spread.bits, hub_core_demand=spread.hubs,
                        hub_level_hours=spread.levels)
    mm = _assemble(R, stages, terms, n_col, lower, upper, integ, sizes, offset)
    mm.keys = {**var_keys, **R.keys}
    return mm


def _assemble(R: Rows, stages, terms, n_col, lower, upper, integ, sizes, offset) -> MatrixModel:
    c_cols, c_vals = terms[stages[0]]
    nzc = np.asarray(c_vals) != 0
    c0_full = np.zeros(n_col)
    np.add.at(c0_full, np.asarray(c_cols)[nzc], np.asarray(c_vals)[nzc])

    # column order: components in the order first met (objective, then rows), all members
    # of a component in index order; then columns with no entry anywhere are dropped
    fam_of_col = np.empty(n_col, dtype=np.int64)
    for f, name in enumerate(VAR_FAMILIES):
        fam_of_col[offset[name]:offset[name] + sizes[name]] = f
    seen: list[int] = []

    def meet(cols_in_order):
        if len(cols_in_order) == 0:
            return
        fams = fam_of_col[np.asarray(cols_in_order, dtype=np.int64)]
        # first occurrence of each family, in order
        _, first = np.unique(fams, return_index=True)
        for f in fams[np.sort(first)]:
            if int(f) not in seen:
                seen.append(int(f))

    meet(np.asarray(c_cols)[nzc])
    wanted = sum(1 for f in VAR_FAMILIES if sizes[f])
    for _name, _n, rows_f, cols_f, *_ in R.families:
        if len(seen) == wanted:
            break
        # terms in row order, each row's terms in the order they were written
        meet(cols_f[np.argsort(rows_f, kind="stable")])
    order = np.concatenate([offset[VAR_FAMILIES[f]] + np.arange(sizes[VAR_FAMILIES[f]])
                            for f in seen] or [np.zeros(0, np.int64)]).astype(np.int64)

    # rows: stack the families (int32 indices), drop rows with no term
    row_parts, col_parts, val_parts = [], [], []
    fam, member, lo, up = [], [], [], []
    base = 0
    families, R.families = R.families, []
    while families:
        name, n, rows, cols, vals, lower_b, upper_b = families.pop(0)
        counts = np.bincount(rows, minlength=n) if n else np.zeros(0, np.int64)
        keep = counts > 0
        new = (np.cumsum(keep) - 1).astype(np.int32)
        row_parts.append(base + new[rows])
        col_parts.append(cols.astype(np.int32))
        val_parts.append(vals)
        kept = np.flatnonzero(keep)
        fam += [name] * len(kept)
        member.append(kept)
        lo.append(np.asarray(lower_b)[kept])
        up.append(np.asarray(upper_b)[kept])
        base += len(kept)
        del rows, cols, vals
    n_row = base
    rows = np.concatenate(row_parts) if row_parts else np.zeros(0, np.int32)
    del row_parts
    cols = np.concatenate(col_parts) if col_parts else np.zeros(0, np.int32)
    del col_parts
    vals = np.concatenate(val_parts) if val_parts else np.zeros(0)
    del val_parts
    # sum duplicate (row, col) entries and drop zeros, as the compiler does
    A = sp.csc_matrix((vals, (rows, cols)), shape=(n_row, n_col))
    del rows, cols, vals
    A.sum_duplicates()
    A.eliminate_zeros()
    present = (np.diff(A.indptr) > 0) | (c0_full != 0)
    order = order[present[order]]
    A = A[:, order]
    A.sort_indices()
    col_family = [VAR_FAMILIES[f] for f in fam_of_col[order]]
    col_member = order - np.array([offset[f] for f in col_family], dtype=np.int64) \
        if len(order) else np.zeros(0, np.int64)
    stage_vecs = []
    for s in stages:
        cc, vv = terms[s]
        full = np.zeros(n_col)
        np.add.at(full, np.asarray(cc, dtype=np.int64), np.asarray(vv, dtype=float))
        stage_vecs.append((s, full[order]))
    return MatrixModel(
        col_family=col_family, col_member=col_member,
        col_lower=lower[order], col_upper=upper[order], integrality=integ[order],
        row_family=fam, row_member=(np.concatenate(member) if member
                                    else np.zeros(0, np.int64)),
        row_lower=np.concatenate(lo) if lo else np.zeros(0),
        row_upper=np.concatenate(up) if up else np.zeros(0),
        A=A, c0=c0_full[order], offset0=0.0, stages=stage_vecs)
