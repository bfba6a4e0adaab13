"""The data the optimisation model is built from: plain tables, no files, no geometry.

:func:`mdtplan.assemble.prepare_model_data` turns loaded inputs, the demand table and the
allowed pairs into a :class:`ModelData`; tests and the OR-Library converter build one directly.
Nothing in ``model/`` reads a scenario: what it needs is here, typed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class SupervisionRule:
    """``supervisor`` FTE x ``max_ratio`` >= sum of ``supervises`` FTE in each unit."""

    supervisor: str
    supervises: tuple[str, ...]
    max_ratio: float


@dataclass(frozen=True)
class ModelData:
    """Everything :func:`mdtplan.model.build.build_model` needs.

    Attributes
    ----------
    name : str
        Scenario name.
    areas : DataFrame
        Index ``area_id`` (str). Columns ``population`` (float weight [people, or demand units
        in the classic problems]) and ``group`` (str or <NA>).
    demand_hours : DataFrame
        Index ``area_id`` (same order as ``areas``), one float column per role id [hours/year].
        No columns when there are no roles.
    sites : DataFrame
        Index ``site_id`` (str). Columns ``name``, ``status`` (candidate|existing|required|
        excluded), ``fixed_cost_gbp``, ``opening_cost_gbp`` [GBP/year], ``capacity`` [weight
        units, NaN = none], ``capacity_fte`` [FTE, NaN = none], ``pool`` (str or <NA>);
        optional ``area_id`` (str or <NA>): the area the site stands in.
    pairs : DataFrame
        Allowed (area, site) pairs only: ``area_id``, ``site_id``, ``travel_cost`` [travel
        unit], ``pool`` (the specialist pool that serves the area when it is assigned to the
        site). Excluded sites never appear.
    roles : DataFrame
        Index ``role_id``. Columns ``name``, ``kind`` (core|specialist), ``cost_gbp_per_fte``,
        ``agency_premium``, ``productive_hours_per_fte``, ``min_fte_per_hub``, ``fte_step``,
        ``max_agency_share``.
    supply_fte : dict
        role id -> most permanent FTE that can be employed (today's permanent + hiring limit).
        Roles absent are unlimited.
    supervision : tuple of SupervisionRule
    hub_count_min, hub_count_max : int, int or None
    hub_population_min, hub_population_max : float or None
        Band on the population (weight) served by each open hub.
    budget_cap_gbp : float or None
        Annual cap on staff cost (agency at its premium) plus site fixed and opening costs.
    assignment : {"single", "split"}
    objective : {"max_demand_met", "min_cost", "min_travel", "min_max_travel"}
    travel_cost_gbp_per_unit : float
        Money per unit of travel in ``min_cost`` (0 = travel not costed).
    travel_weight_by_population : bool
        Whether travel counts once per person (True) or once per area (False).
    travel_unit : str
    max_travel : float or None
        The reach limit already applied to ``pairs`` (for reporting).
    serve_own_area : bool
        Whether an open hub serves the area it stands in (``sites.area_id``; sites without one
        are not held to it).
    contiguous : bool
        Whether each open hub's areas must form one connected patch of ``edges`` holding the
        hub's own area (``hubs.contiguous``).
    edges : DataFrame or None
        The areas' neighbour graph: ``area_a``, ``area_b`` (area ids), ``kind`` (``boundary``,
        ``nearest``, ``link``), from :func:`mdtplan.adjacency.area_adjacency`; built when
        ``contiguous`` is on, else ``None``.
    """

    name: str
    areas: pd.DataFrame
    demand_hours: pd.DataFrame
    sites: pd.DataFrame
    pairs: pd.DataFrame
    roles: pd.DataFrame
    supply_fte: dict[str, float] = field(default_factory=dict)
    supervision: tuple[SupervisionRule, ...] = ()
    hub_count_min: int = 0
    hub_count_max: int | None = None
    hub_population_min: float | None = None
    hub_population_max: float | None = None
    budget_cap_gbp: float | None = None
    assignment: str = "single"
    objective: str = "max_demand_met"
    travel_cost_gbp_per_unit: float = 0.0
    travel_weight_by_population: bool = True
    travel_unit: str = "minutes"
    max_travel: float | None = None
    serve_own_area: bool = False
    contiguous: bool = False
    edges: pd.DataFrame | None = None


# --------------------------------------------------------------------------------------------
# The roles table

ROLE_COLUMNS = ("name", "kind", "cost_gbp_per_fte", "agency_premium", "productive_hours_per_fte",
                 "min_fte_per_hub", "fte_step", "max_agency_share")


def empty_roles() -> pd.DataFrame:
    """A roles table with no rows and the :class:`ModelData` columns (the classic problems)."""
    roles = pd.DataFrame({c: pd.Series(dtype=object if c in ("name", "kind") else float)
                          for c in ROLE_COLUMNS})
    roles.index = pd.Index([], name="role_id", dtype=object)
    return roles
