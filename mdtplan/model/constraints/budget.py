"""Budget: the annual cost of staff (agency at its premium) and sites within the cap."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression


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
    """Coefficients [GBP/year per unit] and variables of the annual cost (no travel).

    ``sum cost_r fte + sum cost_r premium_r agency_fte + sum_s site_cost_s open_site_s``.
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
    return coefs, xs


def add_budget_constraints(m, data, ix) -> None:
    """Add ``budget_cap`` when the scenario sets a cap."""
    add_budget_cap(m, data, ix)


def add_budget_cap(m, data, ix) -> None:
    r"""Annual staff and site cost within the budget cap.

    .. math:: \sum_{u,r} c_r\, fte_{u,r} + \sum_{u,r} c_r\, \pi_r\, agency\_fte_{u,r}
              + \sum_s (f_s + o_s [status_s = candidate])\, open\_site_s \le cap

    :math:`c_r` cost per FTE [GBP/yr], :math:`\pi_r` agency premium, :math:`f_s` fixed and
    :math:`o_s` opening cost [GBP/yr]. ``cap`` is the mutable ``budget_cap_gbp``. Travel is not
    part of the budget.
    """
    if data.budget_cap_gbp is None:
        return
    coefs, xs = cost_terms(m, data, ix)
    total = LinearExpression(constant=0.0, linear_coefs=coefs, linear_vars=xs)
    m.budget_cap = pyo.Constraint(expr=total <= m.budget_cap_gbp)
