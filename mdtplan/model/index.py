"""The sparse index of a model: the allowed pairs grouped once, the data as numpy arrays.

:func:`index_data` turns :class:`~mdtplan.model.data.ModelData` into a :class:`ModelIndex`
before anything is built: the Pyomo model, the direct build, the checks and the MIP start all
read the same positions from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyomo.common.gc_manager import PauseGC

from .data import ModelData


@dataclass(frozen=True)
class ModelIndex:
    """The sparse index of a model, as numpy arrays, built once from ``ModelData``.

    Attributes
    ----------
    area_ids, site_ids : list of str
        ``AREAS`` and ``SITES`` (excluded sites left out), in data order.
    pairs : list of tuple
        ``PAIRS`` as (area_id, site_id), in ``data.pairs`` order (less excluded sites).
    pair_area, pair_site : ndarray of int
        Position of each pair's area in ``area_ids`` and site in ``site_ids``.
    travel_cost : ndarray
        Travel of each pair [travel unit].
    pair_pool : ndarray of object
        Specialist pool of each pair (None where none).
    weight : ndarray
        Population (weight) of each area [people or demand units].
    pairs_by_area, pairs_by_site, pairs_by_pool : dict of str -> ndarray of int
        Positions of the pairs of each area, site and pool (grouped once).
    roles, core_roles, specialist_roles : list of str
    pools : list of str
        Pools that serve at least one pair (only when there are specialist roles).
    staff : list of tuple
        ``STAFF``: (site, core role) for every site, then (pool, specialist role).
    demand : ndarray, shape (areas, roles)
        Demand hours [hours/year], columns in ``roles`` order.
    travel_factor : ndarray, shape (pairs, roles), or None
        Staff travel: hours of travel per demand hour of each pair and role,
        ``visits[r] x round_trip_hours[a, s]`` [h/h]; ``None`` without staff travel.
    pair_miles : ndarray, shape (pairs,), or None
        Miles a fully assigned pair's visits drive in a year at demand scale 1 [miles/year]:
        ``sum_r d[a, r] visits[r] round_trip_miles[a, s]``; ``None`` without staff travel.
    mileage_gbp_per_mile : float
        Price of those miles [GBP/mile].
    visit_rate : ndarray, shape (roles,), or None
        Visits per demand hour of each role [visits/h]; ``None`` without staff travel.
    round_trip_miles : ndarray, shape (pairs,), or None
        One visit's round trip [miles]; ``None`` without staff travel.
    """

    area_ids: list
    site_ids: list
    pairs: list
    pair_area: np.ndarray
    pair_site: np.ndarray
    travel_cost: np.ndarray
    pair_pool: np.ndarray
    weight: np.ndarray
    pairs_by_area: dict
    pairs_by_site: dict
    pairs_by_pool: dict
    roles: list
    core_roles: list
    specialist_roles: list
    pools: list
    staff: list
    demand: np.ndarray
    travel_factor: np.ndarray | None = None
    pair_miles: np.ndarray | None = None
    mileage_gbp_per_mile: float = 0.0
    visit_rate: np.ndarray | None = None
    round_trip_miles: np.ndarray | None = None

    def role_column(self, role: str) -> np.ndarray:
        """Demand hours of ``role`` per area [hours/year]."""
        return self.demand[:, self.roles.index(role)]

    def pair_demand(self, ks=None, cols=None) -> np.ndarray:
        """Demand each pair puts on the unit serving it, travel included [hours/year]:
        ``d[a, r] x (1 + travel_factor[k, r])``, shape (len(ks), len(cols)).

        ``ks``: pair positions (default all), ``cols``: role positions (default all). Without
        staff travel this is the areas' demand, the same numbers bit for bit.
        """
        ks = np.arange(len(self.pair_area)) if ks is None else np.asarray(ks)
        d = self.demand[self.pair_area[ks]]
        if cols is not None:
            d = d[:, cols]
        if self.travel_factor is None:
            return d
        f = self.travel_factor[ks]
        if cols is not None:
            f = f[:, cols]
        return d * (1.0 + f)

    def pair_travel_hours(self, ks=None) -> np.ndarray:
        """Travel hours of each pair and role when fully assigned, at demand scale 1
        [hours/year], shape (pairs, roles); zeros without staff travel."""
        ks = np.arange(len(self.pair_area)) if ks is None else np.asarray(ks)
        d = self.demand[self.pair_area[ks]]
        if self.travel_factor is None:
            return np.zeros_like(d)
        return d * self.travel_factor[ks]

    def pair_role_miles(self, ks=None) -> np.ndarray:
        """Miles of each pair's visits by role when fully assigned, at demand scale 1
        [miles/year], shape (pairs, roles); zeros without staff travel."""
        ks = np.arange(len(self.pair_area)) if ks is None else np.asarray(ks)
        d = self.demand[self.pair_area[ks]]
        if self.visit_rate is None or self.round_trip_miles is None:
            return np.zeros_like(d)
        return d * self.visit_rate[None, :] * self.round_trip_miles[ks][:, None]

    def pair_mileage_gbp(self) -> np.ndarray | None:
        """Mileage cost of each pair when fully assigned [GBP/year], or ``None`` without
        staff travel (or at 0 GBP/mile)."""
        if self.pair_miles is None or not self.mileage_gbp_per_mile:
            return None
        return self.pair_miles * float(self.mileage_gbp_per_mile)


def _group_positions(keys: np.ndarray) -> dict:
    """key -> positions holding it, computed with one stable sort."""
    if len(keys) == 0:
        return {}
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    cuts = np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1
    starts = np.concatenate([[0], cuts])
    ends = np.concatenate([cuts, [len(keys)]])
    return {sorted_keys[b]: order[b:e] for b, e in zip(starts, ends, strict=True)}


def _positions(ids: list, pos: dict, values: np.ndarray) -> np.ndarray:
    """Position of each of ``values`` in ``ids`` (-1 where absent): ``pos.get`` for each, by
    one hash join when the ids are unique."""
    index = pd.Index(ids, dtype=object)
    if index.is_unique:
        return index.get_indexer(pd.Index(values, dtype=object)).astype(np.int64)
    return np.fromiter((pos.get(v, -1) for v in values), np.int64, len(values))


def index_data(data: ModelData) -> ModelIndex:
    """Group the allowed pairs once and put the data into numpy arrays (no model yet)."""
    with PauseGC():  # a pair is a tuple: collecting mid-way through 250,000 of them is wasted
        return _index_data(data)


def _index_data(data: ModelData) -> ModelIndex:
    area_ids = [str(a) for a in data.areas.index]
    sites = data.sites
    site_ids = [str(s) for s, st in zip(sites.index, sites["status"], strict=True)
                if st != "excluded"]
    site_pos = {s: i for i, s in enumerate(site_ids)}
    area_pos = {a: i for i, a in enumerate(area_ids)}
    pairs = data.pairs
    p_area = pairs["area_id"].astype(str).to_numpy()
    p_site = pairs["site_id"].astype(str).to_numpy()
    pair_site = _positions(site_ids, site_pos, p_site)
    keep = pair_site >= 0  # pairs of excluded (or unknown) sites are left out
    p_area, p_site, pair_site = p_area[keep], p_site[keep], pair_site[keep]
    pair_area = _positions(area_ids, area_pos, p_area)
    travel = pairs["travel_cost"].to_numpy(dtype=float)[keep]
    if "pool" in pairs and isinstance(pairs["pool"].dtype, pd.StringDtype):
        # strings, missing as None: what the loop below makes of a string column
        pool = pairs["pool"].to_numpy(dtype=object, na_value=None)[keep]
    elif "pool" in pairs:  # missing (None, NA, NaN) as None, the rest as strings
        raw = pairs["pool"].astype(object).to_numpy()[keep]
        missing = pd.isna(raw)
        pool = np.full(len(raw), None, dtype=object)
        if not missing.all():
            pool[~missing] = [str(v) for v in raw[~missing]]
    else:
        pool = np.full(len(p_area), None, dtype=object)
    roles = [str(r) for r in data.roles.index]
    kinds = data.roles["kind"].astype(str).to_numpy() if len(roles) else np.array([])
    core = [r for r, k in zip(roles, kinds, strict=True) if k == "core"]
    specialist = [r for r, k in zip(roles, kinds, strict=True) if k == "specialist"]
    by_pool = {}
    pools: list = []
    if specialist:
        has = np.array([v is not None for v in pool], dtype=bool)
        by_pool = {str(k): np.flatnonzero(has)[v] for k, v in
                   _group_positions(pool[has].astype(str)).items()} if has.any() else {}
        pools = sorted(by_pool)
    staff = [(s, r) for s in site_ids for r in core] + [(p, r) for p in pools for r in specialist]
    demand = (data.demand_hours.reindex(index=data.areas.index, columns=roles).fillna(0.0)
              .to_numpy(dtype=float) if roles else np.zeros((len(area_ids), 0)))
    factor = miles = rate = trip_miles = None
    visits = getattr(data, "visits_per_demand_hour", None) or {}
    if visits and roles and "round_trip_hours" in pairs:
        v = np.array([float(visits.get(r, 0.0)) for r in roles])
        hours = pairs["round_trip_hours"].to_numpy(dtype=float)[keep]
        factor = hours[:, None] * v[None, :]
        rate = v
        if "round_trip_miles" in pairs:
            trip_miles = pairs["round_trip_miles"].to_numpy(dtype=float)[keep]
            miles = (demand[pair_area] @ v) * trip_miles  # visits a year x miles a visit
    by_area_pos = _group_positions(pair_area)
    by_site_pos = _group_positions(pair_site)
    return ModelIndex(
        area_ids=area_ids,
        site_ids=site_ids,
        pairs=list(zip(p_area.tolist(), p_site.tolist(), strict=True)),
        pair_area=pair_area,
        pair_site=pair_site,
        travel_cost=travel,
        pair_pool=pool,
        weight=data.areas["population"].to_numpy(dtype=float),
        pairs_by_area={area_ids[k]: v for k, v in by_area_pos.items()},
        pairs_by_site={site_ids[k]: v for k, v in by_site_pos.items()},
        pairs_by_pool=by_pool,
        roles=roles,
        core_roles=core,
        specialist_roles=specialist,
        pools=pools,
        staff=staff,
        demand=demand,
        travel_factor=factor,
        pair_miles=miles,
        mileage_gbp_per_mile=float(getattr(data, "mileage_gbp_per_mile", 0.0) or 0.0),
        visit_rate=rate,
        round_trip_miles=trip_miles,
    )


