r"""Each hub's catchment is one connected patch holding the hub's own area (Shirabe's flow).

For every site :math:`s` with a root area :math:`r(s)`, a single-commodity flow
:math:`f_{s,i,j} \ge 0` (``contiguity_flow``) runs on the arcs :math:`(i, j)` of the areas' neighbour
graph whose both ends :math:`s` may serve (:math:`V_s`, its allowed pairs), :math:`j \ne r(s)`.
The root sends one unit to every other area of the catchment (Shirabe 2005; the fixed-root
form of Validi, Buchanan and Lykhovyd 2022, "SHIR"):

.. math:: \sum_{i} f_{s,i,a} - \sum_{j} f_{s,a,j} = assign_{a,s}
          \quad \forall a \in V_s \setminus \{r(s)\}
          \qquad \text{(catchment_contiguous, balance)}

          \sum_{j} f_{s,r(s),j} \le M_s\, assign_{r(s),s}
          \qquad \text{(catchment_contiguous, source)}

          f_{s,i,j} \le M_s\, assign_{j,s} \quad \forall (i,j)
          \qquad \text{(catchment_flow_capacity)}

with :math:`M_s = |V_s| - 1`. An area takes a unit only where flow reaches it, and flow enters
only areas of the catchment, from the root, which sends only when it is in the catchment: so
every area of a catchment is joined to the root through areas of the same catchment. Exact (no
connected catchment holding its root is cut off), for ``single`` and ``split`` assignment (the
areas a hub serves any part of are connected).

The root :math:`r(s)` is the area the site stands in (``sites.area_id``) when the site may serve
it, else the area it may serve at least travel (areas given as points, a site outside every
polygon). Built when ``hubs.contiguous`` is on (``ModelData.contiguous`` with ``edges``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from .base import INF, Family

NAME = "catchment_contiguous"
CAPACITY = "catchment_flow_capacity"
VAR = "contiguity_flow"


@dataclass(frozen=True)
class ContiguityIndex:
    """The flow's index, in pair positions of ``ix.pairs``.

    Attributes
    ----------
    root_pair : ndarray of int, shape (sites,)
        Each site's root pair (-1: the site has no pair).
    arc_from, arc_to : ndarray of int
        Each arc's tail and head pair (same site), sorted by site, then tail, then head area.
    arc_site : ndarray of int
        Site position of each arc.
    big_m : ndarray, shape (sites,)
        :math:`M_s`: the site's allowed pairs less one.
    keys : list of tuple
        ``(site, area_from, area_to)`` of each arc (``contiguity_flow``'s index).
    """

    root_pair: np.ndarray
    arc_from: np.ndarray
    arc_to: np.ndarray
    arc_site: np.ndarray
    big_m: np.ndarray
    keys: list
    chain_weight: np.ndarray | None = None


def _lightest_chains(ix, root, k_from, k_to) -> np.ndarray:
    """Per pair: the least population of a chain of the site's areas from its root to the
    pair's area, both ends included [weight]; ``inf`` where no chain reaches it."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    n_p = len(ix.pairs)
    w = np.asarray(ix.weight, dtype=float)
    roots = root[root >= 0]
    out = np.full(n_p, np.inf)
    if not len(roots):
        return out
    eps = 1e-9  # an arc into an area of no population must still be an arc
    g = csr_matrix((w[ix.pair_area[k_to]] + eps, (k_from, k_to)), shape=(n_p, n_p))
    dist = dijkstra(g, directed=True, indices=roots, min_only=True)
    # arcs never enter a root, and sites' arcs never meet: each pair's own root is the source
    site_root_w = np.full(len(ix.site_ids), np.nan)
    site_root_w[root >= 0] = w[ix.pair_area[roots]]
    out = dist + site_root_w[ix.pair_site]
    out[np.isin(np.arange(n_p), roots)] = w[ix.pair_area[roots]]
    return np.where(np.isfinite(out), np.maximum(out - eps * len(ix.area_ids), 0.0), np.inf)


def root_pairs(data, ix) -> np.ndarray:
    """Each site's root pair: its own area's pair when allowed, else its least-travel pair."""
    n_s = len(ix.site_ids)
    root = np.full(n_s, -1, dtype=np.int64)
    if not len(ix.pairs):
        return root
    area_pos = {a: i for i, a in enumerate(ix.area_ids)}
    own = (data.sites["area_id"].reindex(ix.site_ids).tolist() if "area_id" in data.sites
           else [None] * n_s)
    for s_i, s in enumerate(ix.site_ids):
        ks = ix.pairs_by_site.get(s)
        if ks is None or not len(ks):
            continue
        a = own[s_i]
        hit = (ks[ix.pair_area[ks] == area_pos[str(a)]] if isinstance(a, str) and
               str(a) in area_pos else ks[:0])
        if len(hit):
            root[s_i] = hit[0]
        else:  # least travel, then the first area
            t = ix.travel_cost[ks]
            root[s_i] = ks[np.lexsort((ix.pair_area[ks], t))[0]]
    return root


def contiguity_index(data, ix) -> ContiguityIndex | None:
    """The flow's index for ``data`` (``None`` when ``data.contiguous`` is off), made once per
    index and kept on it."""
    if not getattr(data, "contiguous", False) or data.edges is None:
        return None
    cached = ix.__dict__.get("_contiguity")
    if cached is not None:
        return cached
    n_s, n_a = len(ix.site_ids), len(ix.area_ids)
    area_pos = {a: i for i, a in enumerate(ix.area_ids)}
    e = data.edges
    u = np.fromiter((area_pos.get(str(a), -1) for a in e["area_a"]), np.int64, len(e))
    v = np.fromiter((area_pos.get(str(b), -1) for b in e["area_b"]), np.int64, len(e))
    ok = (u >= 0) & (v >= 0)
    u, v = np.concatenate([u[ok], v[ok]]), np.concatenate([v[ok], u[ok]])  # both directions
    root = root_pairs(data, ix)
    # pair lookup by (area, site)
    key = ix.pair_area.astype(np.int64) * n_s + ix.pair_site
    order = np.argsort(key, kind="stable")
    skey = key[order]
    # every directed edge with every site that may serve its tail
    tails = np.arange(len(ix.pairs), dtype=np.int64)
    tail_area = ix.pair_area[tails]
    # group edges by tail area: CSR over areas
    eo = np.argsort(u, kind="stable")
    u, v = u[eo], v[eo]
    start = np.searchsorted(u, np.arange(n_a + 1))
    deg = start[tail_area + 1] - start[tail_area]
    k_from = np.repeat(tails, deg)
    first = np.repeat(start[tail_area], deg)
    local = np.arange(int(deg.sum()), dtype=np.int64) - np.repeat(np.cumsum(deg) - deg, deg)
    head_area = v[first + local]
    site = ix.pair_site[k_from]
    want = head_area * n_s + site
    at = np.minimum(np.searchsorted(skey, want), max(len(skey) - 1, 0))
    found = (skey[at] == want) if len(skey) else np.zeros(len(want), bool)
    k_to = np.where(found, order[at], -1)
    keep = found & (k_to != root[site])
    k_from, k_to, site = k_from[keep], k_to[keep], site[keep]
    srt = np.lexsort((ix.pair_area[k_to], ix.pair_area[k_from], site))
    k_from, k_to, site = k_from[srt], k_to[srt], site[srt]
    n_pairs_site = np.bincount(ix.pair_site, minlength=n_s)
    keys = [(ix.site_ids[s], ix.area_ids[a], ix.area_ids[b]) for s, a, b in
            zip(site.tolist(), ix.pair_area[k_from].tolist(), ix.pair_area[k_to].tolist(),
                strict=True)]
    out = ContiguityIndex(root, k_from, k_to, site,
                          np.maximum(n_pairs_site - 1, 0).astype(float), keys,
                          _lightest_chains(ix, root, k_from, k_to))
    object.__setattr__(ix, "_contiguity", out)  # frozen: kept beside it, made once
    return out


def _balance_members(ix, ci: ContiguityIndex) -> np.ndarray:
    """Pair positions with a row: every pair of a site that has a root."""
    has_root = ci.root_pair[ix.pair_site] >= 0
    return np.flatnonzero(has_root)


def add_catchment_contiguous(m, data, ix) -> None:
    """Declare ``m.ARCS``, ``m.contiguity_flow`` and ``m.catchment_contiguous``."""
    ci = contiguity_index(data, ix)
    if ci is None:
        return
    members = _balance_members(ix, ci)
    if not len(members):
        return
    m.ARCS = pyo.Set(initialize=ci.keys, dimen=3, ordered=True)
    m.contiguity_flow = pyo.Var(m.ARCS, domain=pyo.NonNegativeReals,
                                doc="flow from the hub's own area, one unit per area served")
    assign = list(m.assign.values())
    flow = list(m.contiguity_flow.values())
    into: dict[int, list] = {}
    out: dict[int, list] = {}
    for n, (i, j) in enumerate(zip(ci.arc_from.tolist(), ci.arc_to.tolist(), strict=True)):
        out.setdefault(i, []).append(n)
        into.setdefault(j, []).append(n)
    is_root = np.zeros(len(ix.pairs), dtype=bool)
    is_root[ci.root_pair[ci.root_pair >= 0]] = True
    big = ci.big_m.tolist()
    pair_site = ix.pair_site.tolist()

    def _catchment_contiguous_rule(m, a, s):
        k = pair_of[(a, s)]
        outflow = sum(flow[n] for n in out.get(k, ()))
        if is_root[k]:
            return outflow - big[pair_site[k]] * assign[k] <= 0.0
        inflow = sum(flow[n] for n in into.get(k, ()))
        return inflow - outflow - assign[k] == 0.0

    pair_of = {ix.pairs[k]: int(k) for k in members}
    m.catchment_contiguous = pyo.Constraint([ix.pairs[k] for k in members],
                                            rule=_catchment_contiguous_rule)


def catchment_contiguous_rows(cols, R) -> None:
    ix = cols.ix
    ci = contiguity_index(cols.data, ix)
    if ci is None:
        return
    members = _balance_members(ix, ci)
    if not len(members):
        return
    row_of = np.full(len(ix.pairs), -1, dtype=np.int64)
    row_of[members] = np.arange(len(members))
    is_root = np.zeros(len(ix.pairs), dtype=bool)
    is_root[ci.root_pair[ci.root_pair >= 0]] = True
    root_m = is_root[members]
    f0 = cols.offset[VAR]
    n_arc = len(ci.keys)
    arc_cols = f0 + np.arange(n_arc)
    # Pyomo's term order in a row: outflow, then the root's assign (source rows); inflow,
    # outflow, then assign (balance rows); coefficients are summed per column anyway
    src = is_root[ci.arc_from]
    rows = [row_of[ci.arc_from[src]], row_of[members[root_m]],
            row_of[ci.arc_to], row_of[ci.arc_from[~src]], row_of[members[~root_m]]]
    cs = [arc_cols[src], cols.assign_cols[members[root_m]], arc_cols,
          arc_cols[~src], cols.assign_cols[members[~root_m]]]
    vs = [np.ones(int(src.sum())), -ci.big_m[ix.pair_site[members[root_m]]],
          np.ones(n_arc), -np.ones(int((~src).sum())), -np.ones(int((~root_m).sum()))]
    lower = np.where(root_m, -INF, 0.0)
    upper = np.zeros(len(members))
    R.add(NAME, len(members), np.concatenate(rows), np.concatenate(cs), np.concatenate(vs),
          lower, upper, [ix.pairs[k] for k in members])


def declares_flow(data, ix) -> bool:
    """Whether the model declares ``contiguity_flow`` (perhaps over no arcs: a catchment of
    one area each needs no flow, but the component is there, as in the Pyomo model)."""
    ci = contiguity_index(data, ix)
    return ci is not None and bool(len(_balance_members(ix, ci)))


def n_flow_columns(data, ix) -> int:
    """Columns of ``contiguity_flow`` (0 when the rule is off)."""
    if not declares_flow(data, ix):
        return 0
    return len(contiguity_index(data, ix).keys)


def tree_flows(data, ix, pair: np.ndarray) -> np.ndarray | None:
    """Flows that prove a plan's catchments connected: along a breadth-first tree of each
    catchment from its root, each arc carries the areas below it.

    Parameters
    ----------
    pair : ndarray of int
        The plan's pair position for each area (single assignment).

    Returns
    -------
    ndarray or None
        One value per arc (``contiguity_flow`` order); ``None`` when the rule is off.
        Areas not reached from their hub's root get no flow (the plan then breaks a row).
    """
    ci = contiguity_index(data, ix)
    if ci is None:
        return None
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import breadth_first_order

    n_p = len(ix.pairs)
    used = np.zeros(n_p, dtype=bool)
    used[np.asarray(pair, dtype=np.int64)] = True
    active = used[ci.arc_from] & used[ci.arc_to]
    arcs = np.flatnonzero(active)
    g = csr_matrix((arcs + 1.0, (ci.arc_from[arcs], ci.arc_to[arcs])), shape=(n_p, n_p))
    flows = np.zeros(len(ci.keys))
    size = used.astype(float)
    for r in ci.root_pair[ci.root_pair >= 0]:
        if not used[r]:
            continue
        order, pred = breadth_first_order(g, int(r), directed=True, return_predecessors=True)
        for node in order[::-1][:-1]:  # leaves first, the root last (not moved)
            p = pred[node]
            size[p] += size[node]
            flows[int(g[p, node]) - 1] = size[node]
    return flows


def describe(amount, idx, approx, where, data):
    return (where, "hubs.contiguous",
            f"{approx}{amount:,.0f} area(s) would have to be served apart from the rest of "
            "their hub's catchment",
            "widen the population band or the travel limit, add areas.adjacency.links, or set "
            "hubs.contiguous: false")


FAMILY = Family(NAME, "each catchment one connected patch", add_catchment_contiguous,
                catchment_contiguous_rows, slack_unit=1.0, explain_rank=12, describe=describe)
