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
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .build import ModelIndex, index_data
from .constraints.budget import site_cost_gbp
from .constraints.staffing import staff_fte_max_values
from .objective import objective_stages, travel_coefficients

INF = float("inf")

#: variable components, in the order :func:`mdtplan.model.build.build_model` declares them
VAR_FAMILIES = ("open_site", "assign", "fte_steps", "agency_fte", "unmet_hours",
                "max_travel_cost")


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
    out: dict = {}
    for i, f in enumerate(families):
        if f not in out:
            out[f] = [i, i + 1]
        else:
            out[f][1] = i + 1
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
    """The mutable parameters' values as :func:`~mdtplan.model.build.build_model` starts them."""
    return {
        "budget_cap_gbp": data.budget_cap_gbp,
        "hub_count_lower": int(data.hub_count_min or 0),
        "hub_count_upper": data.hub_count_max,
        "hub_population_lower": data.hub_population_min,
        "hub_population_upper": data.hub_population_max,
        "demand_scale": 1.0,
        "staff_fte_max": None,  # from the data and the demand scale
        "stage_optimum_bound": {},
    }


def model_params(model) -> dict:
    """The current values of a built model's mutable parameters (for :func:`build_matrix`)."""
    def val(name):
        p = model.component(name)
        return None if p is None else p.value

    out = {name: val(name) for name in ("budget_cap_gbp", "hub_count_lower", "hub_count_upper",
                                        "hub_population_lower", "hub_population_upper",
                                        "demand_scale")}
    out["demand_scale"] = float(out["demand_scale"] if out["demand_scale"] is not None else 1.0)
    fte_max = model.component("staff_fte_max")
    out["staff_fte_max"] = (None if fte_max is None
                            else {k: float(p.value) for k, p in fte_max.items()})
    bounds = model.component("stage_optimum_bound")
    out["stage_optimum_bound"] = ({} if bounds is None
                                  else {k: float(p.value) for k, p in bounds.items()})
    return out


# --------------------------------------------------------------------------------------------
# Building


class _Rows:
    """Row families collected as COO triplets (local row, global column, value)."""

    def __init__(self):
        self.families: list = []  # (name, n_members, rows, cols, vals, lower, upper)
        self.keys: dict = {}  # name -> the component's index keys, in order

    def add(self, name, n_members, rows, cols, vals, lower, upper, keys):
        self.keys[name] = keys
        rows = np.asarray(rows, dtype=np.int64)
        cols = np.asarray(cols, dtype=np.int32)
        vals = np.asarray(vals, dtype=float)
        nz = vals != 0
        self.families.append((name, int(n_members), rows[nz], cols[nz], vals[nz],
                              np.broadcast_to(np.asarray(lower, float), (n_members,)),
                              np.broadcast_to(np.asarray(upper, float), (n_members,))))


def build_matrix(data, ix: ModelIndex | None = None, params: dict | None = None) -> MatrixModel:
    """The problem :func:`~mdtplan.solve.compile_model` would produce for ``build_model(data)``.

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
    scale = float(p["demand_scale"])
    stages = objective_stages(data, ix)
    roles = data.roles
    n_site, n_pair, n_staff = len(ix.site_ids), len(ix.pairs), len(ix.staff)
    core, spec = ix.core_roles, ix.specialist_roles
    nc, ns = len(core), len(spec)
    has_mt = "max_travel" in stages

    # -- columns, in declaration order (reordered at the end) --------------------------------
    sizes = {"open_site": n_site, "assign": n_pair, "fte_steps": n_staff,
             "agency_fte": n_staff, "unmet_hours": n_staff, "max_travel_cost": int(has_mt)}
    offset = {}
    at = 0
    for name in VAR_FAMILIES:
        offset[name] = at
        at += sizes[name]
    n_col = at
    O_OPEN, O_ASSIGN, O_FTE = offset["open_site"], offset["assign"], offset["fte_steps"]
    O_AG, O_UN, O_MT = offset["agency_fte"], offset["unmet_hours"], offset["max_travel_cost"]

    staff_role = [r for _, r in ix.staff]
    r_step = roles["fte_step"].astype(float).to_dict() if len(roles) else {}
    r_share = roles["max_agency_share"].astype(float).to_dict() if len(roles) else {}
    r_cost = roles["cost_gbp_per_fte"].astype(float).to_dict() if len(roles) else {}
    r_prem = roles["agency_premium"].astype(float).to_dict() if len(roles) else {}
    r_prod = roles["productive_hours_per_fte"].astype(float).to_dict() if len(roles) else {}
    r_min = roles["min_fte_per_hub"].astype(float).to_dict() if len(roles) else {}
    step_s = np.array([r_step[r] for r in staff_role], dtype=float)
    share_s = np.array([r_share[r] for r in staff_role], dtype=float)
    cost_s = np.array([r_cost[r] for r in staff_role], dtype=float)
    prem_s = np.array([r_prem[r] for r in staff_role], dtype=float)

    lower = np.zeros(n_col)
    upper = np.full(n_col, INF)
    integ = np.zeros(n_col, dtype=np.int32)
    status = data.sites["status"].astype(str).reindex(ix.site_ids).to_numpy() if n_site else \
        np.zeros(0, dtype=object)
    lower[O_OPEN:O_OPEN + n_site] = (status == "required").astype(float)
    upper[O_OPEN:O_OPEN + n_site] = 1.0
    integ[O_OPEN:O_OPEN + n_site] = 1
    upper[O_ASSIGN:O_ASSIGN + n_pair] = 1.0
    if data.assignment == "single":
        integ[O_ASSIGN:O_ASSIGN + n_pair] = 1
    integ[O_FTE:O_FTE + n_staff] = 1
    upper[O_AG:O_AG + n_staff] = np.where(share_s <= 0, 0.0, INF)
    if data.objective != "max_demand_met":
        upper[O_UN:O_UN + n_staff] = 0.0

    # staff positions: (site i, core j) -> i * nc + j; (pool q, specialist j) -> S*nc + q*ns + j
    pool_pos = {q: i for i, q in enumerate(ix.pools)}
    site_idx = np.arange(n_site)

    # -- stage vectors (sparse: columns, values) ---------------------------------------------
    tc = travel_coefficients(data, ix)
    assign_cols = O_ASSIGN + np.arange(n_pair)
    site_cost = site_cost_gbp(data, ix.site_ids) if n_site else np.zeros(0)

    def cost_terms():
        cols, vals = [], []
        if n_staff:
            fte_c = O_FTE + np.arange(n_staff)
            ag_c = O_AG + np.arange(n_staff)
            has_prem = prem_s > 0
            # interleaved as the Pyomo expression is: fte, agency (where a premium), ...
            c2 = np.stack([fte_c, np.where(has_prem, ag_c, -1)], axis=1).reshape(-1)
            v2 = np.stack([cost_s * step_s, cost_s * prem_s], axis=1).reshape(-1)
            keep = c2 >= 0
            cols.append(c2[keep])
            vals.append(v2[keep])
        nzs = site_cost != 0
        cols.append(O_OPEN + site_idx[nzs])
        vals.append(site_cost[nzs].astype(float))
        return np.concatenate(cols) if cols else np.zeros(0, np.int64), \
            np.concatenate(vals) if vals else np.zeros(0)

    def stage_terms(stage):
        if stage == "travel":
            return assign_cols, tc.astype(float)
        if stage == "cost_gbp":
            cols, vals = cost_terms()
            if data.travel_cost_gbp_per_unit:
                cols = np.concatenate([cols, assign_cols])
                vals = np.concatenate([vals, tc * float(data.travel_cost_gbp_per_unit)])
            return cols, vals
        if stage == "unmet_hours":
            return O_UN + np.arange(n_staff), np.ones(n_staff)
        if stage == "max_travel":
            return np.array([O_MT]), np.ones(1)
        raise ValueError(stage)

    terms = {s: stage_terms(s) for s in stages}

    # -- rows ----------------------------------------------------------------------------------
    R = _Rows()
    by_area_areas = [a for a in ix.area_ids if a in ix.pairs_by_area]
    area_pos = {a: i for i, a in enumerate(ix.area_ids)}
    # a pair's row among the served areas (every pair's area is served)
    served_pos = np.full(len(ix.area_ids), -1, dtype=np.int64)
    served_pos[[area_pos[a] for a in by_area_areas]] = np.arange(len(by_area_areas))
    weight = ix.weight[ix.pair_area] if n_pair else np.zeros(0)

    if by_area_areas:
        R.add("area_served_once", len(by_area_areas), served_pos[ix.pair_area], assign_cols,
              np.ones(n_pair), 1.0, 1.0, by_area_areas)
    if n_pair:
        k = np.arange(n_pair)
        R.add("assign_only_open", n_pair, np.concatenate([k, k]),
              np.concatenate([assign_cols, O_OPEN + ix.pair_site]),
              np.concatenate([np.ones(n_pair), -np.ones(n_pair)]), -INF, 0.0, ix.pairs)

    def served_weight_rows(name, sites_mask, open_coef, lo, up):
        pos = np.full(n_site, -1, dtype=np.int64)
        pos[sites_mask] = np.arange(int(sites_mask.sum()))
        pk = pos[ix.pair_site]
        keep = pk >= 0
        n = int(sites_mask.sum())
        R.add(name, n, np.concatenate([pk[keep], np.arange(n)]),
              np.concatenate([assign_cols[keep], O_OPEN + site_idx[sites_mask]]),
              np.concatenate([weight[keep], open_coef]), lo, up,
              [s for s, m in zip(ix.site_ids, sites_mask.tolist(), strict=True) if m])

    all_sites = np.ones(n_site, dtype=bool)
    if data.hub_population_min is not None and n_site:
        served_weight_rows("hub_population_min", all_sites,
                           np.full(n_site, -float(p["hub_population_lower"])), 0.0, INF)
    if data.hub_population_max is not None and n_site:
        served_weight_rows("hub_population_max", all_sites,
                           np.full(n_site, -float(p["hub_population_upper"])), -INF, 0.0)
    cap = (data.sites["capacity"].reindex(ix.site_ids).astype(float).to_numpy() if n_site
           else np.zeros(0))
    finite = np.isfinite(cap)
    if finite.any():
        served_weight_rows("site_capacity", finite, -cap[finite], -INF, 0.0)
    if data.hub_count_min and n_site:
        R.add("hub_count_min", 1, np.zeros(n_site), O_OPEN + site_idx, np.ones(n_site),
              float(p["hub_count_lower"]), INF, [None])
    if data.hub_count_max is not None and n_site:
        R.add("hub_count_max", 1, np.zeros(n_site), O_OPEN + site_idx, np.ones(n_site),
              -INF, float(p["hub_count_upper"]), [None])

    core_step = np.array([r_step[r] for r in core], dtype=float)
    n_core_staff = n_site * nc
    core_fte = O_FTE + np.arange(n_core_staff)  # site-major, role-minor
    core_site = np.repeat(site_idx, nc)
    core_j = np.tile(np.arange(nc), n_site)
    if nc and n_site:
        fte_max = p["staff_fte_max"]
        if fte_max is None:
            fte_max = staff_fte_max_values(data, ix, scale)
        m_vals = np.array([fte_max[s, r] for s in ix.site_ids for r in core], dtype=float)
        rr = np.arange(n_core_staff)
        R.add("staff_only_at_open_hubs", n_core_staff, np.concatenate([rr, rr]),
              np.concatenate([core_fte, O_OPEN + core_site]),
              np.concatenate([core_step[core_j], -m_vals]), -INF, 0.0,
              [(s, r) for s in ix.site_ids for r in core])
        cap_fte = data.sites["capacity_fte"].reindex(ix.site_ids).astype(float).to_numpy()
        fin = np.isfinite(cap_fte)
        if fin.any():
            pos = np.full(n_site, -1, dtype=np.int64)
            pos[fin] = np.arange(int(fin.sum()))
            keep = fin[core_site]
            n = int(fin.sum())
            R.add("site_capacity_fte", n, np.concatenate([pos[core_site[keep]], np.arange(n)]),
                  np.concatenate([core_fte[keep], O_OPEN + site_idx[fin]]),
                  np.concatenate([core_step[core_j[keep]], -cap_fte[fin]]), -INF, 0.0,
                  [s for s, f in zip(ix.site_ids, fin.tolist(), strict=True) if f])
        mins = np.array([r_min[r] for r in core], dtype=float)
        has_min = mins[core_j] > 0
        if has_min.any():
            n = int(has_min.sum())
            rr = np.arange(n)
            R.add("core_minimum_fte", n, np.concatenate([rr, rr]),
                  np.concatenate([core_fte[has_min], O_OPEN + core_site[has_min]]),
                  np.concatenate([core_step[core_j[has_min]], -mins[core_j[has_min]]]),
                  0.0, INF, [(ix.site_ids[i], core[j]) for i, j in
                             zip(core_site[has_min].tolist(), core_j[has_min].tolist(),
                                 strict=True)])

    def demand_rows(name, unit_of_pair, unit_base, role_names, unit_names):
        """Rows (unit, role) with demand, unit-major: prod*step fte + unmet - scale * sum of
        the demand of the unit's pairs x assign >= 0. ``unit_of_pair`` is each pair's unit
        (-1: none), ``unit_base`` each unit's first staff position."""
        nr, n_units = len(role_names), len(unit_base)
        if not nr or not n_units:
            return
        k = np.flatnonzero(unit_of_pair >= 0)
        d = ix.demand[ix.pair_area[k]][:, [ix.roles.index(r) for r in role_names]]
        key = unit_of_pair[k][:, None] * nr + np.arange(nr)[None, :]
        nz = d > 0
        present = np.zeros(n_units * nr, dtype=bool)
        present[key[nz]] = True
        row_of = np.cumsum(present) - 1
        n = int(present.sum())
        if not n:  # no demand anywhere: Pyomo builds no component either
            return
        keys = np.flatnonzero(present)
        unit, j = keys // nr, keys % nr
        staff = np.asarray(unit_base, dtype=np.int64)[unit] + j
        prod_step = np.array([r_prod[r] * r_step[r] for r in role_names])[j]
        rr = np.arange(n)
        R.add(name, n,
              np.concatenate([rr, rr, row_of[key[nz]]]),
              np.concatenate([O_FTE + staff, O_UN + staff, O_ASSIGN + np.broadcast_to(
                  k[:, None], key.shape)[nz]]),
              np.concatenate([prod_step, np.ones(n), -scale * d[nz]]), 0.0, INF,
              [(unit_names[u], role_names[r]) for u, r in zip(unit.tolist(), j.tolist(),
                                                              strict=True)])

    if nc:  # units: the sites some area may use, in site order
        has_pairs = np.zeros(n_site, dtype=bool)
        has_pairs[ix.pair_site] = True
        unit_pos = np.full(n_site, -1, dtype=np.int64)
        unit_pos[has_pairs] = np.arange(int(has_pairs.sum()))
        demand_rows("core_demand_covered", unit_pos[ix.pair_site],
                    np.flatnonzero(has_pairs) * nc, core,
                    [s for s, h in zip(ix.site_ids, has_pairs.tolist(), strict=True) if h])
    if ns and ix.pools:
        pool_of_pair = np.array([pool_pos.get(v, -1) if v is not None else -1
                                 for v in ix.pair_pool], dtype=np.int64)
        demand_rows("pool_demand_covered", pool_of_pair,
                    n_core_staff + np.arange(len(ix.pools)) * ns, spec, ix.pools)

    if n_staff:
        has_share = share_s > 0
        if has_share.any():
            n = int(has_share.sum())
            rr = np.arange(n)
            st = np.flatnonzero(has_share)
            R.add("agency_share_max", n, np.concatenate([rr, rr]),
                  np.concatenate([O_AG + st, O_FTE + st]),
                  np.concatenate([np.ones(n), -share_s[st] * step_s[st]]), -INF, 0.0,
                  [ix.staff[i] for i in st.tolist()])
    if data.supervision and n_staff:
        _supervision_rows(R, data, ix, O_FTE, r_step)
    if data.budget_cap_gbp is not None:
        cols, vals = cost_terms()
        R.add("budget_cap", 1, np.zeros(len(cols)), cols, vals, -INF,
              float(p["budget_cap_gbp"]), [None])
    if data.supply_fte and n_staff:
        units_of: dict = {}
        for i, r in enumerate(staff_role):
            units_of.setdefault(r, []).append(i)
        sroles = [r for r in data.supply_fte if r in units_of]
        if sroles:
            rows, cols, vals = [], [], []
            for q, r in enumerate(sroles):
                st = np.asarray(units_of[r], dtype=np.int64)
                rows += [np.full(2 * len(st), q)]
                cols += [O_FTE + st, O_AG + st]
                vals += [np.full(len(st), r_step[r]), -np.ones(len(st))]
            R.add("workforce_supply", len(sroles), np.concatenate(rows),
                  np.concatenate(cols), np.concatenate(vals), -INF,
                  np.array([float(data.supply_fte[r]) for r in sroles]), sroles)
    if has_mt and by_area_areas:
        n = len(by_area_areas)
        R.add("max_travel_bound", n, np.concatenate([np.arange(n), served_pos[ix.pair_area]]),
              np.concatenate([np.full(n, O_MT), assign_cols]),
              np.concatenate([np.ones(n), -ix.travel_cost.astype(float)]), 0.0, INF,
              by_area_areas)
    held = stages[:-1]
    if held:
        rows, cols, vals = [], [], []
        for q, s in enumerate(held):
            c, v = terms[s]
            rows.append(np.full(len(c), q))
            cols.append(c)
            vals.append(v)
        bounds = p["stage_optimum_bound"] or {}
        R.add("stage_optimum_held", len(held), np.concatenate(rows), np.concatenate(cols),
              np.concatenate(vals), -INF,
              np.array([float(bounds.get(s, INF)) for s in held]), held)

    var_keys = {"open_site": ix.site_ids, "assign": ix.pairs, "fte_steps": ix.staff,
                "agency_fte": ix.staff, "unmet_hours": ix.staff}
    if has_mt:
        var_keys["max_travel_cost"] = [None]
    mm = _assemble(R, stages, terms, n_col, lower, upper, integ, sizes, offset)
    mm.keys = {**var_keys, **R.keys}
    return mm


def _supervision_rows(R, data, ix, O_FTE, r_step):
    staff_pos = {key: i for i, key in enumerate(ix.staff)}
    units = list(dict.fromkeys(u for u, _ in ix.staff))
    rows, cols, vals = [], [], []
    keys = []
    q = 0
    for k, rule in enumerate(data.supervision):
        for u in units:
            if (u, rule.supervisor) not in staff_pos or not any(
                    (u, r) in staff_pos for r in rule.supervises):
                continue
            sup = [r for r in rule.supervises if (u, r) in staff_pos and r != rule.supervisor]
            rows += [q] * (1 + len(sup))
            cols += [O_FTE + staff_pos[u, rule.supervisor]] + [O_FTE + staff_pos[u, r]
                                                                for r in sup]
            vals += [rule.max_ratio * r_step[rule.supervisor]] + [-r_step[r] for r in sup]
            keys.append((u, k))
            q += 1
    if q:
        R.add("supervision_ratio", q, rows, cols, vals, 0.0, INF, keys)


def _assemble(R: _Rows, stages, terms, n_col, lower, upper, integ, sizes, offset) -> MatrixModel:
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
