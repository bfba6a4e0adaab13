"""Synthetic MDT scenarios of growing size, generated deterministically (seeded numpy).

:func:`write_mdt_scenario` writes a scenario folder that ``mdtplan solve`` reads:

- ``areas.csv``: ``area_id``, ``district``, ``easting``, ``northing`` (EPSG:27700, metres),
  the four adult bands ``pop_18_64`` … ``pop_85_plus`` [people] and ``imd_score``;
- ``sites.csv``: ``site_id``, ``easting``, ``northing``, ``status``, ``fixed_cost``
  [GBP/year], ``capacity_fte`` [FTE];
- ``operating_model.yaml``: ten roles (five core in every hub; five specialists shared in one
  pool per district), eight client groups and a supervision rule;
- ``scenario.yaml``: single assignment within ``max_travel_minutes`` (straight line x 1.3 /
  40 km/h, computed by mdtplan), hubs of 30,000–50,000 adults, ``objective: min_cost``.

Same size and seed, same bytes: every number is drawn from ``numpy.random.default_rng(seed)``
in a fixed order and written with fixed formats.

The numbers are synthetic: role costs and hours are rounded from ``models/default.yaml`` so the
model has the structure and scale of a real one; the geography is a square county with towns.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: km of straight line a car covers per minute: 40 km/h over a 1.3 circuity
_KM_PER_MINUTE = 40.0 / 60.0 / 1.3


@dataclass(frozen=True)
class MdtSize:
    """One size of synthetic MDT model.

    Attributes
    ----------
    name : str
        ``XS``, ``S``, ``M``, ``L`` or ``XL``.
    areas, sites : int
        Small areas and candidate sites.
    districts : int
        Area groups; each is one specialist pool.
    sites_in_reach : float
        Mean number of sites within ``max_travel_minutes`` of an area (away from the edges)
        that the county's side length is chosen for; it sets the number of allowed pairs.
    """

    name: str
    areas: int
    sites: int
    districts: int
    sites_in_reach: float
    roles: int = 10


#: XS is for the tests; the benchmark runs S … XL.
SIZES: dict[str, MdtSize] = {
    "XS": MdtSize("XS", 45, 8, 2, 8),
    "S": MdtSize("S", 500, 80, 4, 40),
    "M": MdtSize("M", 1000, 150, 6, 45),
    "L": MdtSize("L", 2000, 250, 9, 50),
    "XL": MdtSize("XL", 4000, 400, 16, 55),
}

MAX_TRAVEL_MINUTES = 30.0
AGE_BANDS = ("age_18_64", "age_65_74", "age_75_84", "age_85_plus")

# id, kind, cost_gbp_per_fte, min_fte_per_hub, fte_step (rounded from models/default.yaml)
_ROLES = (
    ("social_worker", "core", 57200, 2.0, 0.5),
    ("occupational_therapist", "core", 55500, 1.0, 0.5),
    ("care_navigator", "core", 35600, 1.0, 0.5),
    ("team_manager", "core", 68800, 1.0, 1.0),
    ("reablement_worker", "core", 32400, 1.0, 0.5),
    ("safeguarding", "specialist", 57200, 0.0, 0.5),
    ("mental_health", "specialist", 57200, 0.0, 0.5),
    ("sensory", "specialist", 55500, 0.0, 0.5),
    ("autism", "specialist", 57200, 0.0, 0.5),
    ("quality_improvement", "specialist", 57200, 0.0, 0.5),
)

# id, rate_per_1000 by band (18-64, 65-74, 75-84, 85+), hours_per_contact by role
_CLIENT_GROUPS = (
    ("requests", (18.9, 76.4, 152.7, 305.5), {"care_navigator": 1.5, "social_worker": 0.5}),
    ("assessments_working_age", (7.4, 0, 0, 0),
     {"social_worker": 26.0, "occupational_therapist": 1.0, "care_navigator": 1.0,
      "team_manager": 0.5, "mental_health": 3.0, "autism": 2.0, "sensory": 0.3}),
    ("assessments_older", (0, 30.0, 60.0, 120.0),
     {"social_worker": 19.0, "occupational_therapist": 1.5, "care_navigator": 1.0,
      "team_manager": 0.5, "mental_health": 0.5, "sensory": 0.8}),
    ("reviews", (5.1, 17.9, 35.8, 71.5),
     {"social_worker": 8.0, "care_navigator": 0.5, "mental_health": 0.5, "autism": 0.3,
      "quality_improvement": 0.4}),
    ("reablement", (0.85, 11.9, 23.8, 47.5),
     {"reablement_worker": 50.0, "occupational_therapist": 2.0, "social_worker": 1.0}),
    ("ot_assessments", (4.9, 19.9, 39.9, 79.8),
     {"occupational_therapist": 6.5, "care_navigator": 0.3}),
    ("safeguarding_concerns", (5.3, 16.9, 33.8, 67.6),
     {"safeguarding": 1.5, "social_worker": 2.0, "team_manager": 0.5}),
    ("dols", (2.6, 10.4, 20.8, 41.6), {"safeguarding": 6.0}),
)


def side_km(size: MdtSize) -> float:
    """Side of the square county [km] so that ``size.sites_in_reach`` sites lie, on average,
    within :data:`MAX_TRAVEL_MINUTES` of an area: ``sites * pi r^2 / side^2``."""
    radius_km = MAX_TRAVEL_MINUTES * _KM_PER_MINUTE
    return float(radius_km * np.sqrt(np.pi * size.sites / size.sites_in_reach))


def generate(size: MdtSize, seed: int = 0) -> dict:
    """The synthetic county as numpy arrays (nothing written).

    Returns
    -------
    dict
        ``area_xy`` (areas x 2) [m, EPSG:27700], ``population`` (areas x 4) [people],
        ``district`` (areas,) int, ``imd_score`` (areas,), ``site_xy`` (sites x 2) [m],
        ``fixed_cost`` (sites,) [GBP/year], ``capacity_fte`` (sites,) [FTE],
        ``status`` (sites,) str.
    """
    rng = np.random.default_rng(seed)
    side_m = side_km(size) * 1000.0
    origin = np.array([400_000.0, 150_000.0])
    n_towns = max(3, size.areas // 60)
    towns = rng.uniform(0.1, 0.9, size=(n_towns, 2)) * side_m
    in_town = rng.random(size.areas) < 0.6
    town_of = rng.integers(0, n_towns, size.areas)
    spread = side_m * 0.04
    clustered = towns[town_of] + rng.normal(0.0, spread, size=(size.areas, 2))
    scattered = rng.uniform(0.0, side_m, size=(size.areas, 2))
    area_xy = np.clip(np.where(in_town[:, None], clustered, scattered), 0.0, side_m)
    # LSOA-like areas: about 1,300 adults each, 74% 18-64 and the rest 65+
    adults = np.round(rng.uniform(900, 1700, size.areas))
    older_share = rng.uniform(0.15, 0.35, size.areas)
    pop_65 = adults * older_share
    population = np.column_stack([adults - pop_65, pop_65 * 0.535, pop_65 * 0.331,
                                  pop_65 * 0.134])
    population = np.round(population)
    # an IMD score runs 0-100 (England's highest LSOA score in IMD 2019 is 92.7), and
    # mdtplan refuses a score column outside it: the gamma's rare tail is cut there
    imd_score = np.round(np.minimum(rng.gamma(2.0, 11.0, size.areas), 92.7), 2)
    # districts: vertical strips of equal count, ordered west to east
    order = np.argsort(area_xy[:, 0], kind="stable")
    district = np.empty(size.areas, dtype=int)
    district[order] = np.arange(size.areas) * size.districts // size.areas
    # sites near areas (where a council would have buildings), a few already in use
    host = rng.choice(size.areas, size=size.sites, replace=False)
    site_xy = np.clip(area_xy[host] + rng.normal(0.0, 500.0, size=(size.sites, 2)), 0.0,
                      side_m)
    fixed_cost = np.round(rng.uniform(80_000, 200_000, size.sites), -3)
    capacity_fte = np.round(rng.uniform(60, 120, size.sites))
    status = np.where(rng.random(size.sites) < 0.1, "existing", "candidate")
    return {"area_xy": area_xy + origin, "population": population, "district": district,
            "imd_score": imd_score, "site_xy": site_xy + origin, "fixed_cost": fixed_cost,
            "capacity_fte": capacity_fte, "status": status}


def operating_model(size: MdtSize) -> dict:
    """The synthetic operating model (a dict ready for YAML): ten roles, pools by district."""
    roles = [{"id": rid, "name": rid.replace("_", " ").capitalize(), "kind": kind,
              "cost_gbp_per_fte": cost, "agency_premium": 0.10,
              "productive_hours_per_fte": 1540, "min_fte_per_hub": min_fte,
              "fte_step": step} for rid, kind, cost, min_fte, step in _ROLES[: size.roles]]
    kept = {r["id"] for r in roles}
    groups = []
    for gid, rates, hours in _CLIENT_GROUPS:
        hours = {r: h for r, h in hours.items() if r in kept}
        if hours:
            groups.append({"id": gid, "rate_per_1000": {b: float(v) for b, v in
                                                        zip(AGE_BANDS, rates, strict=True)
                                                        if v},
                           "hours_per_contact": hours})
    model = {
        "name": f"synthetic-{size.name}",
        "description": "Synthetic benchmark operating model (numbers rounded from "
                       "models/default.yaml; not for planning).",
        "age_bands": list(AGE_BANDS),
        "roles": roles,
        "pools": {"by": "area_group"},
        "demand": {"client_groups": groups,
                   "deprivation": {"reference_score": 21.75, "elasticity": 0.3,
                                   "min_multiplier": 0.7, "max_multiplier": 1.6}},
    }
    if {"team_manager", "social_worker"} <= kept:
        supervised = [r for r in ("social_worker", "occupational_therapist", "care_navigator")
                      if r in kept]
        model["rules"] = {"supervision": [{"supervisor": "team_manager",
                                           "supervises": supervised, "max_ratio": 8}]}
    return model


def write_mdt_scenario(size: MdtSize | str, out_dir: str | Path, seed: int = 0) -> Path:
    """Write the synthetic scenario folder of ``size``.

    Parameters
    ----------
    size : MdtSize or str
        A :data:`SIZES` key or an :class:`MdtSize`.
    out_dir : str or Path
        Created if missing.
    seed : int
        Seed of ``numpy.random.default_rng``; the same seed writes identical files.

    Returns
    -------
    Path
        The written ``scenario.yaml``.

    Examples
    --------
    >>> import tempfile
    >>> path = write_mdt_scenario("XS", tempfile.mkdtemp())
    >>> sorted(p.name for p in path.parent.iterdir())
    ['areas.csv', 'operating_model.yaml', 'scenario.yaml', 'sites.csv']
    """
    import yaml

    size = SIZES[size] if isinstance(size, str) else size
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    g = generate(size, seed)
    width = len(str(size.areas))
    lines = ["area_id,district,easting,northing,pop_18_64,pop_65_74,pop_75_84,pop_85_plus,"
             "imd_score"]
    for i in range(size.areas):
        x, y = g["area_xy"][i]
        p = g["population"][i]
        lines.append(f"A{i + 1:0{width}d},D{g['district'][i] + 1:02d},{x:.1f},{y:.1f},"
                     f"{p[0]:.0f},{p[1]:.0f},{p[2]:.0f},{p[3]:.0f},{g['imd_score'][i]:.2f}")
    (out / "areas.csv").write_text("\n".join(lines) + "\n")
    width = len(str(size.sites))
    lines = ["site_id,easting,northing,status,fixed_cost,capacity_fte"]
    for j in range(size.sites):
        x, y = g["site_xy"][j]
        lines.append(f"S{j + 1:0{width}d},{x:.1f},{y:.1f},{g['status'][j]},"
                     f"{g['fixed_cost'][j]:.0f},{g['capacity_fte'][j]:.0f}")
    (out / "sites.csv").write_text("\n".join(lines) + "\n")
    (out / "operating_model.yaml").write_text(
        yaml.safe_dump(operating_model(size), sort_keys=False))
    scenario = {
        "name": f"synthetic-mdt-{size.name}",
        "operating_model": "operating_model.yaml",
        "areas": {"path": "areas.csv", "id": "area_id", "group": "district",
                  "coords": {"x": "easting", "y": "northing", "crs": "EPSG:27700"},
                  "population": {b: f"pop_{b[4:]}" for b in AGE_BANDS},
                  "deprivation": "imd_score"},
        "sites": {"path": "sites.csv", "id": "site_id",
                  "coords": {"x": "easting", "y": "northing", "crs": "EPSG:27700"},
                  "status": "status", "fixed_cost": "fixed_cost",
                  "capacity_fte": "capacity_fte"},
        "travel": {"circuity": 1.3, "speed_kmh": 40.0},
        "hubs": {"population": {"min": 30000, "max": 50000},
                 "max_travel_minutes": MAX_TRAVEL_MINUTES, "assignment": "single"},
        "objective": "min_cost",
        "solver": {"time_limit_s": 120.0, "mip_gap": 0.0, "threads": 1},
    }
    target = out / "scenario.yaml"
    target.write_text(yaml.safe_dump(scenario, sort_keys=False))
    return target


# --------------------------------------------------------------------------------------------
# Generated p-median instances (for tuning beyond the OR-Library files)


def pmed_graph(n: int, p: int, seed: int = 0, kind: str = "graph") -> str:
    """A p-median instance of ``n`` vertices in OR-Library's file layout (``n edges p``, then
    ``i j cost`` lines), generated deterministically.

    Parameters
    ----------
    n, p : int
    seed : int
        Mixed with ``n`` and ``p``, so each named instance has its own numbers.
    kind : {"graph", "metric"}
        ``graph``: as Beasley made pmed1–40: a random spanning tree, then random edges up to
        ``n^2/50`` for ``n >= 500`` (``2n`` per hundred vertices below), integer costs
        uniform in 1..100; distances are shortest paths. ``metric``: ``n`` random points in a
        square, every pair an edge of cost ``round(100 x distance)`` (at least 1): a random
        Euclidean instance with no graph structure.

    Returns
    -------
    str
        The file's text (``mdtplan orlib`` reads it when named ``pmed*``).
    """
    rng = np.random.default_rng([seed, n, p, 0 if kind == "graph" else 1])
    lines = []
    if kind == "metric":
        xy = rng.random((n, 2))
        i, j = np.triu_indices(n, 1)
        cost = np.maximum(1, np.rint(100 * np.hypot(*(xy[i] - xy[j]).T))).astype(int)
        lines = [f" {a} {b} {c}" for a, b, c in zip(i + 1, j + 1, cost, strict=True)]
    elif kind == "graph":
        m = n * n // 50 if n >= 500 else 2 * n * max(1, n // 100)
        edges: dict = {}
        order = rng.permutation(n)
        for k in range(1, n):  # a random spanning tree keeps the graph connected
            a, b = int(order[k]), int(order[rng.integers(0, k)])
            edges[(min(a, b), max(a, b))] = int(rng.integers(1, 101))
        while len(edges) < m:
            a, b = (int(v) for v in rng.integers(0, n, 2))
            if a != b:
                edges[(min(a, b), max(a, b))] = int(rng.integers(1, 101))
        lines = [f" {a + 1} {b + 1} {c}" for (a, b), c in edges.items()]
    else:
        raise ValueError(f"kind: graph or metric, not {kind!r}")
    return f" {n} {len(lines)} {p}\n" + "\n".join(lines) + "\n"
