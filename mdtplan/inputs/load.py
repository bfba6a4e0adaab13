"""The inputs stage: :func:`load_inputs` runs every loader and returns a frozen :class:`Inputs`.

Every problem found in every file is gathered and raised once, as one
:class:`~mdtplan.errors.InputError` (errors first, then warnings).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from ..errors import InputError, Problem
from .areas import _load_areas
from .growth import _load_growth
from .pools import _check_pools
from .problems import _Problems
from .sites import _check_sites_near_areas, _load_sites
from .travel_table import _load_travel_table
from .workforce import _load_workforce

if TYPE_CHECKING:
    from ..operating_model import OperatingModel
    from ..scenario import Scenario


@dataclass(frozen=True)
class Inputs:
    """Everything a scenario names, loaded, checked and put in canonical form.

    Attributes
    ----------
    scenario : Scenario
        The scenario the inputs were loaded for (paths absolute).
    operating_model : OperatingModel or None
        ``None`` for scenarios without roles (the classic location problems).
    areas : geopandas.GeoDataFrame
        Index ``area_id`` (the source id strings, unique). Columns: one float column per
        population band, named by the band (``age_18_64`` …, or ``all``); ``population``
        (the ``areas.headcount`` column where mapped, else the bands' sum) [people];
        ``name`` (str; the id where unmapped); ``group`` (str or <NA>);
        ``deprivation`` (float or NaN); ``demand_override__<role>`` (float hours/year, NaN = no
        override) for each mapped override; ``x``, ``y``: representative point in EPSG:27700 [m]
        (NaN when the file has no geometry); ``geometry`` in EPSG:27700 (may be all-None for a
        CSV without coordinates when a travel table is given).
    sites : geopandas.GeoDataFrame
        Index ``site_id`` (str, unique). Columns: ``name`` (str), ``kind`` (str or <NA>),
        ``status`` (``candidate`` | ``existing`` | ``required`` | ``excluded``),
        ``fixed_cost_gbp`` [GBP/year, 0 if unmapped], ``opening_cost_gbp`` [GBP/year, 0],
        ``capacity`` [population/demand units, NaN = none], ``capacity_fte`` [FTE, NaN = none],
        ``pool`` (str or <NA>), ``x``, ``y`` [m, EPSG:27700], ``lon``, ``lat`` [deg, EPSG:4326],
        ``geometry`` (points, EPSG:27700; None without coordinates).
    travel : pandas.DataFrame or None
        The user's travel table: ``area_id``, ``site_id`` (str), ``travel_cost`` (float, in
        ``scenario.travel.unit``). ``None`` when travel is straight-line.
    workforce : pandas.DataFrame or None
        ``unit`` (site id or pool name, str), ``role`` (str), ``fte`` (float),
        ``contract`` (``permanent`` | ``agency`` | ``vacant``).
    growth : pandas.DataFrame or None
        With ``demand.growth``: each area's population multiplier per age band for
        ``demand.growth.year`` [-] (index ``area_id``, one column per band).
    warnings : tuple of Problem
        Repairs and oddities reported, never silently applied (e.g. geometry made valid).

    Notes
    -----
    String columns use pandas' default ``str`` dtype, whose missing value is NaN (shown as
    <NA> above): test with ``isna()``.
    """

    scenario: Scenario
    operating_model: OperatingModel | None
    areas: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    travel: pd.DataFrame | None = None
    workforce: pd.DataFrame | None = None
    growth: pd.DataFrame | None = None
    warnings: tuple[Problem, ...] = field(default_factory=tuple)


def load_inputs(scenario: Scenario) -> Inputs:
    """Load, check and canonicalise every file a scenario names.

    Parameters
    ----------
    scenario : Scenario
        A scenario whose paths are absolute (as :func:`mdtplan.scenario.load_scenario` or
        ``parse_scenario(..., base_dir=...)`` return it).

    Returns
    -------
    Inputs
        Areas and sites in EPSG:27700, the travel table and workforce if given, and the
        warnings (repairs, unused rows) in ``warnings``.

    Raises
    ------
    ScenarioError
        If the operating model file is missing or malformed.
    InputError
        Carrying every problem found in every file (warnings included after the errors).
    """
    from ..operating_model import load_operating_model

    om = load_operating_model(scenario.operating_model) if scenario.operating_model else None
    p = _Problems()
    has_table = scenario.travel.path is not None
    if not has_table and scenario.travel.unit == "units":
        p.error(None, None, "travel.unit", "travel.unit 'units' needs a travel table "
                "(straight-line travel is in minutes or km)",
                "set travel.path, or travel.unit: minutes or km")
    areas_loaded = _load_areas(scenario.areas, om, has_table, p)
    sites_loaded = _load_sites(scenario.sites, has_table, p)
    areas, area_raw_ids = areas_loaded if areas_loaded else (None, set())
    sites, site_raw_ids = sites_loaded if sites_loaded else (None, set())
    if areas is not None and sites is not None:
        _check_sites_near_areas(areas, sites, scenario.sites.path, p)
    _check_pools(om, scenario, areas, sites, p)
    travel = None
    if has_table:
        travel = _load_travel_table(scenario.travel, areas, area_raw_ids, sites, site_raw_ids, p)
    workforce = None
    if scenario.workforce is not None:
        workforce = _load_workforce(scenario, om, areas, sites, p)
    growth = None
    if scenario.demand.growth is not None and areas is not None:
        growth = _load_growth(scenario, om, areas, p)
    if p.errors or areas is None or sites is None:
        problems = p.errors + p.warnings
        if not p.errors:  # pragma: no cover - every early return reports an error
            problems.insert(0, Problem(None, None, None, "the inputs could not be loaded"))
        raise InputError(problems)
    return Inputs(scenario=scenario, operating_model=om, areas=areas, sites=sites,
                  travel=travel, workforce=workforce, growth=growth,
                  warnings=tuple(p.warnings))
