r"""Core staff only at open hubs, within a tight big-M.

.. math:: fte_{s,r} \le M_{s,r}\, open\_site_s \quad \forall s, r \in CORE\_ROLES

:math:`M_{s,r}` (the mutable parameter ``staff_fte_max``, which follows ``demand_scale``) is
from :func:`staff_fte_max_values`: what the demand the site can reach could ever need. A rule of
the model's structure: never relaxed in explanations.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from .base import INF, Family

NAME = "staff_only_at_open_hubs"


def _core_reach_hours(ix, scale: float) -> np.ndarray:
    """Demand hours of every area each site may serve, per core role, staff travel included
    [hours/year]:
    shape (sites, core roles)."""
    cols = [ix.roles.index(r) for r in ix.core_roles]
    d = ix.pair_demand(None, cols) if len(ix.pair_area) else np.zeros((0, len(cols)))
    out = np.zeros((len(ix.site_ids), len(cols)))
    for j in range(len(cols)):
        out[:, j] = np.bincount(ix.pair_site, weights=d[:, j], minlength=len(ix.site_ids))
    return out * scale


def _lever_reach_hours(data, ix) -> np.ndarray:
    """The most hours of each core role the levers could ask of each site: every lever at its
    share of the cohort of all the areas the site may serve (hours it frees are not counted)
    [hours/year]: shape (sites, core roles)."""
    from .lever_reach import lever_index

    out = np.zeros((len(ix.site_ids), len(ix.core_roles)))
    li = lever_index(data, ix)
    if li is None or not len(ix.pairs):
        return out
    reach = np.zeros((len(ix.site_ids), li.pair_cohort.shape[1]))
    np.add.at(reach, ix.pair_site, li.pair_cohort)
    cols = [ix.roles.index(r) for r in ix.core_roles]
    return (reach * li.share[None, :]) @ np.maximum(li.hours[:, cols], 0.0)


def staff_fte_max_values(data, ix, scale: float = 1.0) -> dict:
    """A tight upper bound M on the core FTE a hub can ever need, per (site, core role) [FTE].

    ``M = max(min_fte_per_hub, step_up(reachable demand / productive hours))`` (the levers'
    hours the site could be asked for included), then raised so a
    supervisor can supervise the others' M (rules applied until nothing changes). No optimal
    plan staffs a hub above M: more FTE than the demand the hub can reach only adds cost.
    """
    if not ix.core_roles:
        return {}
    core = list(ix.core_roles)
    roles = data.roles.reindex(core)
    step = roles["fte_step"].astype(float).to_numpy()
    prod = roles["productive_hours_per_fte"].astype(float).to_numpy()
    mins = roles["min_fte_per_hub"].astype(float).to_numpy()
    hours = _core_reach_hours(ix, scale) + _lever_reach_hours(data, ix)

    def step_up(x, st):  # smallest multiple of st >= x, with a little rounding slack
        return np.where(x > 0, np.ceil(x / st - 1e-9) * st, 0.0)

    out = np.maximum(step_up(mins, step)[None, :], step_up(hours / prod[None, :], step))
    pos = {r: j for j, r in enumerate(core)}
    rules = [rule for rule in data.supervision if rule.supervisor in pos]
    for _ in range(len(rules) + 1):
        changed = False
        for rule in rules:
            j = pos[rule.supervisor]
            subs = [pos[r] for r in rule.supervises if r in pos]
            load = out[:, subs].sum(axis=1) if subs else np.zeros(len(out))
            want = step_up(load / rule.max_ratio, step[j])
            raise_ = want > out[:, j] + 1e-9
            if raise_.any():
                out[raise_, j] = want[raise_]
                changed = True
        if not changed:
            break
    return {(s, r): float(out[i, j]) for i, s in enumerate(ix.site_ids)
            for j, r in enumerate(core)}


def add_staff_only_at_open_hubs(m, data, ix) -> None:
    """Declare the parameter ``m.params.staff_fte_max`` and ``m.staff_only_at_open_hubs``."""
    if not ix.core_roles or not ix.site_ids:
        return
    index = [(s, r) for s in ix.site_ids for r in ix.core_roles]
    m.params.staff_fte_max = pyo.Param(index, mutable=True,
                                       initialize=staff_fte_max_values(data, ix, 1.0),
                                       doc="[FTE]")
    fte_max = m.params.staff_fte_max
    step = data.roles["fte_step"].astype(float).to_dict()

    def _staff_only_at_open_hubs_rule(m, s, r):
        return LinearExpression(constant=0.0, linear_coefs=[step[r], -fte_max[s, r]],
                                linear_vars=[m.fte_steps[s, r], m.open_site[s]]) <= 0.0

    m.staff_only_at_open_hubs = pyo.Constraint(index, rule=_staff_only_at_open_hubs_rule)


def staff_only_at_open_hubs_rows(cols, R) -> None:
    ix = cols.ix
    core = ix.core_roles
    if not core or not cols.n_site:
        return
    fte_max = cols.params["staff_fte_max"]
    if fte_max is None:
        fte_max = staff_fte_max_values(cols.data, ix, float(cols.params["demand_scale"]))
    m_vals = np.array([fte_max[s, r] for s in ix.site_ids for r in core], dtype=float)
    fte, site, j, core_step = cols.core_staff()
    rr = np.arange(len(fte))
    R.add(NAME, len(fte), np.concatenate([rr, rr]),
          np.concatenate([fte, cols.open_cols(site)]),
          np.concatenate([core_step[j], -m_vals]), -INF, 0.0,
          [(s, r) for s in ix.site_ids for r in core])


FAMILY = Family(NAME, "staff only at open hubs", add_staff_only_at_open_hubs,
                staff_only_at_open_hubs_rows, params=("demand_scale", "staff_fte_max"))
