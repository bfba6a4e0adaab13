r"""Budget: the annual cost of staff (agency at its premium) and sites within the cap.

.. math:: \sum_{u,r} c_r\, fte_{u,r} + \sum_{u,r} c_r\, \pi_r\, agency\_fte_{u,r}
          + \sum_s (f_s + o_s [status_s = candidate])\, open\_site_s
          + \mu \sum_{(a,s)} m_{a,s}\, assign_{a,s} \le cap

:math:`c_r` cost per FTE [GBP/yr], :math:`\pi_r` agency premium, :math:`f_s` fixed and
:math:`o_s` opening cost [GBP/yr], :math:`\mu` the mileage rate [GBP/mile] and
:math:`m_{a,s} = \sum_r d_{a,r} v_r\, miles_{a,s}` the miles of the pair's visits a year
(staff travel; none without it). ``cap`` is the mutable ``budget_cap_gbp``. Travel priced
per unit (``travel.cost_gbp_per_unit``) is not part of the budget. The same annual cost (:func:`cost_terms`, :func:`cost_columns`) is the
objective's ``cost_gbp`` stage.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from .base import INF, Family, gbp

NAME = "budget_cap"


def _costs(column) -> np.ndarray:
    """``column.astype(float).fillna(0.0)`` as an array (a float column without pandas)."""
    if column.dtype == np.float64:
        values = column.to_numpy()
        return np.where(np.isnan(values), 0.0, values)
    return column.astype(float).fillna(0.0).to_numpy()


def site_cost_gbp(data, site_ids) -> np.ndarray:
    """Annual cost of opening each site [GBP/year]: fixed cost, plus opening cost if candidate.

    Existing and required sites are costed as existing (no opening cost).
    """
    sites = data.sites
    ids = list(site_ids)
    # positions by dict, columns as arrays: a row selection (.loc) cost a millisecond or so
    # on every call, and this is called once per model part that prices sites
    where = {s: i for i, s in enumerate(sites.index.tolist())}
    pos = np.fromiter((where.get(s, -1) for s in ids), np.intp, len(ids))
    if (pos < 0).any() or len(where) != len(sites):
        sites = sites.loc[ids]  # raises on an unknown site, as before; or repeated ids
        pos = np.arange(len(sites))
    fixed = _costs(sites["fixed_cost_gbp"])[pos]
    opening = _costs(sites["opening_cost_gbp"])[pos]
    status = sites["status"].astype(str).to_numpy()[pos]
    return fixed + np.where(status == "candidate", opening, 0.0)


def cost_terms(m, data, ix) -> tuple[list, list]:
    """Coefficients [GBP/year per unit] and variables of the annual cost (no travel priced
    per unit; staff mileage included).

    ``sum cost_r fte + sum cost_r premium_r agency_fte + sum_s site_cost_s open_site_s
    + sum_k mileage_gbp_k assign_k``.
    """
    coefs: list = []
    xs: list = []
    if ix.staff:
        cost = data.roles["cost_gbp_per_fte"].astype(float).to_dict()
        prem = data.roles["agency_premium"].astype(float).to_dict()
        step = data.roles["fte_step"].astype(float).to_dict()
        for u, r in ix.staff:
            coefs.append(cost[r] * step[r])
            xs.append(m.fte_steps[u, r])
            if prem[r] > 0:
                coefs.append(cost[r] * prem[r])
                xs.append(m.agency_fte[u, r])
    site_cost = site_cost_gbp(data, ix.site_ids)
    for s, c in zip(ix.site_ids, site_cost, strict=True):
        if c != 0:
            coefs.append(float(c))
            xs.append(m.open_site[s])
    mileage = ix.pair_mileage_gbp()
    if mileage is not None:
        assign = list(m.assign.values())
        for k in np.flatnonzero(mileage != 0):
            coefs.append(float(mileage[k]))
            xs.append(assign[k])
    return coefs, xs


def cost_columns(cols) -> tuple[np.ndarray, np.ndarray]:
    """:func:`cost_terms` for the direct build: columns and values, in the same order."""
    out_cols, out_vals = [], []
    n_staff = cols.n_staff
    if n_staff:
        fte_c = cols.offset["fte_steps"] + np.arange(n_staff)
        ag_c = cols.offset["agency_fte"] + np.arange(n_staff)
        has_prem = cols.prem_s > 0
        # interleaved as the Pyomo expression is: fte, agency (where a premium), ...
        c2 = np.stack([fte_c, np.where(has_prem, ag_c, -1)], axis=1).reshape(-1)
        v2 = np.stack([cols.cost_s * cols.step_s, cols.cost_s * cols.prem_s],
                      axis=1).reshape(-1)
        keep = c2 >= 0
        out_cols.append(c2[keep])
        out_vals.append(v2[keep])
    site_cost = site_cost_gbp(cols.data, cols.ix.site_ids) if cols.n_site else np.zeros(0)
    nzs = site_cost != 0
    out_cols.append(cols.open_cols(nzs))
    out_vals.append(site_cost[nzs].astype(float))
    mileage = cols.ix.pair_mileage_gbp()
    if mileage is not None:
        nzm = mileage != 0
        out_cols.append(cols.assign_cols[nzm])
        out_vals.append(mileage[nzm].astype(float))
    return np.concatenate(out_cols), np.concatenate(out_vals)


def add_budget_cap(m, data, ix) -> None:
    """Declare ``m.budget_cap`` (one row) when the scenario sets a cap."""
    if data.budget_cap_gbp is None:
        return
    coefs, xs = cost_terms(m, data, ix)
    total = LinearExpression(constant=0.0, linear_coefs=coefs, linear_vars=xs)
    m.budget_cap = pyo.Constraint(expr=total <= m.params.budget_cap_gbp)


def budget_cap_rows(cols, R) -> None:
    if cols.data.budget_cap_gbp is None:
        return
    c, v = cost_columns(cols)
    R.add(NAME, 1, np.zeros(len(c)), c, v, -INF, float(cols.params["budget_cap_gbp"]), [None])


def describe(amount, idx, approx, where, data):
    cap = data.budget_cap_gbp or 0.0
    return (None, "budget.cap",
            f"the budget cap {gbp(cap)} is {approx}{gbp(amount)} below the least cost of a "
            f"plan that meets every other rule ({gbp(cap + amount)})",
            f"raise budget.cap to at least {gbp(cap + amount)}")


FAMILY = Family(NAME, "budget cap", add_budget_cap, budget_cap_rows, params=("budget_cap_gbp",),
                defaults=lambda data: {"budget_cap_gbp": data.budget_cap_gbp},
                slack_unit=100_000.0, explain_rank=0, describe=describe, baseline_rank=4)
