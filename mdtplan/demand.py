"""Demand per area and role: population bands x activity rates x hours per contact.

The operating model (:mod:`mdtplan.operating_model`) says, for each client group, how many
contacts 1,000 people of each age band generate in a year, how those contacts split over
pathways, and how many hours of each role a contact takes. Folding the client groups and the
pathways gives one band x role matrix ``H`` of hours per person per year; demand is then a
single matrix product::

    hours[a, r] = m[a] * sum_b pop[a, b] * H[b, r]
    H[b, r]     = sum_g rate[g, b] / 1000 * sum_p share[g, p] * h[p, r]

with ``m[a]`` the optional deprivation multiplier (:func:`deprivation_multiplier`). A non-NaN
``demand_override__<role>`` column replaces that area's hours for that role, after the
multiplier.

This module knows nothing about hubs or Pyomo: it turns a table of areas into a table of hours.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import InputError, Problem, ScenarioError
from .operating_model import Deprivation, OperatingModel

OVERRIDE_PREFIX = "demand_override__"
"""Prefix of the per-role override columns in the areas table (``demand_override__<role>``)."""


def demand_matrix(operating_model: OperatingModel) -> pd.DataFrame:
    """Hours of each role one person of each age band needs in a year.

    Parameters
    ----------
    operating_model : OperatingModel
        Roles, age bands, client groups and pathways.

    Returns
    -------
    DataFrame
        Index ``age_band`` (the model's ``age_bands``, in order), one column per role id (the
        model's role order) [hours/person/year]:
        ``H[b, r] = sum_g rate[g, b] / 1000 * sum_p share[g, p] * h[p, r]``, where a client group
        with its own ``hours_per_contact`` is a single pathway of share 1. Bands or roles that a
        client group or pathway does not name count as zero.

    Examples
    --------
    >>> from mdtplan.operating_model import OperatingModel
    >>> om = OperatingModel.model_validate({
    ...     "name": "toy", "age_bands": ["young", "old"],
    ...     "roles": [{"id": "sw", "name": "Social worker", "kind": "core",
    ...                "cost_gbp_per_fte": 50000, "productive_hours_per_fte": 1500}],
    ...     "demand": {"client_groups": [{"id": "assess",
    ...                                   "rate_per_1000": {"young": 10, "old": 50},
    ...                                   "hours_per_contact": {"sw": 20}}]}})
    >>> demand_matrix(om)["sw"].round(3).tolist()   # 10/1000*20, 50/1000*20
    [0.2, 1.0]
    """
    bands = list(operating_model.age_bands)
    roles = [r.id for r in operating_model.roles]
    role_pos = {r: j for j, r in enumerate(roles)}
    pathway_hours = {p.id: _role_vector(p.hours_per_contact, role_pos)
                     for p in operating_model.demand.pathways}

    matrix = np.zeros((len(bands), len(roles)))
    for group in operating_model.demand.client_groups:
        contacts_per_person = np.array([group.rate_per_1000.get(b, 0.0) for b in bands]) / 1000.0
        if group.hours_per_contact is not None:
            hours_per_contact = _role_vector(group.hours_per_contact, role_pos)
        else:
            hours_per_contact = np.zeros(len(roles))
            for pathway_id, share in (group.pathways or {}).items():
                hours_per_contact += share * pathway_hours[pathway_id]
        matrix += np.outer(contacts_per_person, hours_per_contact)
    return pd.DataFrame(matrix, index=pd.Index(bands, name="age_band"),
                        columns=pd.Index(roles, name="role"))


def deprivation_multiplier(score, deprivation: Deprivation) -> np.ndarray:
    """Demand multiplier from a deprivation score.

    Parameters
    ----------
    score : numeric or array_like
        Deprivation score of each area (e.g. IMD 2019 population-weighted MSOA score) [score].
        NaN means unknown and gives a multiplier of 1.
    deprivation : Deprivation
        ``reference_score`` [score], ``elasticity`` [-], ``min_multiplier`` and
        ``max_multiplier`` [-].

    Returns
    -------
    numpy.ndarray
        ``clip(1 + elasticity * (score / reference_score - 1), min_multiplier, max_multiplier)``
        [-], 1 where the score is NaN.

    Examples
    --------
    >>> from mdtplan.operating_model import Deprivation
    >>> d = Deprivation(reference_score=20, elasticity=0.5, min_multiplier=0.8,
    ...                 max_multiplier=1.5)
    >>> deprivation_multiplier([20, 40, 0, 100, float("nan")], d).tolist()
    [1.0, 1.5, 0.8, 1.5, 1.0]
    """
    score = np.asarray(score, dtype=float)
    raw = 1.0 + deprivation.elasticity * (score / deprivation.reference_score - 1.0)
    clipped = np.clip(raw, deprivation.min_multiplier, deprivation.max_multiplier)
    return np.where(np.isnan(score), 1.0, clipped)


def compute_demand(areas: pd.DataFrame, operating_model: OperatingModel) -> pd.DataFrame:
    """Annual hours of each role that each area's population needs.

    Parameters
    ----------
    areas : DataFrame
        One row per area, index ``area_id``. One numeric column per age band of the operating
        model, named by the band [people]; optional ``deprivation`` [score] (NaN = unknown,
        multiplier 1) and ``demand_override__<role>`` [hours/year] (NaN = no override). Other
        columns are ignored.
    operating_model : OperatingModel
        Age bands, roles, client groups, pathways and the optional deprivation section.

    Returns
    -------
    DataFrame
        Index ``areas.index``; one float column per role id, in the operating model's role
        order [hours/year]::

            hours[a, r] = m[a] * sum_b pop[a, b] * H[b, r]

        with ``H`` from :func:`demand_matrix` and ``m`` from :func:`deprivation_multiplier`
        (1 without a ``deprivation`` section or column). A non-NaN override replaces
        ``hours[a, r]``.

    Raises
    ------
    InputError
        A band column is missing, non-numeric, NaN or negative; an override is negative; or an
        override column names a role the operating model does not have.
    """
    bands = list(operating_model.age_bands)
    roles = [r.id for r in operating_model.roles]
    _check_areas(areas, bands, roles)

    population = areas[bands].apply(pd.to_numeric).to_numpy(dtype=float)
    hours = population @ demand_matrix(operating_model).to_numpy()

    deprivation = operating_model.demand.deprivation
    if deprivation is not None and "deprivation" in areas.columns:
        hours *= deprivation_multiplier(areas["deprivation"].to_numpy(dtype=float),
                                        deprivation)[:, None]

    for j, role in enumerate(roles):
        column = OVERRIDE_PREFIX + role
        if column in areas.columns:
            override = pd.to_numeric(areas[column], errors="coerce").to_numpy(dtype=float)
            given = ~np.isnan(override)
            hours[given, j] = override[given]

    return pd.DataFrame(hours, index=areas.index, columns=pd.Index(roles, name="role"))


def grow_population(areas: pd.DataFrame, multipliers: pd.DataFrame | None) -> pd.DataFrame:
    """Areas whose age-band populations are grown to a later year.

    Parameters
    ----------
    areas : DataFrame
        Index ``area_id``; one column per age band [people].
    multipliers : DataFrame or None
        Index ``area_id``, one column per age band: the band's population in the later year as
        a multiple of the areas' own [-] (``Inputs.growth``). ``None`` returns ``areas``.

    Returns
    -------
    DataFrame
        A copy of ``areas`` with each band column multiplied, area by area. Demand is linear
        in the bands (:func:`compute_demand`), so each area's hours grow by its bands' mix;
        ``population`` (the hub bands' headcount) and ``demand_override__<role>`` columns are
        left as they are.

    Examples
    --------
    >>> areas = pd.DataFrame({"young": [100.0, 50.0], "old": [10.0, 20.0]}, index=["A", "B"])
    >>> growth = pd.DataFrame({"young": [1.0, 1.0], "old": [1.5, 1.5]}, index=["A", "B"])
    >>> grow_population(areas, growth)["old"].tolist()
    [15.0, 30.0]
    """
    if multipliers is None:
        return areas
    grown = areas.copy()
    for band in multipliers.columns:
        grown[band] = areas[band].to_numpy(dtype=float) * multipliers[band].reindex(
            areas.index).to_numpy(dtype=float)
    return grown


def demand_summary(demand_hours: pd.DataFrame, operating_model: OperatingModel) -> pd.DataFrame:
    """Totals by role: hours, the FTE they imply, and what that FTE costs.

    Parameters
    ----------
    demand_hours : DataFrame
        Output of :func:`compute_demand` (areas x roles) [hours/year].
    operating_model : OperatingModel
        Gives each role's kind, productive hours and cost per FTE.

    Returns
    -------
    DataFrame
        Index ``role`` (operating-model order). Columns, in this order: ``kind``;
        ``demand_hours`` [hours/year]; ``fte`` = demand_hours / productive_hours_per_fte [FTE],
        unrounded (no hub minimums, FTE steps or supervision); ``cost_gbp`` = fte x
        cost_gbp_per_fte [GBP/year], at permanent (not agency) rates;
        ``productive_hours_per_fte`` [hours/FTE/year]; ``cost_gbp_per_fte`` [GBP/FTE/year].
    """
    rows = []
    for role in operating_model.roles:
        hours = float(demand_hours[role.id].sum()) if role.id in demand_hours.columns else 0.0
        fte = hours / role.productive_hours_per_fte
        rows.append({"role": role.id, "kind": role.kind, "demand_hours": hours, "fte": fte,
                     "cost_gbp": fte * role.cost_gbp_per_fte,
                     "productive_hours_per_fte": role.productive_hours_per_fte,
                     "cost_gbp_per_fte": role.cost_gbp_per_fte})
    return pd.DataFrame(rows).set_index("role")


def _role_vector(hours_by_role: dict[str, float], role_pos: dict[str, int]) -> np.ndarray:
    vector = np.zeros(len(role_pos))
    for role, hours in hours_by_role.items():
        vector[role_pos[role]] = hours
    return vector


def _check_areas(areas: pd.DataFrame, bands: list[str], roles: list[str]) -> None:
    """Gather every problem with the areas table that would make demand meaningless."""
    problems: list[Problem] = []
    for band in bands:
        if band not in areas.columns:
            problems.append(Problem(None, None, band, "population column for this age band is "
                                    "missing from the areas table",
                                    f"map '{band}' under areas.population in the scenario"))
            continue
        values = pd.to_numeric(areas[band], errors="coerce").to_numpy(dtype=float)
        bad = np.isnan(values) | (values < 0)
        if bad.any():
            first = [str(i) for i in areas.index[bad][:5]]
            problems.append(Problem(None, ", ".join(first), band,
                                    f"{int(bad.sum())} area(s) have a missing, non-numeric or "
                                    "negative population",
                                    "populations must be numbers >= 0"))
    known = set(roles)
    for column in areas.columns:
        if isinstance(column, str) and column.startswith(OVERRIDE_PREFIX):
            role = column[len(OVERRIDE_PREFIX):]
            if role not in known:
                problems.append(Problem(None, None, column,
                                        f"override names role '{role}', which the operating "
                                        "model does not have", f"roles are {roles}"))
                continue
            values = pd.to_numeric(areas[column], errors="coerce").to_numpy(dtype=float)
            unreadable = np.isnan(values) & areas[column].notna().to_numpy()
            if unreadable.any():
                first = [str(i) for i in areas.index[unreadable][:5]]
                problems.append(Problem(None, ", ".join(first), column,
                                        "demand override is not a number",
                                        "give hours/year, or leave empty for no override"))
            if (values < 0).any():
                first = [str(i) for i in areas.index[values < 0][:5]]
                problems.append(Problem(None, ", ".join(first), column,
                                        "demand override is negative",
                                        "give hours/year >= 0, or leave empty for no override"))
    if problems:
        raise InputError(problems)


def adjust_operating_model(operating_model: OperatingModel, *,
                           client_groups: dict[str, float] | None = None,
                           pathways: dict[str, float] | None = None,
                           where: str = "demand") -> OperatingModel:
    """A copy of ``operating_model`` with contact rates and pathway hours multiplied.

    Parameters
    ----------
    operating_model : OperatingModel
    client_groups : dict, optional
        Client group id -> multiplier on its ``rate_per_1000`` [-] (1 = unchanged).
    pathways : dict, optional
        Pathway id -> multiplier on its ``hours_per_contact`` [-]; a client group's own
        ``hours_per_contact`` can be named by the client group id in ``client_groups`` only.
    where : str
        The scenario key the multipliers came from, named in errors.

    Returns
    -------
    OperatingModel
        Unchanged when both dicts are empty or all multipliers are 1.

    Raises
    ------
    ScenarioError
        A key names no client group or pathway of the operating model.

    Examples
    --------
    >>> from mdtplan.operating_model import OperatingModel
    >>> om = OperatingModel.model_validate({
    ...     "name": "toy", "age_bands": ["all"],
    ...     "roles": [{"id": "sw", "name": "SW", "kind": "core",
    ...                "cost_gbp_per_fte": 50000, "productive_hours_per_fte": 1500}],
    ...     "demand": {"client_groups": [{"id": "assess", "rate_per_1000": {"all": 10},
    ...                                   "hours_per_contact": {"sw": 20}}]}})
    >>> adjust_operating_model(om, client_groups={"assess": 0.9}).demand.client_groups[0].rate_per_1000
    {'all': 9.0}
    """
    client_groups = {k: float(v) for k, v in (client_groups or {}).items() if float(v) != 1.0}
    pathways = {k: float(v) for k, v in (pathways or {}).items() if float(v) != 1.0}
    if not client_groups and not pathways:
        return operating_model
    groups = {g.id for g in operating_model.demand.client_groups}
    paths = {p.id for p in operating_model.demand.pathways}
    problems = [Problem(None, None, f"{where}.client_groups.{k}",
                        f"'{k}' is not a client group of operating model "
                        f"'{operating_model.name}'", f"client groups are {sorted(groups)}")
                for k in client_groups if k not in groups]
    problems += [Problem(None, None, f"{where}.pathways.{k}",
                         f"'{k}' is not a pathway of operating model '{operating_model.name}'",
                         f"pathways are {sorted(paths)}")
                 for k in pathways if k not in paths]
    if problems:
        raise ScenarioError(problems)
    new_groups = [g.model_copy(update={"rate_per_1000": {b: v * client_groups[g.id]
                                                         for b, v in g.rate_per_1000.items()}})
                  if g.id in client_groups else g
                  for g in operating_model.demand.client_groups]
    new_paths = [p.model_copy(update={"hours_per_contact": {r: v * pathways[p.id]
                                                            for r, v in p.hours_per_contact.items()}})
                 if p.id in pathways else p
                 for p in operating_model.demand.pathways]
    demand = operating_model.demand.model_copy(update={"client_groups": new_groups,
                                                       "pathways": new_paths})
    return operating_model.model_copy(update={"demand": demand})
