"""J.E. Beasley's OR-Library location instances as mdtplan problems.

Two families, both classic special cases of the mdtplan model (CONTRACT §3):

- ``pmed1`` … ``pmed40``: the uncapacitated p-median problem. The file gives a graph; costs are
  shortest-path distances between every pair of vertices; every vertex is a client (weight 1) and
  a candidate site; choose exactly p sites and assign each vertex to one, minimising total
  distance.
- ``cap61`` … ``cap134`` (and ``capa/b/c``): the capacitated warehouse location problem, whose
  published optima are for the *splittable* problem (a customer's demand may be divided between
  open warehouses).

:func:`read_pmed` and :func:`read_cap` parse the files; :func:`pmed_model_data` and
:func:`cap_model_data` turn them straight into :class:`~mdtplan.model.data.ModelData`;
:func:`write_scenario` writes a scenario folder that ``mdtplan solve`` reads, whose objective is
the instance's objective in its own units.

References
----------
J.E. Beasley, "OR-Library: distributing test problems by electronic mail", Journal of the
Operational Research Society 41(11) (1990) 1069-1072. p-median: Beasley, "A note on solving
large p-median problems", EJOR 21 (1985) 270-273. Capacitated warehouse location: Beasley,
"An algorithm for solving large capacitated warehouse location problems", EJOR 33 (1988) 314-325.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError, Problem
from .model.data import ModelData, empty_roles


@dataclass(frozen=True)
class PMedianInstance:
    """A p-median instance: ``n`` vertices, ``p`` medians, all-pairs shortest-path ``distance``."""

    name: str
    n: int
    p: int
    distance: np.ndarray


@dataclass(frozen=True)
class CapInstance:
    """A capacitated warehouse location instance.

    Attributes
    ----------
    capacity : ndarray, shape (m,)
        Warehouse capacities [demand units].
    fixed_cost : ndarray, shape (m,)
        Cost of opening each warehouse.
    demand : ndarray, shape (n,)
        Customer demands [demand units].
    allocation_cost : ndarray, shape (n, m)
        Cost of allocating **all** of customer j's demand to warehouse i (a share x of it costs
        x times this number).
    """

    name: str
    capacity: np.ndarray
    fixed_cost: np.ndarray
    demand: np.ndarray
    allocation_cost: np.ndarray


def _numbers(path: Path) -> list[str]:
    try:
        return Path(path).read_text().split()
    except OSError as err:
        raise InputError([Problem(str(path), None, None, f"cannot read: {err.strerror}",
                                  "check the path")]) from None


def _bad(path, message: str) -> InputError:
    return InputError([Problem(str(path), None, None, message,
                               "is this an OR-Library pmed*/cap* file?")])


def read_pmed(path: str | Path) -> PMedianInstance:
    """Read an OR-Library p-median file.

    Parameters
    ----------
    path : str or Path
        First line ``n edges p``; then ``edges`` lines ``i j cost`` (vertices 1..n, undirected).

    Returns
    -------
    PMedianInstance
        With the all-pairs shortest-path distance matrix (n x n) [instance units].

    Notes
    -----
    If an edge appears more than once, the **last** line for it holds (OR-Library's convention).
    The graph is undirected.
    """
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import shortest_path

    path = Path(path)
    tokens = _numbers(path)
    try:
        n, n_edges, p = (int(float(t)) for t in tokens[:3])
        edges = np.asarray(tokens[3:3 + 3 * n_edges], dtype=float).reshape(-1, 3)
    except (ValueError, TypeError):
        raise _bad(path, "the file does not hold numbers in the p-median layout") from None
    if len(edges) != n_edges or n <= 0 or not 0 < p <= n:
        raise _bad(path, f"header says n={n}, {n_edges} edges, p={p}, but {len(edges)} edge "
                         "lines were read")
    i = edges[:, 0].astype(int) - 1
    j = edges[:, 1].astype(int) - 1
    if i.min() < 0 or j.min() < 0 or max(i.max(), j.max()) >= n:
        raise _bad(path, f"an edge names a vertex outside 1..{n}")
    # the last line for an (unordered) edge holds: keep the last occurrence of each key
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    key = lo * n + hi
    _, last_rev = np.unique(key[::-1], return_index=True)
    keep = len(key) - 1 - last_rev
    lo, hi, cost = lo[keep], hi[keep], edges[keep, 2]
    off = lo != hi
    lo, hi, cost = lo[off], hi[off], cost[off]
    graph = csr_array((np.concatenate([cost, cost]),
                       (np.concatenate([lo, hi]), np.concatenate([hi, lo]))), shape=(n, n))
    distance = shortest_path(graph, method="D", directed=False)
    if not np.isfinite(distance).all():
        raise _bad(path, "the graph is not connected")
    return PMedianInstance(path.stem, n, p, distance)


def read_cap(path: str | Path, capacity: float | None = None) -> CapInstance:
    """Read an OR-Library capacitated warehouse location file.

    Parameters
    ----------
    path : str or Path
        ``m n``; m lines ``capacity fixed_cost``; then for each customer its demand followed by
        m allocation costs. The numbers may wrap over lines: the file is read as a stream.
    capacity : float, optional
        Overrides every warehouse's capacity [demand units] (the capa/capb/capc files write the
        word ``capacity`` as a placeholder; it must then be given).

    Returns
    -------
    CapInstance
    """
    path = Path(path)
    tokens = _numbers(path)
    try:
        m, n = int(tokens[0]), int(tokens[1])
    except (ValueError, IndexError):
        raise _bad(path, "the first line must be 'm n'") from None
    pos = 2
    cap = np.empty(m)
    fixed = np.empty(m)
    for w in range(m):
        raw_cap, raw_fixed = tokens[pos], tokens[pos + 1]
        pos += 2
        try:
            cap[w] = float(raw_cap)
        except ValueError:
            if capacity is None:
                raise InputError([Problem(str(path), f"warehouse {w + 1}", "capacity",
                                          f"capacity is written as '{raw_cap}', a placeholder",
                                          "give the capacity (mdtplan orlib FILE --capacity N)"
                                          )]) from None
            cap[w] = np.nan
        fixed[w] = float(raw_fixed)
    if capacity is not None:
        cap[:] = float(capacity)
    try:
        rest = np.asarray(tokens[pos:], dtype=float)
    except ValueError:
        raise _bad(path, "customer data holds something that is not a number") from None
    if rest.size != n * (m + 1):
        raise _bad(path, f"expected {n} customers x (1 + {m}) numbers, found {rest.size}")
    block = rest.reshape(n, m + 1)
    return CapInstance(path.stem, cap, fixed, block[:, 0].copy(), block[:, 1:].copy())


# --------------------------------------------------------------------------------------------
# Instances -> ModelData


def _ids(prefix: str, k: int) -> list[str]:
    return [f"{prefix}{i + 1}" for i in range(k)]


def _sites(ids, fixed_cost, capacity) -> pd.DataFrame:
    sites = pd.DataFrame({
        "name": ids,
        "status": "candidate",
        "fixed_cost_gbp": np.asarray(fixed_cost, dtype=float),
        "opening_cost_gbp": 0.0,
        "capacity": np.asarray(capacity, dtype=float),
        "capacity_fte": np.nan,
        "pool": pd.array([pd.NA] * len(ids), dtype="string"),
    }, index=pd.Index(ids, name="site_id"))
    return sites


def _areas(ids, weight) -> pd.DataFrame:
    return pd.DataFrame({"population": np.asarray(weight, dtype=float),
                         "group": pd.array([pd.NA] * len(ids), dtype="string")},
                        index=pd.Index(ids, name="area_id"))


def _pairs(area_ids, site_ids, cost: np.ndarray) -> pd.DataFrame:
    n, m = cost.shape
    return pd.DataFrame({
        "area_id": np.repeat(np.asarray(area_ids, dtype=object), m),
        "site_id": np.tile(np.asarray(site_ids, dtype=object), n),
        "travel_cost": cost.reshape(-1).astype(float),
        "pool": pd.array([pd.NA] * (n * m), dtype="string"),
    })


def pmed_model_data(instance: PMedianInstance) -> ModelData:
    """The p-median instance as ModelData: no roles, exactly p hubs, ``min_travel``, single.

    Every vertex ``v1..vn`` is an area of weight 1 and a candidate site; travel is the
    shortest-path distance, weighted by population (= 1), so the objective is the total distance.
    """
    n = instance.n
    ids = _ids("v", n)
    areas = _areas(ids, np.ones(n))
    return ModelData(
        name=instance.name,
        areas=areas,
        demand_hours=pd.DataFrame(index=areas.index),
        sites=_sites(ids, np.zeros(n), np.full(n, np.nan)),
        pairs=_pairs(ids, ids, instance.distance),
        roles=empty_roles(),
        hub_count_min=instance.p,
        hub_count_max=instance.p,
        assignment="single",
        objective="min_travel",
        travel_weight_by_population=True,
        travel_unit="units",
    )


def cap_model_data(instance: CapInstance, *, assignment: str = "split") -> ModelData:
    """The warehouse instance as ModelData: no roles, fixed costs, capacities, ``min_cost``.

    Customers ``c1..cn`` are areas whose weight is their demand; warehouses ``w1..wm`` are sites
    with ``fixed_cost_gbp`` and ``capacity`` [demand units]. Travel is the cost of allocating all
    of a customer's demand, counted once per area (``travel_weight_by_population=False``) at
    1 per unit, so ``min_cost`` is fixed costs plus allocation costs: Beasley's objective.
    ``assignment="single"`` gives the single-source problem.
    """
    n, m = instance.allocation_cost.shape
    areas = _areas(_ids("c", n), instance.demand)
    site_ids = _ids("w", m)
    return ModelData(
        name=instance.name,
        areas=areas,
        demand_hours=pd.DataFrame(index=areas.index),
        sites=_sites(site_ids, instance.fixed_cost, instance.capacity),
        pairs=_pairs(list(areas.index), site_ids, instance.allocation_cost),
        roles=empty_roles(),
        hub_count_min=0,
        hub_count_max=None,
        assignment=assignment,
        objective="min_cost",
        travel_cost_gbp_per_unit=1.0,
        travel_weight_by_population=False,
        travel_unit="units",
    )


def kind_of(path: str | Path) -> str:
    """``"pmed"`` or ``"cap"`` from the file name (``pmed7.txt``, ``cap101.txt``, ``capa``)."""
    stem = Path(path).name.lower()
    if stem.startswith("pmed"):
        return "pmed"
    if stem.startswith("cap"):
        return "cap"
    raise InputError([Problem(str(path), None, None,
                              "cannot tell the problem from the file name",
                              "OR-Library p-median files are named pmed*, capacitated "
                              "warehouse files cap*")])


def to_model_data(path: str | Path, *, capacity: float | None = None,
                  assignment: str = "split") -> ModelData:
    """Read an OR-Library ``pmed*`` or ``cap*`` file straight into ModelData (no files written).

    Parameters
    ----------
    path : str or Path
    capacity : float, optional
        Capacity override for ``cap*`` files [demand units].
    assignment : {"split", "single"}
        For ``cap*`` files: the published optima are for ``split``.
    """
    if kind_of(path) == "pmed":
        return pmed_model_data(read_pmed(path))
    return cap_model_data(read_cap(path, capacity), assignment=assignment)


# --------------------------------------------------------------------------------------------
# Scenario folders


def write_scenario(path: str | Path, out_dir: str | Path, capacity: float | None = None) -> Path:
    """Write an OR-Library instance as a scenario folder ``mdtplan solve`` can read.

    Parameters
    ----------
    path : str or Path
        A ``pmed*`` or ``cap*`` file.
    out_dir : str or Path
        Created if missing. Receives ``scenario.yaml``, ``areas.csv`` (id, weight),
        ``sites.csv`` (id, fixed_cost, capacity) and ``travel.csv`` (area_id, site_id, cost).
    capacity : float, optional
        Capacity override for ``cap*`` files [demand units].

    Returns
    -------
    Path
        The written ``scenario.yaml``.

    Notes
    -----
    No operating model: the scenario has no roles, so it is the classic problem exactly.
    p-median: ``hubs.count.exactly: p``, ``objective: min_travel``, ``assignment: single``,
    travel weighted by population (each vertex weighs 1). Capacitated warehouse location:
    ``objective: min_cost``, ``assignment: split``, travel costed at 1 per unit and counted once
    per area; sites carry ``fixed_cost`` and ``capacity``. Costs are written with ``repr``
    precision, so the objective of the solved scenario is the instance's objective.
    """
    import yaml

    path = Path(path)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = to_model_data(path, capacity=capacity)
    areas = pd.DataFrame({"id": data.areas.index, "weight": data.areas["population"].to_numpy()})
    sites = pd.DataFrame({"id": data.sites.index,
                          "fixed_cost": data.sites["fixed_cost_gbp"].to_numpy(),
                          "capacity": data.sites["capacity"].to_numpy()})
    travel = data.pairs[["area_id", "site_id", "travel_cost"]].rename(
        columns={"travel_cost": "cost"})
    areas.to_csv(out / "areas.csv", index=False)
    travel.to_csv(out / "travel.csv", index=False)
    travel_cfg = {"path": "travel.csv", "area_id": "area_id", "site_id": "site_id",
                  "cost": "cost", "unit": "units"}
    sites_cfg: dict = {"path": "sites.csv", "id": "id"}
    if kind_of(path) == "pmed":
        sites[["id"]].to_csv(out / "sites.csv", index=False)
        scenario = {
            "name": data.name,
            "areas": {"path": "areas.csv", "id": "id", "population": "weight"},
            "sites": sites_cfg,
            "travel": {**travel_cfg, "weight_by_population": True},
            "hubs": {"count": {"exactly": int(data.hub_count_min)}, "assignment": "single"},
            "objective": "min_travel",
        }
    else:
        sites.to_csv(out / "sites.csv", index=False)
        scenario = {
            "name": data.name,
            "areas": {"path": "areas.csv", "id": "id", "population": "weight"},
            "sites": {**sites_cfg, "fixed_cost": "fixed_cost", "capacity": "capacity"},
            "travel": {**travel_cfg, "cost_gbp_per_unit": 1.0, "weight_by_population": False},
            "hubs": {"assignment": "split"},
            "objective": "min_cost",
        }
    scenario["solver"] = {"mip_gap": 0.0, "time_limit_s": 600.0}
    target = out / "scenario.yaml"
    target.write_text(yaml.safe_dump(scenario, sort_keys=False))
    return target
