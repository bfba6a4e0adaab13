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
class LeverData:
    """Levers the optimisation decides how far to take (:mod:`mdtplan.care`), at their most
    likely level.

    Attributes
    ----------
    cohort : DataFrame
        Index ``area_id``, one column per lever id: people of the lever's cohort [people/year
        or people].
    hours : DataFrame
        Index lever id, one column per role id: staff hours per person reached [h] (negative:
        hours freed).
    saving_gbp : Series
        Lever id -> care spend avoided per person reached [GBP/year].
    max_share : Series
        Lever id -> the most of its cohort the lever can reach [-].
    """

    cohort: pd.DataFrame
    hours: pd.DataFrame
    saving_gbp: pd.Series
    max_share: pd.Series


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
        optional ``area_id`` (str or <NA>): the area the site stands in; optional
        ``easting_m``, ``northing_m`` [m, EPSG:27700; NaN = no point].
    pairs : DataFrame
        Allowed (area, site) pairs only: ``area_id``, ``site_id``, ``travel_cost`` [travel
        unit], ``pool`` (the specialist pool that serves the area when it is assigned to the
        site). Excluded sites never appear. With staff travel, also ``round_trip_hours`` [h]
        and ``round_trip_miles`` [miles]: one visit's trip from the site to the area and back.
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
    visits_per_demand_hour : dict
        Staff travel: role id -> trips from the hub per demand hour of the role
        (``visit_share x visits_per_contact_hour``) [visits/h]. Empty (or ``pairs`` without
        ``round_trip_hours``): no staff travel, the model of before. A pair's demand of role r
        is then ``d[a, r] x (1 + visits[r] x round_trip_hours[a, s])``.
    mileage_gbp_per_mile : float
        Price of the visits' miles [GBP/mile] (a council cost: in the cost and the budget).
    hub_min_separation_km : float or None
        No two open hubs closer than this [km] (``easting_m``/``northing_m``; sites without
        them are not held to it). None or 0: off.
    max_shortfall_spread : float or None
        Under ``max_demand_met``, no open hub's share of its core demand met may fall more
        than this [fraction] below the plan's overall share of core demand met. None: off.
    levers : LeverData or None
        Workstreams the model works out (rule family ``lever_reach``); None: none.
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
    visits_per_demand_hour: dict[str, float] = field(default_factory=dict)
    mileage_gbp_per_mile: float = 0.0
    hub_min_separation_km: float | None = None
    max_shortfall_spread: float | None = None
    levers: LeverData | None = None


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
