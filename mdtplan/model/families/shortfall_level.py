r"""The overall unmet share to a resolution of 2**-10, and each hub's demand times its digits:
what the fair-shortfall rule (:mod:`~mdtplan.model.families.hub_shortfall_spread`) reads.

.. math::
    \lambda D \sum_{b=1}^{B} 2^{-b} \delta_b - \sum_{j, r \in CORE} unmet_{j,r} &\le 0
        &\quad& \text{(shortfall\_level)} \\
    D_j - \sum_a d_a\, assign_{a,j} &\le 0 && \text{(hub\_core\_demand\_max)} \\
    y_{j,b} - D_j \le 0, \qquad y_{j,b} - \bar D_j\, \delta_b &\le 0
        && \text{(hub\_level\_max, hub\_level\_bit)}

Variables: ``shortfall_bits`` :math:`\delta_b` (binary, :math:`b = 1..B`, :data:`BITS`),
``hub_core_demand`` :math:`D_j` and ``hub_level_hours`` :math:`y_{j,b}` [hours/year, unscaled],
over the hubs with core demand in reach. :math:`\sigma = \sum_b 2^{-b}\delta_b` is at most the
overall core unmet share :math:`U/D`; :math:`D_j` at most hub :math:`j`'s core demand;
:math:`y_{j,b}` at most :math:`D_j \delta_b` (McCormick with a binary: exact). Only upper
limits: a larger value only loosens the rule that reads them, so the rule holds them at their
limits where it must. A definition, never relaxed in explanations; built with the rule (under
``max_demand_met`` with ``hubs.max_shortfall_spread`` set, core roles and core demand).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from .base import INF, Family

NAME = "shortfall_level"
#: bits of the overall unmet share's binary expansion: resolution 2**-BITS (0.098 points)
BITS = 10
RESOLUTION = 2.0 ** -BITS
#: variable components the rule declares (in the order their columns are laid out)
VARIABLES = ("shortfall_bits", "hub_core_demand", "hub_level_hours")


@dataclass(frozen=True)
class SpreadIndex:
    """What the rows read: the hubs held to the rule and their pairs' core demand.

    Attributes
    ----------
    hubs : list of str
        Sites with core demand in reach, in site order.
    hub_pos : ndarray of int
        Their positions in ``ix.site_ids``.
    pairs : list of ndarray
        Per hub, the positions of its pairs with core demand.
    demand : list of ndarray
        Per hub, those pairs' areas' core demand [hours/year, unscaled].
    reach : ndarray
        Per hub, :math:`\\bar D_j`: the core demand of every area it may serve.
    total : float
        :math:`D`: the core demand of every area with a pair [hours/year, unscaled].
    spread : float
    """

    hubs: list
    hub_pos: np.ndarray
    pairs: list
    demand: list
    reach: np.ndarray
    total: float
    spread: float

    @property
    def bits(self) -> list:
        return list(range(1, BITS + 1))

    @property
    def levels(self) -> list:
        return [(s, b) for s in self.hubs for b in range(1, BITS + 1)]


def applies(data, ix) -> bool:
    return (data.objective == "max_demand_met" and data.max_shortfall_spread is not None
            and bool(ix.core_roles))


def spread_index(data, ix) -> SpreadIndex | None:
    """The rule's index, or None when it is not built (off, another objective, no core
    roles or no core demand)."""
    if not applies(data, ix):
        return None
    cols = [ix.roles.index(r) for r in ix.core_roles]
    area_core = ix.demand[:, cols].sum(axis=1)
    pair_d = area_core[ix.pair_area]
    served = np.zeros(len(ix.area_ids), dtype=bool)
    served[ix.pair_area] = True
    total = float(area_core[served].sum())
    if total <= 0:
        return None
    hubs, pos, pairs, dem, reach = [], [], [], [], []
    for i, s in enumerate(ix.site_ids):
        ks = ix.pairs_by_site.get(s)
        if ks is None:
            continue
        ks = ks[pair_d[ks] > 0]
        if not len(ks):
            continue
        hubs.append(s)
        pos.append(i)
        pairs.append(ks)
        dem.append(pair_d[ks])
        reach.append(float(pair_d[ks].sum()))
    if not hubs:
        return None
    return SpreadIndex(hubs, np.asarray(pos, dtype=np.int64), pairs, dem,
                       np.asarray(reach, dtype=float), total, float(data.max_shortfall_spread))


# --------------------------------------------------------------------------------------------
# The level: sigma, D_j and y_{j,b} (a definition, never relaxed)


def add_shortfall_level(m, data, ix) -> None:
    """Declare the variables ``shortfall_bits``, ``hub_core_demand``, ``hub_level_hours`` and
    the rows ``shortfall_level``, ``hub_core_demand_max``, ``hub_level_max``,
    ``hub_level_bit`` (see the module docstring)."""
    sp = spread_index(data, ix)
    if sp is None:
        return
    bits = sp.bits
    m.shortfall_bits = pyo.Var(bits, domain=pyo.Binary,
                               doc="binary digits of the overall unmet share (a lower bound)")
    m.hub_core_demand = pyo.Var(sp.hubs, domain=pyo.NonNegativeReals,
                                doc="[hours/year, unscaled] core demand at the hub (at most)")
    m.hub_level_hours = pyo.Var(sp.levels, domain=pyo.NonNegativeReals,
                                doc="[hours/year, unscaled] hub_core_demand x shortfall_bits")
    scale = m.params.demand_scale
    unmet = [m.unmet_hours[s, r] for s in ix.site_ids for r in ix.core_roles]
    weights = [sp.total * 2.0 ** -b for b in bits]

    def _shortfall_level_rule(m):
        return (scale * LinearExpression(constant=0.0, linear_coefs=weights,
                                         linear_vars=[m.shortfall_bits[b] for b in bits])
                - LinearExpression(constant=0.0, linear_coefs=[1.0] * len(unmet),
                                   linear_vars=unmet) <= 0.0)

    m.shortfall_level = pyo.Constraint(rule=_shortfall_level_rule)
    assign = list(m.assign.values())
    at = {s: i for i, s in enumerate(sp.hubs)}

    def _hub_core_demand_max_rule(m, s):
        i = at[s]
        return LinearExpression(
            constant=0.0, linear_coefs=[1.0] + [-float(x) for x in sp.demand[i]],
            linear_vars=[m.hub_core_demand[s]] + [assign[k] for k in sp.pairs[i]]) <= 0.0

    m.hub_core_demand_max = pyo.Constraint(sp.hubs, rule=_hub_core_demand_max_rule)

    def _hub_level_max_rule(m, s, b):
        return LinearExpression(constant=0.0, linear_coefs=[1.0, -1.0],
                                linear_vars=[m.hub_level_hours[s, b],
                                             m.hub_core_demand[s]]) <= 0.0

    m.hub_level_max = pyo.Constraint(sp.levels, rule=_hub_level_max_rule)

    def _hub_level_bit_rule(m, s, b):
        return LinearExpression(constant=0.0, linear_coefs=[1.0, -float(sp.reach[at[s]])],
                                linear_vars=[m.hub_level_hours[s, b],
                                             m.shortfall_bits[b]]) <= 0.0

    m.hub_level_bit = pyo.Constraint(sp.levels, rule=_hub_level_bit_rule)


def var_cols(cols, name: str, n: int) -> np.ndarray:
    """The direct build's columns of variable component ``name`` (``n`` members)."""
    return cols.offset[name] + np.arange(n)


def shortfall_level_rows(cols, R) -> None:
    ix = cols.ix
    sp = spread_index(cols.data, ix)
    if sp is None:
        return
    lam = float(cols.params["demand_scale"])
    nh, nb = len(sp.hubs), BITS
    bits = var_cols(cols, "shortfall_bits", nb)
    dem = var_cols(cols, "hub_core_demand", nh)
    lev = var_cols(cols, "hub_level_hours", nh * nb)
    nc = len(ix.core_roles)
    unmet = cols.offset["unmet_hours"] + np.arange(cols.n_site * nc)
    w = lam * sp.total * 2.0 ** -np.arange(1, nb + 1)
    R.add(NAME, 1, np.zeros(nb + len(unmet)), np.concatenate([bits, unmet]),
          np.concatenate([w, -np.ones(len(unmet))]), -INF, 0.0, [None])
    sizes = np.array([len(k) for k in sp.pairs])
    rr = np.concatenate([np.arange(nh), np.repeat(np.arange(nh), sizes)])
    # each row's terms in the Pyomo rule's order: hub_core_demand first, then the pairs
    order = np.argsort(rr, kind="stable")
    R.add("hub_core_demand_max", nh, rr[order],
          np.concatenate([dem, cols.offset["assign"] + np.concatenate(sp.pairs)])[order],
          np.concatenate([np.ones(nh), -np.concatenate(sp.demand)])[order], -INF, 0.0,
          sp.hubs)
    n = nh * nb
    rr = np.repeat(np.arange(n), 2)
    R.add("hub_level_max", n, rr, np.stack([lev, np.repeat(dem, nb)], axis=1).ravel(),
          np.tile([1.0, -1.0], n), -INF, 0.0, sp.levels)
    R.add("hub_level_bit", n, rr, np.stack([lev, np.tile(bits, nh)], axis=1).ravel(),
          np.stack([np.ones(n), -np.repeat(sp.reach, nb)], axis=1).ravel(), -INF, 0.0,
          sp.levels)


FAMILY = Family(NAME, "the overall unmet share, to 0.1 point", add_shortfall_level,
                shortfall_level_rows, params=("demand_scale",))


# --------------------------------------------------------------------------------------------
# Shares of a plan (the heuristic start, the reports)


def start_values(data, ix, scale: float, pair_share: np.ndarray, unmet: np.ndarray
                 ) -> tuple[dict, bool, np.ndarray] | None:
    """The rule's variables for a plan, whether it keeps the rule, and its unmet hours.

    A plan that breaks the rule is made to keep it by counting hours unmet at its
    better-served hubs (as the model may: ``unmet_hours`` has no upper bound), the fewest that
    do: the overall unmet share is raised to the least grid value within ``spread`` of the
    worst hub's, best-served hubs first. The plan's staff and assignment are unchanged, so it
    stays a complete start (a worse one, which HiGHS improves).

    Parameters
    ----------
    pair_share : ndarray
        Each pair's ``assign`` value.
    unmet : ndarray
        ``unmet_hours`` per ``ix.staff`` position [hours/year, scaled].

    Returns
    -------
    (dict, bool, ndarray) or None
        ``{variable component: values in key order}``, whether every hub keeps the rule, and
        the unmet hours per ``ix.staff`` position (raised where hours are held back); None
        when the rule is not built.
    """
    sp = spread_index(data, ix)
    if sp is None:
        return None
    nc = len(ix.core_roles)
    unmet = np.asarray(unmet, dtype=float).copy()
    share = np.asarray(pair_share, dtype=float)
    d = np.array([float((dm * share[ks]).sum()) for ks, dm in zip(sp.pairs, sp.demand,
                                                                   strict=True)])
    hub_d = scale * d  # scaled, as the unmet hours
    total = scale * sp.total
    core = unmet[:len(ix.site_ids) * nc].reshape(-1, nc)  # a view: edits reach ``unmet``
    hub_u = core[sp.hub_pos].sum(axis=1)
    has = hub_d > 0
    worst = float((hub_u[has] / hub_d[has]).max()) if has.any() else 0.0
    need = np.ceil(max(worst - sp.spread, 0.0) / RESOLUTION - 1e-9) * RESOLUTION
    if need <= 1.0 - RESOLUTION and float(hub_u.sum()) < need * total:
        # hold hours back at the best-served hubs until the overall share reaches ``need``
        left = need * total * (1 + 1e-9) - float(core.sum())
        room = np.where(has, (need + sp.spread) * hub_d - hub_u, 0.0)
        for i in np.argsort(np.where(has, hub_u / np.where(has, hub_d, 1.0), np.inf),
                            kind="stable"):
            if left <= 0:
                break
            add = min(max(room[i], 0.0), left)
            if add > 0:
                core[sp.hub_pos[i], 0] += add
                hub_u[i] += add
                left -= add
    overall = float(core.sum()) / total
    sigma = min(np.floor(overall / RESOLUTION + 1e-9), 2 ** BITS - 1) * RESOLUTION
    digits = [(int(round(sigma / RESOLUTION)) >> (BITS - b)) & 1 for b in sp.bits]
    bits = np.array(digits, dtype=float)
    levels = (d[:, None] * bits[None, :]).ravel()
    keeps = bool(np.all(hub_u <= (sigma + sp.spread) * hub_d * (1 + 1e-9) + 1e-6))
    return ({"shortfall_bits": bits, "hub_core_demand": d, "hub_level_hours": levels}, keeps,
            unmet)
