r"""An open hub serves the small area it stands in.

.. math:: assign_{o(s),s} \ge open\_site_s
          \quad \forall s: o(s) \text{ defined and } (o(s), s) \in PAIRS

:math:`o(s)` is the area whose polygon holds site :math:`s` (``sites.area_id``). A planner
expects a hub to serve its own neighbourhood; without this rule a plan may send a hub's own area
to another hub minutes away to round staffing neatly. Built when the scenario keeps
``hubs.serve_own_area`` (the default); sites in no area, and areas given as points, are not held
to it. With ``split`` assignment the own area is served whole by its hub. Two open hubs cannot
stand in one area (each would have to serve it whole): the checks before building refuse two
*required* sites in one area, and an own area beyond the site's reach.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from .base import INF, Family

NAME = "hub_serves_own_area"


def own_pairs(data, ix) -> tuple[list, np.ndarray]:
    """The sites held to the rule and the position of each one's own-area pair in ``PAIRS``
    (-1 where the pair is not allowed: the checks refuse that before building)."""
    if not data.serve_own_area or "area_id" not in data.sites or not ix.site_ids:
        return [], np.zeros(0, dtype=np.int64)
    own = data.sites["area_id"].reindex(ix.site_ids)
    sites = [s for s, a in zip(ix.site_ids, own.tolist(), strict=True)
             if isinstance(a, str)]  # <NA>: the site stands in no area
    if not sites:
        return [], np.zeros(0, dtype=np.int64)
    area_pos = {a: i for i, a in enumerate(ix.area_ids)}
    pos = np.full(len(sites), -1, dtype=np.int64)
    for i, s in enumerate(sites):  # only the held sites' own pairs are looked at
        ks = ix.pairs_by_site.get(s)
        if ks is not None:
            hit = ks[ix.pair_area[ks] == area_pos.get(str(own[s]), -1)]
            if len(hit):
                pos[i] = hit[0]
    return sites, pos


def add_hub_serves_own_area(m, data, ix) -> None:
    """Declare ``m.hub_serves_own_area`` over the sites standing in an area they may serve."""
    sites, pos = own_pairs(data, ix)
    keep = [(s, int(k)) for s, k in zip(sites, pos.tolist(), strict=True) if k >= 0]
    if not keep:
        return
    assign = list(m.assign.values())
    pair = dict(keep)

    def _hub_serves_own_area_rule(m, s):
        return assign[pair[s]] - m.open_site[s] >= 0.0

    m.hub_serves_own_area = pyo.Constraint([s for s, _ in keep], rule=_hub_serves_own_area_rule)


def hub_serves_own_area_rows(cols, R) -> None:
    sites, pos = own_pairs(cols.data, cols.ix)
    keep = pos >= 0
    if not keep.any():
        return
    site_pos = {s: i for i, s in enumerate(cols.ix.site_ids)}
    n = int(keep.sum())
    rr = np.arange(n)
    held = [s for s, k in zip(sites, keep.tolist(), strict=True) if k]
    R.add(NAME, n, np.concatenate([rr, rr]),
          np.concatenate([cols.assign_cols[pos[keep]],
                          cols.open_cols(np.array([site_pos[s] for s in held], dtype=np.int64))]),
          np.concatenate([np.ones(n), -np.ones(n)]), 0.0, INF, held)


def describe(amount, idx, approx, where, data):
    return (where, "hubs.serve_own_area",
            f"{len(idx)} hub(s) cannot serve the area they stand in under the other rules",
            "widen the population band or the travel limit, or set hubs.serve_own_area: false")


FAMILY = Family(NAME, "a hub serves the area it stands in", add_hub_serves_own_area,
                hub_serves_own_area_rows, slack_unit=1.0, explain_rank=11, describe=describe,
                baseline_rank=12)
