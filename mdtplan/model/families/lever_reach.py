r"""A lever reaches at most its share of the cohort in the catchments of the hubs that run it.

Each lever :math:`k` (a workstream the model works out, :mod:`mdtplan.care`) is run by the hubs:
:math:`q_{k,s} \ge 0` (``lever_people``) people of its cohort are reached a year by hub
:math:`s`'s team, at most the lever's share :math:`\sigma_k` of the cohort :math:`c_{k,a}` of
the areas the hub serves:

.. math:: q_{k,s} - \sigma_k \sum_{a:(a,s) \in PAIRS} c_{k,a}\, assign_{a,s} \le 0
          \qquad \forall (k, s) \in LEVER\_SITES

The people reached need :math:`\eta_{k,r}` hours of each role each (negative: hours the lever
frees), delivered by the hub's staff for core roles and by the hub's specialist pool for
specialist roles: :math:`\sum_k \eta_{k,r}\, q_{k,s}` joins the demand side of
``core_demand_covered`` (``pool_demand_covered``), so the staffing, supply, supervision and
budget rules hold the lever back exactly as they hold the hubs' own demand. The cost stage of
the objective counts each person reached as the care spend it avoids,
:math:`-\gamma_k\, q_{k,s}` [GBP/year] (the most likely level); the staff it needs are costed by
the FTE. Lever hours are not scaled by the demand scale and carry no staff travel of their own
(the hours per person of a pathway include its travel).

A hub's specialist pool is the pool of its pairs; where they lie in several pools, the pool of
its own area (its root: :func:`~.catchment_contiguous.root_pairs`).
``LEVER_SITES`` holds the (lever, site) pairs whose catchment could hold some of the cohort.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from .base import INF, Family

NAME = "lever_reach"
VAR = "lever_people"


@dataclass(frozen=True)
class LeverIndex:
    """``LEVER_SITES`` and the terms each brings.

    Attributes
    ----------
    keys : list of tuple
        ``(lever_id, site_id)``, lever-major, sites in ``ix.site_ids`` order.
    key_lever, key_site : ndarray of int
        Lever position (``data.levers.cohort`` column) and site position of each key.
    pair_cohort : ndarray, shape (pairs, levers)
        Cohort of each pair's area [people].
    share : ndarray, shape (levers,)
        :math:`\\sigma_k`.
    saving_gbp : ndarray, shape (levers,)
        :math:`\\gamma_k` [GBP/year per person].
    hours : ndarray, shape (levers, roles)
        :math:`\\eta_{k,r}` in ``ix.roles`` order [h/person].
    site_pool : list
        Each site's specialist pool (None: none).
    """

    keys: list
    key_lever: np.ndarray
    key_site: np.ndarray
    pair_cohort: np.ndarray
    share: np.ndarray
    saving_gbp: np.ndarray
    hours: np.ndarray
    site_pool: list


def lever_index(data, ix) -> LeverIndex | None:
    """The levers' index (``None`` without levers), made once per index and kept on it."""
    lv = getattr(data, "levers", None)
    if lv is None or not len(lv.cohort.columns):
        return None
    cached = ix.__dict__.get("_levers")
    if cached is not None:
        return cached
    from .catchment_contiguous import root_pairs

    cohort = lv.cohort.reindex(ix.area_ids).fillna(0.0).to_numpy(dtype=float)
    pair_cohort = cohort[ix.pair_area] if len(ix.pairs) else np.zeros((0, cohort.shape[1]))
    n_s = len(ix.site_ids)
    per_site = np.zeros((n_s, cohort.shape[1]))
    if len(ix.pairs):
        np.add.at(per_site, ix.pair_site, pair_cohort)
    kl, ks = np.nonzero(per_site.T > 0)  # lever-major, then site order
    ids = list(lv.cohort.columns)
    hours = lv.hours.reindex(index=ids, columns=ix.roles).fillna(0.0).to_numpy(dtype=float)
    roots = root_pairs(data, ix)
    site_pool: list = []
    for s_i, s in enumerate(ix.site_ids):
        ps = ix.pairs_by_site.get(s)
        pools = {ix.pair_pool[k] for k in ps} - {None} if ps is not None else set()
        if len(pools) == 1:
            site_pool.append(next(iter(pools)))
        elif pools and roots[s_i] >= 0:
            site_pool.append(ix.pair_pool[roots[s_i]])
        else:
            site_pool.append(None)
    out = LeverIndex(keys=[(ids[k], ix.site_ids[s]) for k, s in zip(kl.tolist(), ks.tolist(),
                                                                    strict=True)],
                     key_lever=kl, key_site=ks, pair_cohort=pair_cohort,
                     share=lv.max_share.reindex(ids).to_numpy(dtype=float),
                     saving_gbp=lv.saving_gbp.reindex(ids).to_numpy(dtype=float),
                     hours=hours, site_pool=site_pool)
    object.__setattr__(ix, "_levers", out)  # frozen: kept beside it, made once
    return out


def upper_bounds(li: LeverIndex, ix) -> np.ndarray:
    """Each key's most people: the lever's share of the cohort of every area the site may
    serve (implied by the reach row; given as a bound, it keeps HiGHS's first bounds, before
    the root LP, finite) [people]."""
    reach = np.zeros((len(ix.site_ids), li.pair_cohort.shape[1]))
    if len(ix.pairs):
        np.add.at(reach, ix.pair_site, li.pair_cohort)
    return li.share[li.key_lever] * reach[li.key_site, li.key_lever]


def n_lever_columns(data, ix) -> int:
    li = lever_index(data, ix)
    return 0 if li is None else len(li.keys)


def staff_terms(data, ix, kind: str) -> list:
    """Lever terms of the demand rows: ``(unit, role, key position, hours)`` for ``kind``
    ``core`` (unit = site) or ``pool`` (unit = the site's pool), in key order, roles in
    ``ix.roles`` order within a key."""
    li = lever_index(data, ix)
    if li is None:
        return []
    roles = ix.core_roles if kind == "core" else ix.specialist_roles
    rpos = [(r, ix.roles.index(r)) for r in roles]
    out = []
    for n, (k, s) in enumerate(zip(li.key_lever.tolist(), li.key_site.tolist(), strict=True)):
        unit = ix.site_ids[s] if kind == "core" else li.site_pool[s]
        if unit is None:
            continue
        for r, j in rpos:
            h = float(li.hours[k, j])
            if h != 0.0:
                out.append((unit, r, n, h))
    return out


def unit_lever_terms(m, data, ix, kind: str) -> dict:
    """Pyomo form of :func:`staff_terms`: (unit, role) -> (coefficients, variables)."""
    terms = staff_terms(data, ix, kind)
    if not terms:
        return {}
    q = list(m.lever_people.values())
    out: dict = {}
    for unit, r, n, h in terms:
        coefs, xs = out.setdefault((unit, r), ([], []))
        coefs.append(h)
        xs.append(q[n])
    return out


def _reach_terms(li, ix, n):
    k, s = int(li.key_lever[n]), li.key_site[n]
    ps = ix.pairs_by_site[ix.site_ids[s]]
    c = li.pair_cohort[ps, k]
    nz = c > 0
    return ps[nz], -li.share[k] * c[nz]


def add_lever_reach(m, data, ix) -> None:
    """Declare ``m.LEVER_SITES``, ``m.lever_people`` and ``m.lever_reach``."""
    li = lever_index(data, ix)
    if li is None or not li.keys:
        return
    m.LEVER_SITES = pyo.Set(initialize=li.keys, dimen=2, ordered=True)
    upper = dict(zip(li.keys, upper_bounds(li, ix).tolist(), strict=True))

    def _lever_people_bounds(m, k, s):
        return (0.0, upper[k, s])

    m.lever_people = pyo.Var(m.LEVER_SITES, domain=pyo.NonNegativeReals,
                             bounds=_lever_people_bounds,
                             doc="people of the lever's cohort the hub reaches [people/year]")
    assign = list(m.assign.values())
    pos = {key: n for n, key in enumerate(li.keys)}

    def _lever_reach_rule(m, k, s):
        n = pos[k, s]
        ps, coefs = _reach_terms(li, ix, n)
        return m.lever_people[k, s] + sum(float(c) * assign[p] for p, c in
                                          zip(ps.tolist(), coefs.tolist(), strict=True)) <= 0.0

    m.lever_reach = pyo.Constraint(m.LEVER_SITES, rule=_lever_reach_rule)


def lever_reach_rows(cols, R) -> None:
    ix = cols.ix
    li = lever_index(cols.data, ix)
    if li is None or not li.keys:
        return
    rows, cs, vs = [], [], []
    q0 = cols.offset[VAR]
    for n in range(len(li.keys)):
        ps, coefs = _reach_terms(li, ix, n)
        rows.append(np.full(1 + len(ps), n))
        cs.append(np.concatenate([[q0 + n], cols.assign_cols[ps]]))
        vs.append(np.concatenate([[1.0], coefs]))
    R.add(NAME, len(li.keys), np.concatenate(rows), np.concatenate(cs), np.concatenate(vs),
          -INF, 0.0, list(li.keys))


def objective_terms(data, ix) -> tuple[np.ndarray, np.ndarray]:
    """Key positions and cost-stage coefficients (``-saving``) of ``lever_people``."""
    li = lever_index(data, ix)
    if li is None or not li.keys:
        return np.zeros(0, np.int64), np.zeros(0)
    return np.arange(len(li.keys)), -li.saving_gbp[li.key_lever]


FAMILY = Family(NAME, "lever reach", add_lever_reach, lever_reach_rows)
