"""The benchmark instances: what each one is, and how its inputs are written.

An :class:`Instance` names a problem and the kind of it (``pmed``, ``cap``, ``mdt``, ``kent``,
``england``, ``resolve``). :func:`prepare_instance` writes what the methods read into a work
folder:

- ``scenario.yaml`` and its tables (for mdtplan, through its scenario interface);
- ``arrays.npz``: the instance's numbers for the matrix floor and spopt (OR-Library: the
  distance matrix or the warehouse data; MDT kinds: filled in later by the runner with the
  matrix mdtplan hands to HiGHS).

Published optima come from ``../shared/benchmarks/orlib/optima.csv``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .synthetic import SIZES, pmed_graph, write_mdt_scenario

KINDS = ("pmed", "cap", "mdt", "kent", "england", "resolve", "pgen", "whatif")

PMED = tuple(f"pmed{i}" for i in range(1, 21))
#: OR-Library's larger p-median files, not in the shared folder: named explicitly and read
#: from ``--orlib DIR`` (kept for checking, not tuning)
PMED_MORE = tuple(f"pmed{i}" for i in range(21, 41))
#: generated p-median instances (:func:`benchmarks.synthetic.pmed_graph`), 500-900 vertices:
#: ``pgen-N-P`` in OR-Library's manner (a random graph), ``prand-N-P`` random Euclidean;
#: any ``pgen-N-P``/``prand-N-P`` may be named
PGEN = ("pgen-500-10", "pgen-500-50", "pgen-700-7", "pgen-700-35", "pgen-900-9",
        "pgen-900-67", "prand-500-10", "prand-700-35", "prand-900-20")
CAP = tuple(f"cap{a}{b}" for a in range(6, 14) for b in range(1, 5))
MDT_FULL = ("S", "M", "L", "XL")

#: what-ifs from a solved plan (``whatif`` method): ``whatif-<example>-<change>``, the example
#: solved, one thing changed (:func:`benchmarks.methods.whatif_change`: ``cap``, ``count``,
#: ``band``, ``site``), solved cold and from the solved plan at a fifth of the cold time
WHATIF_CHANGES = {"demo": ("cap", "count", "band", "site"), "kent": ("count", "band", "site")}
WHATIF = tuple(f"whatif-{ex}-{c}" for ex, cs in WHATIF_CHANGES.items() for c in cs)

#: budget-capped scenarios for the ``resolve`` method (a cap re-solved in place against a
#: cold build-and-solve); both solve to proven optimality (gap 0) in seconds on one thread.
#: Larger ones do not: the synthetic S under a binding cap (max_demand_met, GBP 28m) is at a
#: 1.3% gap after 300 s, the demo (GBP 22m) at 0.9% after 300 s with mip_gap 0.01.
RESOLVE = ("resolve-XS", "resolve-XS-slack", "resolve-greystow")

#: the synthetic XS under a budget cap, ``max_demand_met``: its uncapped ``min_cost`` optimum
#: is GBP 2,961,600 a year (seed 0), so GBP 2.8m binds (914 demand hours unmet) and so does
#: +2% (GBP 2.856m: 363 unmet)
RESOLVE_XS_CAP_GBP = 2_800_000.0

#: ``resolve-XS-slack``: the same model under a cap that does not bind (all demand is met from
#: GBP 2,961,600): how a sweep's variants above the binding range re-solve
RESOLVE_XS_SLACK_CAP_GBP = 3_200_000.0

#: the demo's Greystow district (34 areas, 53,455 adults) served by one hub, the required
#: County Hall (the fast sweep of ``tests/test_sweep.py``): staffing under the cap, a knapsack
#: of FTE steps; all demand is met from about GBP 2.2m, so GBP 2.0m and +2% bind
GREYSTOW_OVERRIDES = {
    "finance": None, "areas.where": {"district": ["Greystow"]}, "hubs.count.min": None,
    "hubs.count.max": None, "hubs.count.exactly": 1, "hubs.population.min": None,
    "hubs.population.max": None, "hubs.max_travel_minutes": 90, "objective": "max_demand_met",
    "budget.cap": 2_000_000.0,
}

#: relative change of the budget cap between the base and its variant (+2%)
RESOLVE_CAP_STEP = 0.02

#: ``--quick``: a handful of small OR-Library instances and the smallest MDT model
QUICK = ("pmed1", "pmed2", "pmed6", "cap61", "cap71", "cap101", "mdt-S", "resolve-XS",
         "whatif-demo-cap")

#: time limit of each kind [s] (all methods get the same); ``--quick`` uses the second number
TIME_LIMIT_S = {"pmed": (600.0, 60.0), "cap": (600.0, 60.0), "mdt": (120.0, 30.0),
                "kent": (60.0, 60.0), "england": (600.0, 600.0), "resolve": (120.0, 60.0),
                "pgen": (600.0, 60.0), "whatif": (60.0, 20.0)}

#: England: one candidate site every ``ENGLAND_SITE_EVERY``-th MSOA (by code), plus the
#: fewest more needed so that every MSOA has one within ``ENGLAND_MAX_TRAVEL_MINUTES``
ENGLAND_SITE_EVERY = 20
ENGLAND_MAX_TRAVEL_MINUTES = 45.0
ENGLAND_HUB_POPULATION_MAX = 400_000
ENGLAND_SITE_FIXED_COST_GBP = 150_000


@dataclass(frozen=True)
class Instance:
    """One benchmark problem.

    Attributes
    ----------
    name : str
        ``pmed7``, ``cap101``, ``mdt-S``, ``kent-lsoa``, ``england-msoa``.
    kind : str
        One of :data:`KINDS`.
    source : Path or None
        The OR-Library file (``pmed``/``cap``).
    size : str or None
        The synthetic size (``mdt``; ``resolve-XS``).
    time_limit_s : float
        Solver time limit for every method [s].
    """

    name: str
    kind: str
    time_limit_s: float
    source: Path | None = None
    size: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def methods(self) -> tuple[str, ...]:
        """The methods that exist for this problem (spopt has p-median only; ``resolve``
        instances are budget-capped scenarios measured by the ``resolve`` method alone)."""
        if self.kind == "resolve":
            return ("resolve",)
        if self.kind == "whatif":
            return ("whatif",)
        if self.kind in ("pmed", "pgen"):
            return ("floor", "mdtplan", "mdtplan-binary", "spopt")
        return ("floor", "mdtplan")


def shared_dir(repo: Path | None = None) -> Path:
    """``../shared`` beside the repository (the benchmarks and real data live there)."""
    repo = repo or Path(__file__).resolve().parents[1]
    return (repo.parent / "shared").resolve()


def published_optima(shared: Path, more: Path | None = None) -> dict[str, float]:
    """Instance name -> published optimum, from ``benchmarks/orlib/optima.csv`` (and
    ``optima.csv`` of the ``--orlib`` folder ``more``, when it has one)."""
    out: dict[str, float] = {}
    for path in (shared / "benchmarks" / "orlib" / "optima.csv",
                 None if more is None else Path(more) / "optima.csv"):
        if path is None or not path.is_file():
            continue
        with path.open(newline="") as fh:
            out.update({row["instance"]: float(row["optimum"]) for row in csv.DictReader(fh)})
    return out


def _pgen(name: str) -> tuple[str, int, int] | None:
    """``(kind, n, p)`` of a generated instance's name (``pgen-500-10``), or None."""
    parts = name.split("-")
    if len(parts) == 3 and parts[0] in ("pgen", "prand") and parts[1].isdigit() \
            and parts[2].isdigit() and 0 < int(parts[2]) <= int(parts[1]):
        return ("graph" if parts[0] == "pgen" else "metric", int(parts[1]), int(parts[2]))
    return None


def select(only: list[str] | None, *, quick: bool, shared: Path,
           time_limit_s: float | None = None, orlib: Path | None = None) -> list[Instance]:
    """The instances to run.

    Parameters
    ----------
    only : list of str, optional
        Kinds (``pmed``, ``cap``, ``mdt``, ``kent``, ``england``, ``resolve``) and/or instance
        names (``pmed7``, ``cap101``, ``mdt-XS`` … ``mdt-XL``, ``kent-lsoa``, ``england-msoa``,
        ``resolve-XS``, ``resolve-greystow``). A kind
        selects all its instances (with ``quick``, those of :data:`QUICK`; ``kent`` and
        ``england`` are big and run only without ``quick`` or when named).
    quick : bool
    shared : Path
        The ``shared`` folder.
    time_limit_s : float, optional
        Overrides every instance's time limit [s].
    orlib : Path, optional
        A folder of more OR-Library files (``pmed21.txt`` ... ``pmed40.txt``, read when they
        are named; with an ``optima.csv`` of the same layout as the shared one).

    Raises
    ------
    ValueError
        For a token that is neither a kind nor an instance name (the message lists them).
    """
    library = shared / "benchmarks" / "orlib"
    names: list[str] = []
    for token in (only or list(KINDS)):
        token = token.strip()
        if not token:
            continue
        if token in KINDS:
            if token == "pmed":
                pick = PMED
            elif token == "cap":
                pick = CAP
            elif token == "mdt":
                pick = tuple(f"mdt-{s}" for s in MDT_FULL)
            elif token == "kent":
                pick = ("kent-lsoa",)
            elif token == "resolve":
                pick = RESOLVE
            elif token == "pgen":
                pick = PGEN
            elif token == "whatif":
                pick = WHATIF
            else:
                pick = ("england-msoa",)
            if quick:
                pick = tuple(n for n in pick if n in QUICK)
            names += pick
        elif (token in PMED or token in CAP or token in ("kent-lsoa", "england-msoa")
              or token in RESOLVE or token in WHATIF or _pgen(token) is not None
              or (token in PMED_MORE and orlib is not None)
              or (token.startswith("mdt-") and token[4:] in SIZES)):
            names.append(token)
        else:
            raise ValueError(
                f"'{token}' is neither a kind ({', '.join(KINDS)}) nor an instance name "
                f"(pmed1-pmed20, pmed21-pmed40 with --orlib, pgen-N-P, prand-N-P, "
                f"cap61-cap134, mdt-{{{','.join(SIZES)}}}, kent-lsoa, "
                "england-msoa, resolve-XS, resolve-XS-slack, resolve-greystow, "
                f"{', '.join(WHATIF)})")
    out: list[Instance] = []
    for name in dict.fromkeys(names):
        kind = ("pmed" if name.startswith("pmed") else "cap" if name.startswith("cap") else
                "mdt" if name.startswith("mdt-") else "pgen" if _pgen(name) else
                name.split("-")[0])
        extra = ({"cap_step": RESOLVE_CAP_STEP} if kind == "resolve" else
                 {"change": name.split("-")[2]} if kind == "whatif" else {})
        limit = time_limit_s or TIME_LIMIT_S[kind][1 if quick else 0]
        if name in PMED_MORE:
            out.append(Instance(name, kind, limit, source=Path(orlib) / f"{name}.txt"))
        elif kind == "pgen":
            out.append(Instance(name, kind, limit))
        elif kind in ("pmed", "cap"):
            out.append(Instance(name, kind, limit, source=library / kind / f"{name}.txt"))
        elif kind == "mdt":
            out.append(Instance(name, kind, limit, size=name[4:]))
        elif name in ("resolve-XS", "resolve-XS-slack"):
            out.append(Instance(name, kind, limit, size="XS", extra=extra))
        else:
            out.append(Instance(name, kind, limit, extra=extra))
    return out


# --------------------------------------------------------------------------------------------
# Writing each instance's inputs


def prepare_instance(instance: Instance, work: Path, shared: Path, seed: int = 0) -> Path:
    """Write the scenario folder (and OR-Library arrays) of ``instance`` under ``work``.

    Returns
    -------
    Path
        Its ``scenario.yaml``.
    """
    folder = work / instance.name
    folder.mkdir(parents=True, exist_ok=True)
    if instance.kind in ("pmed", "cap", "pgen"):
        from mdtplan.orlib import read_cap, read_pmed, write_scenario

        source = instance.source
        if instance.kind == "pgen":  # written as an OR-Library file, read as one
            kind, n, p = _pgen(instance.name)
            source = folder / f"pmed-{instance.name}.txt"
            source.write_text(pmed_graph(n, p, seed=seed, kind=kind))
        path = write_scenario(source, folder)
        if instance.kind in ("pmed", "pgen"):
            inst = read_pmed(source)
            np.savez(folder / "arrays.npz", distance=inst.distance, p=inst.p)
        else:
            inst = read_cap(instance.source)
            np.savez(folder / "arrays.npz", capacity=inst.capacity, fixed_cost=inst.fixed_cost,
                     demand=inst.demand, allocation_cost=inst.allocation_cost)
        return path
    if instance.kind == "mdt":
        return write_mdt_scenario(instance.size, folder, seed=seed)
    if instance.kind == "kent":
        return write_kent_lsoa_scenario(folder, shared)
    if instance.kind == "resolve":
        return write_resolve_scenario(instance, folder, seed=seed)
    if instance.kind == "whatif":  # the example itself (its paths are its own)
        return Path(__file__).resolve().parents[1] / "examples" / f"{instance.name.split('-')[1]}.yaml"
    return write_england_scenario(folder, shared)


def write_resolve_scenario(instance: Instance, folder: Path, seed: int = 0) -> Path:
    """The budget-capped base scenario of a ``resolve`` instance, written as ``scenario.yaml``.

    ``resolve-XS``: the synthetic XS (:func:`benchmarks.synthetic.write_mdt_scenario`) with
    ``objective: max_demand_met`` and ``budget.cap`` :data:`RESOLVE_XS_CAP_GBP` (chosen for
    seed 0; with another seed the ``resolve`` row says whether the cap still binds);
    ``resolve-XS-slack`` the same with :data:`RESOLVE_XS_SLACK_CAP_GBP`, which does not bind.
    ``resolve-greystow``: ``examples/demo.yaml`` with :data:`GREYSTOW_OVERRIDES`.
    """
    import yaml

    if instance.size is not None:
        target = write_mdt_scenario(instance.size, folder, seed=seed)
        data = yaml.safe_load(target.read_text())
        cap = (RESOLVE_XS_SLACK_CAP_GBP if instance.name == "resolve-XS-slack"
               else RESOLVE_XS_CAP_GBP)
        data.update(objective="max_demand_met", budget={"cap": cap})
        data["name"] = f"{data['name']}-budget"
    else:
        from mdtplan.scenario import load_scenario

        repo = Path(__file__).resolve().parents[1]
        # load_scenario resolves the demo's relative paths, so the copy reads the same files
        data = load_scenario(repo / "examples" / "demo.yaml", GREYSTOW_OVERRIDES).to_dict()
        data["name"] = "demo-greystow-budget"
        target = folder / "scenario.yaml"
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    return target


def kent_lsoa_overrides(shared: Path) -> dict:
    """``--set`` overrides turning ``examples/kent.yaml`` (182 KCC MSOAs) into Kent at LSOA level.

    902 KCC LSOA11s (``in_kcc``) with their mid-2020 populations; the 182 GP practices of the
    Kent and Medway ICB as candidate sites (Medway's 34 too, so border areas may use them);
    the repository's default operating model (``models/default.yaml``); everything else as
    in ``kent.yaml``: at least nine hubs of 30,000-50,000 people within 30 minutes,
    ``min_cost``. IMD 2019 has no LSOA scores here, so demand has no deprivation multiplier;
    no workforce, finance or locality teams (they are Kent's operating model's) and no
    growth check.
    """
    kent = shared / "data" / "kent"
    repo = Path(__file__).resolve().parents[1]
    return {
        "name": "kent-lsoa",
        "operating_model": str(repo / "models" / "default.yaml"),
        "areas.path": str(kent / "kent_lsoa11_bgc.gpkg"),
        "areas.layer": "lsoa11",
        "areas.id": "lsoa11_code",
        "areas.name": "lsoa11_name",
        "areas.tables": [{"path": str(kent / "kent_lsoa11_population_mid2020.csv"),
                          "id": "lsoa11_code"}],
        "areas.deprivation": None,
        "sites.path": str(kent / "kent_gp_practices.csv"),
        "sites.where": None,
        # today's staff and the finance case name roles and levers of Kent's operating model,
        # which the default one does not have
        "workforce": None,
        "finance": None,
        # the growth check is a second solve (and its table a path relative to examples/),
        # and the locality teams are staffed by a role of Kent's operating model: the
        # instance times the hub plan
        "demand.growth": None,
        "localities": None,
    }


def write_kent_lsoa_scenario(folder: Path, shared: Path) -> Path:
    """``examples/kent.yaml`` with :func:`kent_lsoa_overrides`, written as a scenario file."""
    import yaml

    from mdtplan.scenario import apply_overrides, read_document

    repo = Path(__file__).resolve().parents[1]
    source = repo / "examples" / "kent.yaml"
    data = apply_overrides(read_document(source), kent_lsoa_overrides(shared),
                           file=str(source))
    target = folder / "scenario.yaml"
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    return target


def england_sites(xy: np.ndarray, every: int = ENGLAND_SITE_EVERY,
                  max_km: float | None = None) -> np.ndarray:
    """Positions of candidate sites among the areas: every ``every``-th, then the farthest
    area from any site, again and again, until every area has a site within ``max_km``.

    Parameters
    ----------
    xy : ndarray, shape (n, 2)
        Area points in EPSG:27700 [m], in a fixed order (by area code).
    every : int
    max_km : float, optional
        Straight-line reach [km]; ``None`` adds nothing.

    Returns
    -------
    ndarray of int
        Area positions that host a site, in the order chosen.
    """
    from scipy.spatial import cKDTree

    chosen = list(range(0, len(xy), every))
    if max_km is None:
        return np.asarray(chosen)
    while True:
        dist, _ = cKDTree(xy[chosen]).query(xy)
        worst = int(np.argmax(dist))
        if dist[worst] <= max_km * 1000.0:
            return np.asarray(chosen)
        chosen.append(worst)


def write_england_scenario(folder: Path, shared: Path) -> Path:
    """All of England at MSOA11 level: 6,791 areas, a few hundred candidate sites.

    Sites sit at the representative points of every 20th MSOA (by code), plus the fewest more
    so that every MSOA has one within 45 minutes (straight line x 1.3 at 40 km/h); each costs
    GBP 150,000 a year. Hubs serve at most 400,000 people (all ages), enough for every MSOA to
    go to its nearest site (so a plan exists; the busiest nearest site serves 381,034); the
    repository's default operating model; ``min_cost``.
    """
    import geopandas as gpd
    import yaml

    england = shared / "data" / "england"
    repo = Path(__file__).resolve().parents[1]
    gpkg = england / "england_msoa11_bsc.gpkg"
    areas = gpd.read_file(gpkg, layer="msoa11").sort_values("msoa11_code")
    points = areas.to_crs("EPSG:27700").geometry.representative_point()
    xy = np.column_stack([points.x.to_numpy(), points.y.to_numpy()])
    reach_km = ENGLAND_MAX_TRAVEL_MINUTES * 40.0 / 60.0 / 1.3
    hosts = england_sites(xy, max_km=reach_km)
    codes = areas["msoa11_code"].to_numpy()
    lines = ["site_id,host_msoa11,easting,northing,fixed_cost"]
    for k, i in enumerate(hosts):
        lines.append(f"E{k + 1:04d},{codes[i]},{xy[i, 0]:.1f},{xy[i, 1]:.1f},"
                     f"{ENGLAND_SITE_FIXED_COST_GBP}")
    (folder / "sites.csv").write_text("\n".join(lines) + "\n")
    scenario = {
        "name": "england-msoa",
        "operating_model": str(repo / "models" / "default.yaml"),
        "areas": {
            "path": str(gpkg), "layer": "msoa11", "id": "msoa11_code", "name": "msoa11_name",
            "group": "ltla21_name",
            "tables": [{"path": str(england / "england_msoa11_population_mid2020_imd2019.csv"),
                        "id": "msoa11_code"}],
            "population": {"age_18_64": "pop_18_64", "age_65_74": "pop_65_74",
                           "age_75_84": "pop_75_84", "age_85_plus": "pop_85_plus"},
            "headcount": "pop_total",
            "deprivation": "imd2019_score_popweighted",
        },
        "sites": {"path": "sites.csv", "id": "site_id",
                  "coords": {"x": "easting", "y": "northing", "crs": "EPSG:27700"},
                  "fixed_cost": "fixed_cost"},
        "travel": {"circuity": 1.3, "speed_kmh": 40.0},
        "hubs": {"population": {"max": ENGLAND_HUB_POPULATION_MAX},
                 "max_travel_minutes": ENGLAND_MAX_TRAVEL_MINUTES, "assignment": "single"},
        "objective": "min_cost",
        "solver": {"time_limit_s": 600.0, "mip_gap": 0.0, "threads": 1},
    }
    target = folder / "scenario.yaml"
    target.write_text(yaml.safe_dump(scenario, sort_keys=False))
    return target
