r"""No two open hubs closer than ``hubs.min_separation_km``.

.. math:: \sum_{s \in C} open\_site_s \le 1 \quad \forall C \in \mathcal{C}

:math:`\mathcal{C}` is a clique cover of the conflict graph: sites :math:`s \ne t` conflict when
the straight line between their points (EPSG:27700) is shorter than the separation distance
:math:`d_{min}` [km]. Every conflicting pair lies in at least one clique :math:`C` (a set of
sites that all conflict with each other), so the rows allow exactly the plans in which no two
open hubs conflict; a clique row is the sum of its pairs' rows made tight, so the relaxation is
stronger than one row per pair, with fewer rows (the cover is greedy: each uncovered pair, in
order, grows into a maximal clique by adding the common neighbour that covers most uncovered
pairs). Built when ``hubs.min_separation_km`` is set and positive; sites without a point
(tables without coordinates, the OR-Library problems) are not held to it. Two *required* sites
closer than the distance are refused before building.

Rows are keyed by the clique's site ids joined with ``+`` (``S01+S07``), so an explanation or a
baseline breach names the sites.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from .base import INF, Family

NAME = "hub_separation"


def conflict_pairs(data, ix) -> tuple[np.ndarray, np.ndarray]:
    """Site positions ``(i, j)``, ``i < j``, of the pairs closer than the separation distance,
    and their distance [km], sorted by ``(i, j)``. Empty when the rule is off."""
    km = data.hub_min_separation_km
    empty = np.zeros((0, 2), dtype=np.int64), np.zeros(0)
    if not km or km <= 0 or "easting_m" not in data.sites or len(ix.site_ids) < 2:
        return empty
    xy = data.sites[["easting_m", "northing_m"]].reindex(ix.site_ids).to_numpy(dtype=float)
    has = np.flatnonzero(np.isfinite(xy).all(axis=1))
    if len(has) < 2:
        return empty
    from scipy.spatial import cKDTree

    found = cKDTree(xy[has]).query_pairs(float(km) * 1000.0, output_type="ndarray")
    if not len(found):
        return empty
    ij = np.sort(has[found], axis=1)
    dist = np.hypot(*(xy[ij[:, 0]] - xy[ij[:, 1]]).T) / 1000.0
    keep = dist < float(km)  # strictly closer than the distance
    ij, dist = ij[keep], dist[keep]
    order = np.lexsort((ij[:, 1], ij[:, 0]))
    return ij[order], dist[order]


def conflict_cliques(data, ix) -> list[tuple[int, ...]]:
    """A greedy clique cover of the conflict graph: sorted tuples of site positions, each
    conflicting pair in at least one (see the module docstring)."""
    ij, _ = conflict_pairs(data, ix)
    if not len(ij):
        return []
    nbr: dict[int, set] = {}
    for i, j in ij.tolist():
        nbr.setdefault(i, set()).add(j)
        nbr.setdefault(j, set()).add(i)
    uncovered = {(i, j) for i, j in ij.tolist()}
    out = []
    for i, j in ij.tolist():
        if (i, j) not in uncovered:
            continue
        clique = [i, j]
        cand = nbr[i] & nbr[j]
        while cand:
            v = min(cand, key=lambda v: (-sum((min(v, c), max(v, c)) in uncovered
                                              for c in clique), v))
            clique.append(v)
            cand &= nbr[v]
        clique.sort()
        for a in range(len(clique)):
            for b in range(a + 1, len(clique)):
                uncovered.discard((clique[a], clique[b]))
        out.append(tuple(clique))
    return out


def clique_key(ix, clique) -> str:
    return "+".join(ix.site_ids[i] for i in clique)


def add_hub_separation(m, data, ix) -> None:
    """Declare ``m.hub_separation``: at most one open hub in each clique of close sites."""
    cliques = conflict_cliques(data, ix)
    if not cliques:
        return
    rows = {clique_key(ix, c): [ix.site_ids[i] for i in c] for c in cliques}

    def _hub_separation_rule(m, key):
        return sum(m.open_site[s] for s in rows[key]) <= 1.0

    m.hub_separation = pyo.Constraint(list(rows), rule=_hub_separation_rule)


def hub_separation_rows(cols, R) -> None:
    cliques = conflict_cliques(cols.data, cols.ix)
    if not cliques:
        return
    n = len(cliques)
    rr = np.concatenate([np.full(len(c), q) for q, c in enumerate(cliques)])
    cc = cols.open_cols(np.concatenate([np.asarray(c, dtype=np.int64) for c in cliques]))
    R.add(NAME, n, rr, cc, np.ones(len(rr)), -INF, 1.0,
          [clique_key(cols.ix, c) for c in cliques])


def describe(amount, idx, approx, where, data):
    return (where, "hubs.min_separation_km",
            f"{approx}{amount:,.0f} more hub(s) must open closer than "
            f"{data.hub_min_separation_km:g} km to another under the other rules",
            "lower hubs.min_separation_km (0 turns it off), or widen the population band or "
            "the travel limit so fewer hubs are needed")


FAMILY = Family(NAME, "hubs at least the separation distance apart", add_hub_separation,
                hub_separation_rows, slack_unit=1.0, explain_rank=12, describe=describe,
                baseline_rank=13)
