"""Cheap checks before building: malformed data, and problems provably infeasible by counting.

In the spirit of spopt's ``SpecificationError``: when the numbers alone show that no plan can
exist (more hubs required than sites, a population above what the most hubs can hold, an area
with no allowed site), say so before any model is built, quoting the numbers.
"""

from __future__ import annotations

import numpy as np

from ..errors import InfeasibleError, ModelError, Problem
from .data import ModelData
from .index import ModelIndex, index_data
from .objective import OBJECTIVES

STATUSES = ("candidate", "existing", "required", "excluded")



def _fmt(x: float) -> str:
    return f"{x:,.6g}"


def check_data(data: ModelData, ix: ModelIndex | None = None) -> None:
    """Cheap checks before building: malformed data, and problems provably infeasible.

    Raises
    ------
    ModelError
        The data cannot make a model (unknown objective, negative weights, a pool named like a
        site, a pair naming an unknown area, ...).
    InfeasibleError
        No plan can satisfy the rules, shown by counting (numbers quoted): more hubs required
        than sites; population above what the most hubs can hold; below what the fewest must
        hold; an area with no allowed site.
    """
    bad: list[Problem] = []
    if data.objective not in OBJECTIVES:
        bad.append(Problem(None, None, "objective", f"unknown objective '{data.objective}'",
                           f"use one of {', '.join(OBJECTIVES)}"))
    if data.contiguous and data.assignment == "split":
        bad.append(Problem(None, None, "hubs.assignment",
                           "hubs.contiguous needs single assignment: a hub serving a part of "
                           "an area only to reach the next one would still look split on a map",
                           "set hubs.assignment: single, or hubs.contiguous: false"))
    if data.assignment not in ("single", "split"):
        bad.append(Problem(None, None, "hubs.assignment",
                           f"unknown assignment '{data.assignment}'", "use single or split"))
    status = data.sites["status"].astype(str).to_numpy()
    unknown_status = set(status.tolist()) - set(STATUSES)
    if unknown_status:
        bad.append(Problem("sites", None, "status", f"unknown status {sorted(unknown_status)}",
                           f"use one of {', '.join(STATUSES)}"))
    weights = data.areas["population"].to_numpy(dtype=float)
    if not np.isfinite(weights).all() or (weights < 0).any():
        bad.append(Problem("areas", None, "population",
                           "population (weight) must be finite and non-negative"))
    if len(data.pairs) and not np.isfinite(data.pairs["travel_cost"].to_numpy(float)).all():
        bad.append(Problem("travel", None, "travel_cost", "travel cost must be finite"))
    if ix is not None and len(ix.pairs) == len(data.pairs) and (ix.pair_area >= 0).all():
        # the index placed every pair's area and (not excluded) site: none is unknown
        unknown_areas = unknown_sites = set()
    else:
        # unique() first: iterating every pair's id (arrow strings) cost 0.8 s on 224,000 pairs
        unknown_areas = (set(data.pairs["area_id"].astype(str).unique())
                         - set(data.areas.index.astype(str)))
        unknown_sites = (set(data.pairs["site_id"].astype(str).unique())
                         - set(data.sites.index.astype(str)))
    if unknown_areas:
        bad.append(Problem("travel", ", ".join(sorted(unknown_areas)[:5]), "area_id",
                           f"{len(unknown_areas)} pair(s) name areas not in the areas table"))
    if unknown_sites:
        bad.append(Problem("travel", ", ".join(sorted(unknown_sites)[:5]), "site_id",
                           f"{len(unknown_sites)} pair(s) name sites not in the sites table"))
    roles = set(data.roles.index)
    for r in set(data.supply_fte) - roles:
        bad.append(Problem(None, r, "rules.hiring_limit_fte", "supply limit for an unknown role"))
    for rule in data.supervision:
        for r in (rule.supervisor, *rule.supervises):
            if r not in roles:
                bad.append(Problem(None, r, "rules.supervision", "unknown role in a rule"))
    if len(data.roles):
        for col in ("cost_gbp_per_fte", "productive_hours_per_fte", "fte_step"):
            if (data.roles[col].astype(float) <= 0).any():
                bad.append(Problem("operating_model", None, f"roles.{col}", "must be positive"))
        d = data.demand_hours.to_numpy(dtype=float)
        if d.size and (not np.isfinite(d).all() or (d < 0).any()):
            bad.append(Problem(None, None, "demand_hours", "demand must be finite, >= 0"))
    if bad:
        raise ModelError(bad)

    ix = ix or index_data(data)
    if ix.specialist_roles:
        clash = set(ix.pools) & set(ix.site_ids)
        if clash:
            raise ModelError(Problem("sites", ", ".join(sorted(clash)[:5]), "pool",
                                     "a specialist pool has the same id as a site",
                                     "rename the pool (staffing units must be unambiguous)"))
        no_pool = np.array([v is None for v in ix.pair_pool], dtype=bool)
        spec_cols = [ix.roles.index(r) for r in ix.specialist_roles]
        needs = ix.demand[:, spec_cols].sum(axis=1) > 0
        if no_pool.any() and needs[ix.pair_area[no_pool]].any():
            areas = sorted({ix.area_ids[a] for a in ix.pair_area[no_pool]})
            raise ModelError(Problem("areas", ", ".join(areas[:5]), "pool",
                                     f"{len(areas)} area(s) have specialist demand but a pair "
                                     "with no specialist pool",
                                     "set operating_model.pools, or the sites' pool column"))

    problems: list[Problem] = []
    served = set(ix.pairs_by_area)
    lonely = [a for a in ix.area_ids if a not in served]
    if lonely:
        reach = f" within {_fmt(data.max_travel)} {data.travel_unit}" if data.max_travel else ""
        problems.append(Problem("areas", ", ".join(lonely[:5]), None,
                                f"{len(lonely)} area(s) have no allowed site{reach}",
                                "raise hubs.max_travel_minutes, add sites, or check the "
                                "travel table"))
    n_sites = len(ix.site_ids)
    n_required = int((status == "required").sum())
    cmin, cmax = int(data.hub_count_min or 0), data.hub_count_max
    if cmin > n_sites:
        problems.append(Problem(None, None, "hubs.count.min",
                                f"at least {cmin} hubs are required but only {n_sites} sites "
                                "are not excluded", "lower hubs.count.min or add sites"))
    if cmax is not None and n_required > cmax:
        problems.append(Problem(None, None, "hubs.count.max",
                                f"{n_required} sites are 'required' but at most {cmax} hubs "
                                "may open", "raise hubs.count.max"))
    total = float(weights.sum())
    pmin, pmax = data.hub_population_min, data.hub_population_max
    k_max = n_sites if cmax is None else min(cmax, n_sites)
    row_of = {s: i for i, s in enumerate(data.sites.index.tolist())}
    rows = [row_of.get(s, -1) for s in ix.site_ids]
    if -1 in rows or len(row_of) != len(data.sites):  # as .loc: raises, or repeats rows
        cap = data.sites.loc[ix.site_ids, "capacity"].to_numpy(dtype=float) if n_sites else \
            np.zeros(0)
    else:  # by position: a .loc selection cost a millisecond
        cap = data.sites["capacity"].to_numpy(dtype=float)[rows]
    per_site = np.where(np.isnan(cap), np.inf, cap)
    if pmax is not None:
        per_site = np.minimum(per_site, pmax)
    if k_max and np.isfinite(per_site).all():
        most = float(np.sort(per_site)[::-1][:k_max].sum())
        if total > most * (1 + 1e-9) + 1e-9:
            what = []
            if pmax is not None:
                what.append(f"hubs.population.max {_fmt(pmax)}")
            if np.isfinite(cap).any():
                what.append("site capacities")
            problems.append(Problem(None, None, "hubs.population.max" if pmax is not None
                                    else "sites.capacity",
                                    f"total population {_fmt(total)} exceeds what {k_max} hubs "
                                    f"can hold ({_fmt(most)}, from {' and '.join(what)})",
                                    "raise the population band or capacities, or allow more "
                                    "hubs"))
    if pmin is not None and pmin > 0:
        k_min = max(cmin, n_required)
        if total < k_min * pmin * (1 - 1e-9) - 1e-9:
            problems.append(Problem(None, None, "hubs.population.min",
                                    f"total population {_fmt(total)} is below {k_min} hubs x "
                                    f"hubs.population.min {_fmt(pmin)} = {_fmt(k_min * pmin)}",
                                    "lower hubs.population.min or hubs.count.min"))
    problems += _own_area_problems(data, ix)
    problems += _separation_problems(data, ix)
    problems += _contiguity_problems(data, ix)
    if problems:
        raise InfeasibleError(problems)


def _separation_problems(data: ModelData, ix: ModelIndex) -> list[Problem]:
    """``hubs.min_separation_km``: two required sites closer than the distance cannot both
    open."""
    from .families.hub_separation import conflict_pairs

    ij, dist = conflict_pairs(data, ix)
    if not len(ij):
        return []
    status = data.sites["status"].reindex(ix.site_ids).astype(str).to_numpy()
    both = (status[ij[:, 0]] == "required") & (status[ij[:, 1]] == "required")
    out = []
    for (i, j), d in zip(ij[both].tolist(), dist[both].tolist(), strict=True):
        a, b = ix.site_ids[i], ix.site_ids[j]
        out.append(Problem("sites", f"{a}, {b}", "status",
                           f"required site {b} stands {d:.2f} km from required site {a}, "
                           f"inside the hubs' separation distance "
                           f"(hubs.min_separation_km: {data.hub_min_separation_km:g})",
                           f"make one of {a} and {b} candidate, or lower "
                           f"hubs.min_separation_km below {d:.2f} (0 turns it off)"))
    return out


def _contiguity_problems(data: ModelData, ix: ModelIndex) -> list[Problem]:
    """``hubs.contiguous``: an area no hub can reach through areas that hub may serve, from the
    area the hub stands in, could never be served; two required sites rooted in one area
    cannot both hold it."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    from .families.catchment_contiguous import contiguity_index

    ci = contiguity_index(data, ix)
    if ci is None:
        return []
    out = []
    n_p = len(ix.pairs)
    # the pairs joined to their site's root through pairs of the same site
    g = csr_matrix((np.ones(len(ci.arc_from)), (ci.arc_from, ci.arc_to)), shape=(n_p, n_p))
    _, label = connected_components(g, directed=False)
    roots = ci.root_pair[ci.root_pair >= 0]
    alive = np.isin(label, label[roots])
    reached = np.zeros(len(ix.area_ids), dtype=bool)
    reached[ix.pair_area[alive]] = True
    served = np.zeros(len(ix.area_ids), dtype=bool)
    served[ix.pair_area] = True
    cut_off = [ix.area_ids[a] for a in np.flatnonzero(served & ~reached)]
    if cut_off:
        out.append(Problem("areas", ", ".join(cut_off[:8]), "hubs.contiguous",
                           f"{len(cut_off)} area(s) can be joined to no hub's catchment: every "
                           "hub they may reach would have to pass through areas beyond its "
                           "own reach to get to them",
                           "raise hubs.max_travel_minutes, add areas.adjacency.links (a bridge "
                           "or ferry), or set hubs.contiguous: false"))
    status = data.sites["status"].reindex(ix.site_ids).astype(str).to_numpy()
    root_area = np.where(ci.root_pair >= 0, ix.pair_area[np.maximum(ci.root_pair, 0)], -1)
    req = np.flatnonzero((status == "required") & (root_area >= 0))
    seen: dict[int, list[str]] = {}
    for s in req:
        seen.setdefault(int(root_area[s]), []).append(ix.site_ids[s])
    for a, group in sorted(seen.items()):
        if len(group) > 1 and not data.serve_own_area:  # else _own_area_problems says it
            out.append(Problem("sites", ", ".join(sorted(group)), "status",
                               f"required sites {', '.join(sorted(group))} all have area "
                               f"{ix.area_ids[a]} as the heart of their catchment, which only "
                               "one of them can hold",
                               "make all but one of them candidate, or set "
                               "hubs.contiguous: false"))
    return out


def _own_area_problems(data: ModelData, ix: ModelIndex) -> list[Problem]:
    """``hubs.serve_own_area``: a site that cannot reach the area it stands in could never
    serve it; two required sites in one area cannot both serve it whole."""
    from .families.hub_serves_own_area import own_pairs

    sites, pos = own_pairs(data, ix)
    if not sites:
        return []
    out = []
    own = data.sites["area_id"].reindex(sites)
    far = [s for s, k in zip(sites, pos.tolist(), strict=True) if k < 0]
    if far:
        listed = ", ".join(f"{s} (in {own[s]})" for s in far[:5])
        reach = f" within {_fmt(data.max_travel)} {data.travel_unit}" if data.max_travel else ""
        out.append(Problem("sites", listed, "hubs.serve_own_area",
                           f"{len(far)} site(s) cannot reach the area they stand in{reach}, so "
                           "could never serve it",
                           "check the travel table or the sites' coordinates, raise "
                           "hubs.max_travel_minutes, or set hubs.serve_own_area: false"))
    status = data.sites["status"].reindex(sites).astype(str)
    required = own[(status == "required").to_numpy()]
    shared = required[required.duplicated(keep=False)]
    for area, group in shared.groupby(shared, sort=True):
        out.append(Problem("sites", ", ".join(sorted(group.index)), "status",
                           f"required sites {', '.join(sorted(group.index))} all stand in area "
                           f"{area}; a hub serves the area it stands in, so only one of them "
                           "can open",
                           "make all but one of them candidate, or set hubs.serve_own_area: "
                           "false"))
    return out


