"""Care pathways and levers: what the demand's flows cost in care, and what a lever changes.

The operating model's demand (:mod:`mdtplan.demand`) is a set of *flows*: each client group's
contacts a year, and each pathway's share of them. Its ``care`` section says what the flows lead
to: the share of each flow's contacts that enter each long-term support setting (home care,
residential, nursing, supported living, direct payments), each setting's weekly cost and how
long people stay in it. Its ``levers`` are workstreams the model works out: each changes the
flows or the settings for a share of a cohort, which changes both the staff hours needed and the
care spend.

Formulas
--------
Contacts a year of flow ``f`` in area ``a`` (client group ``g``, or pathway ``p`` of groups)::

    n[a, g] = m[a] * sum_b pop[a, b] * rate[g, b] / 1000
    n[a, p] = sum_g n[a, g] * share[g, p]

with ``m[a]`` the deprivation multiplier, as for demand hours. A flow's staff hours per contact
``h[f, r]`` are the group's ``hours_per_contact`` (or its pathways' hours, share-weighted) or the
pathway's. Its *lifetime care cost* per contact [GBP] is::

    L[f] = sum_s out[f, s] * cost_week[s] * weeks[s]

and, by Little's law, the steady-state care spend a year of area ``a`` is
``sum_f n[a, f] * L[f]`` [GBP/year] (the people in setting ``s`` at any time,
``n * out * weeks / 52``, each cost ``52 * cost_week`` a year). The people in setting ``s``
(the *stock*) are ``sum_f n[a, f] * out[f, s] * weeks[s] / 52``.

Levers (per person reached; ``x`` = the level, low / most likely / high):

========= ====================== ==================================== =========================
kind      cohort of area ``a``   staff hours per person [h]           care saving per person
                                                                      [GBP/year, steady state]
========= ====================== ==================================== =========================
divert    ``n[a, from]`` a year  ``h[to] - h[from] + hours_per_person`` ``L[from] - L_x[to]``
move      stock of ``from``      ``hours_per_person``                 ``52 * (cost[from] -
                                                                      cost_x[to])``
resize    stock of ``setting``   ``hours_per_person``                 ``52 * cost * reduction_x``
========= ====================== ==================================== =========================

``L_x[to]`` uses the lever's ``outcomes`` at level ``x`` when given.

Reviews
-------
With ``care.reviews`` an entry flow's people are reviewed ``per_year`` times a year while they
are supported, each review taking the hours per contact of the review flow named there. One
contact of flow ``f`` with setting shares ``out`` then leads to review hours over its stay::

    R[f, r] = sum_s out[s] * weeks[s] / 52 * per_year[f] * h[review(f), r]

and a ``divert`` lever's staff hours per person gain ``R[to] - R[from]`` (the ``to`` flow's
review spec, or the ``from`` flow's when ``to`` has none; ``to`` at the most likely outcomes):
a lever that keeps people out of long-term support saves the reviews they would have had
(steady state, as the care saving). The demand's review rates are unchanged: they are today's.

Phasing
-------
A ``divert`` lever's saving builds up as the people it diverts would have left their settings.
With stays taken as exponential of mean ``weeks[s]`` (residential stays: median 17.9 months
against a mean of 26.3, ratio 0.68, the exponential's ln 2 = 0.69), the share of the
steady-state stock reached on average over year ``t`` is::

    phi[s, t] = 1 - d * (exp(-(t - 1) / d) - exp(-t / d)),   d = weeks[s] / 52

and the lever's phasing (:func:`divert_phasing`, used when the lever gives none) is its most
likely saving in year ``t`` over the steady state's: the care and review differences per
setting times ``phi[s, t]``, less the hours of ``to`` over ``from``, which start at once. A lever reaches at most
``share_x`` of its cohort; the optimisation decides how many people it reaches at each hub
(:mod:`mdtplan.model.families.lever_reach`), at the most likely level. For a ``divert`` the
saving a year is the steady state reached once the people diverted in earlier years would have
left their settings; the years to reach it are the lever's ``phasing``.

Nothing here knows about hubs or Pyomo.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .demand import deprivation_multiplier
from .operating_model import OperatingModel

LEVELS = ("low", "most_likely", "high")


@dataclass(frozen=True)
class LeverTable:
    """The levers of a scenario, worked out per person and per area.

    Attributes
    ----------
    levers : tuple of Lever
        As written (operating model or scenario).
    cohort : DataFrame
        Index ``area_id``, one column per lever id: people of the lever's cohort in the area
        [people/year for ``divert``, people for ``move`` and ``resize``].
    hours : DataFrame
        Index lever id, one column per role id: staff hours per person reached [h/person]
        (negative: hours the lever frees).
    saving_gbp : DataFrame
        Index lever id, columns ``low``, ``most_likely``, ``high``: care spend avoided per
        person reached [GBP/year].
    share : DataFrame
        Index lever id, columns as ``saving_gbp``: the most of the cohort the lever can reach
        [-].
    review_hours : DataFrame
        As ``hours``: the part of them that is reviews (``care.reviews``; a ``divert``
        lever's ``R[to] - R[from]``, zero otherwise) [h/person].
    """

    levers: tuple
    cohort: pd.DataFrame
    hours: pd.DataFrame
    saving_gbp: pd.DataFrame
    share: pd.DataFrame
    review_hours: pd.DataFrame | None = None

    @property
    def ids(self) -> list[str]:
        return [lv.id for lv in self.levers]


def flow_hours(operating_model: OperatingModel) -> pd.DataFrame:
    """Staff hours per contact of every flow (client groups, then pathways) [h/contact].

    Returns
    -------
    DataFrame
        Index flow id, one column per role id (the model's order).
    """
    roles = [r.id for r in operating_model.roles]
    paths = {p.id: p.hours_per_contact for p in operating_model.demand.pathways}
    rows = {}
    for g in operating_model.demand.client_groups:
        if g.hours_per_contact is not None:
            rows[g.id] = {r: g.hours_per_contact.get(r, 0.0) for r in roles}
        else:
            rows[g.id] = {r: sum(share * paths[p].get(r, 0.0)
                                 for p, share in (g.pathways or {}).items()) for r in roles}
    for p, hours in paths.items():
        rows[p] = {r: hours.get(r, 0.0) for r in roles}
    return pd.DataFrame.from_dict(rows, orient="index", columns=roles).astype(float)


def flow_contacts(areas: pd.DataFrame, operating_model: OperatingModel) -> pd.DataFrame:
    """Contacts a year of every flow in every area [contacts/year].

    Parameters
    ----------
    areas : DataFrame
        As :func:`mdtplan.demand.compute_demand` reads it (a column per age band; optional
        ``deprivation``).
    operating_model : OperatingModel

    Returns
    -------
    DataFrame
        Index ``areas.index``; one column per client group, then per pathway.

    Examples
    --------
    >>> from mdtplan.operating_model import OperatingModel
    >>> om = OperatingModel.model_validate({
    ...     "name": "toy", "age_bands": ["old"],
    ...     "roles": [{"id": "sw", "name": "SW", "kind": "core", "cost_gbp_per_fte": 50000,
    ...                "productive_hours_per_fte": 1500}],
    ...     "demand": {"pathways": [{"id": "c1", "hours_per_contact": {"sw": 1}},
    ...                             {"id": "c3", "hours_per_contact": {"sw": 20}}],
    ...                "client_groups": [{"id": "requests", "rate_per_1000": {"old": 100},
    ...                                   "pathways": {"c1": 0.7, "c3": 0.3}}]}})
    >>> flow_contacts(pd.DataFrame({"old": [1000.0]}, index=["A"]), om).round(6).iloc[0].tolist()
    [100.0, 70.0, 30.0]
    """
    bands = list(operating_model.age_bands)
    pop = areas[bands].apply(pd.to_numeric).to_numpy(dtype=float)
    groups = operating_model.demand.client_groups
    rates = np.array([[g.rate_per_1000.get(b, 0.0) for g in groups] for b in bands]) / 1000.0
    contacts = pop @ rates if len(groups) else np.zeros((len(areas), 0))
    dep = operating_model.demand.deprivation
    if dep is not None and "deprivation" in areas.columns:
        contacts = contacts * deprivation_multiplier(
            areas["deprivation"].to_numpy(dtype=float), dep)[:, None]
    out = pd.DataFrame(contacts, index=areas.index, columns=[g.id for g in groups])
    for p in operating_model.demand.pathways:
        out[p.id] = sum((out[g.id] * (g.pathways or {}).get(p.id, 0.0) for g in groups),
                        start=pd.Series(0.0, index=areas.index))
    return out


def lifetime_cost_gbp(shares: dict, operating_model: OperatingModel) -> float:
    """Care spend one contact with these setting ``shares`` leads to, over its stay [GBP]:
    ``sum_s share[s] * cost_gbp_per_week[s] * duration_weeks[s]``."""
    care = operating_model.care
    return float(sum(v * care.setting(s).cost_gbp_per_week * care.setting(s).duration_weeks
                     for s, v in shares.items()))


def care_spend(contacts: pd.DataFrame, operating_model: OperatingModel) -> pd.DataFrame:
    """Steady-state care spend a year of each area by setting [GBP/year], and the people in
    each setting.

    Returns
    -------
    DataFrame
        Index area id; columns ``spend_gbp__<setting>`` [GBP/year] and ``people__<setting>``
        [people], one pair per setting. Empty (no columns) without a ``care`` section.
    """
    care = operating_model.care
    out = pd.DataFrame(index=contacts.index)
    if care is None:
        return out
    for s in care.settings:
        entrants = sum((contacts[f] * shares.get(s.id, 0.0)
                        for f, shares in care.outcomes.items() if f in contacts.columns),
                       start=pd.Series(0.0, index=contacts.index))
        out[f"spend_gbp__{s.id}"] = entrants * s.cost_gbp_per_week * s.duration_weeks
        out[f"people__{s.id}"] = entrants * s.duration_weeks / 52.0
    return out


def review_hours(shares: dict, entry_flow: str, operating_model: OperatingModel,
                 hours: pd.DataFrame | None = None) -> pd.Series:
    """Staff hours of the reviews one contact of ``entry_flow`` leads to over its stay, per
    role [h/contact] (module docstring, "Reviews"): zero without a ``care.reviews`` entry.

    Parameters
    ----------
    shares : dict
        Setting id -> share of the flow's contacts entering it [-].
    entry_flow : str
        The flow whose ``care.reviews`` entry applies.
    hours : DataFrame, optional
        :func:`flow_hours` (computed when omitted).
    """
    fh = flow_hours(operating_model) if hours is None else hours
    care = operating_model.care
    spec = care.reviews.get(entry_flow) if care is not None else None
    if spec is None:
        return pd.Series(0.0, index=fh.columns)
    years = sum(v * care.setting(s).duration_weeks / 52.0 for s, v in shares.items())
    return fh.loc[spec.flow] * (years * spec.per_year)


def stock_build(duration_weeks: float, year: int) -> float:
    """Share of a setting's steady-state stock reached on average over ``year`` (1-based) when
    entrants start at time 0 and stays are exponential of mean ``duration_weeks`` [-]."""
    d = float(duration_weeks) / 52.0
    return float(1.0 - d * (np.exp(-(year - 1) / d) - np.exp(-year / d)))


def _divert_parts(lever, operating_model: OperatingModel, hours: pd.DataFrame):
    """The ``to`` flow's outcomes (most likely), the reviews' entry flows, and the review hour
    differences of a ``divert`` lever: ``(to_shares, from_entry, to_entry, R[to] - R[from])``."""
    care = operating_model.care
    f, t = lever.divert.from_flow, lever.divert.to_flow
    to_shares = (lever.outcomes or {}).get("most_likely", care.outcomes.get(t, {}))
    to_entry = t if t in care.reviews else f
    diff = (review_hours(to_shares, to_entry, operating_model, hours)
            - review_hours(care.outcomes.get(f, {}), f, operating_model, hours))
    return to_shares, f, to_entry, diff


def divert_phasing(lever, operating_model: OperatingModel, *, max_years: int = 60,
                   tol: float = 0.005) -> tuple[float, ...] | None:
    """The share of a ``divert`` lever's most likely steady-state saving reached in years
    1, 2, ... (module docstring, "Phasing"); ends with 1.0 once every setting's stock is
    within ``tol`` of its steady state (the last share holds after).

    Returns None for other kinds of lever, and when the lever saves nothing at steady state
    (there is nothing to phase).
    """
    if lever.divert is None or operating_model.care is None:
        return None
    care = operating_model.care
    fh = flow_hours(operating_model)
    roles = {r.id: r.cost_gbp_per_fte / r.productive_hours_per_fte
             for r in operating_model.roles}
    per_hour = pd.Series(roles).reindex(fh.columns).fillna(0.0)
    f, t = lever.divert.from_flow, lever.divert.to_flow
    to_shares, from_entry, to_entry, _ = _divert_parts(lever, operating_model, fh)
    extra = pd.Series({r: float(lever.hours_per_person.get(r, 0.0)) for r in fh.columns})
    direct = float(((fh.loc[t] - fh.loc[f] + extra) * per_hour).sum())

    def review_cost(entry: str) -> float:
        spec = care.reviews.get(entry)
        return 0.0 if spec is None else float(spec.per_year * (fh.loc[spec.flow]
                                                               * per_hour).sum())
    from_shares = care.outcomes.get(f, {})
    parts = {}
    for s in care.settings:
        a, b = float(from_shares.get(s.id, 0.0)), float(to_shares.get(s.id, 0.0))
        if a == b == 0.0:
            continue
        years = s.duration_weeks / 52.0
        parts[s.id] = ((a - b) * s.cost_gbp_per_week * s.duration_weeks
                       - (b * review_cost(to_entry) - a * review_cost(from_entry)) * years)
    steady = sum(parts.values()) - direct
    if steady <= 0:
        return None
    shares = []
    for year in range(1, max_years + 1):
        phi = {k: stock_build(care.setting(k).duration_weeks, year) for k in parts}
        shares.append(max(0.0, (sum(v * phi[k] for k, v in parts.items()) - direct) / steady))
        if all(p >= 1.0 - tol for p in phi.values()):
            break
    return tuple(shares) + (1.0,)


def pathway_table(contacts: pd.DataFrame, operating_model: OperatingModel) -> pd.DataFrame:
    """Each flow with outcomes, summed over the areas: what its contacts lead to at steady
    state (what ``mdtplan validate`` prints).

    Returns
    -------
    DataFrame
        Index flow id (the order of ``care.outcomes``); columns ``contacts`` [contacts/year],
        ``entrants`` (into long-term support) [people/year], ``people`` (supported at any time)
        [people], ``spend_gbp`` [GBP/year], ``review_hours`` (``care.reviews``) [h/year].
        Empty without a ``care`` section.
    """
    care = operating_model.care
    cols = ["contacts", "entrants", "people", "spend_gbp", "review_hours"]
    if care is None:
        return pd.DataFrame(columns=cols, dtype=float)
    fh = flow_hours(operating_model)
    rows = {}
    for f, shares in care.outcomes.items():
        if f not in contacts.columns:
            continue
        n = float(contacts[f].sum())
        weeks = {s: care.setting(s).duration_weeks for s in shares}
        rows[f] = {"contacts": n, "entrants": n * sum(shares.values()),
                   "people": n * sum(v * weeks[s] / 52.0 for s, v in shares.items()),
                   "spend_gbp": n * sum(v * weeks[s] * care.setting(s).cost_gbp_per_week
                                        for s, v in shares.items()),
                   "review_hours": n * float(review_hours(shares, f, operating_model,
                                                          fh).sum())}
    return pd.DataFrame.from_dict(rows, orient="index", columns=cols).astype(float)


def _stock(contacts, operating_model, setting: str, flows) -> pd.Series:
    care = operating_model.care
    weeks = care.setting(setting).duration_weeks
    chosen = care.outcomes if flows is None else {f: care.outcomes.get(f, {}) for f in flows}
    return sum((contacts[f] * shares.get(setting, 0.0) * weeks / 52.0
                for f, shares in chosen.items() if f in contacts.columns),
               start=pd.Series(0.0, index=contacts.index))


def lever_table(contacts: pd.DataFrame, operating_model: OperatingModel,
                levers=None, pins: dict | None = None) -> LeverTable | None:
    """Each lever's cohort per area, staff hours and care saving per person (module docstring).

    Parameters
    ----------
    contacts : DataFrame
        :func:`flow_contacts`.
    operating_model : OperatingModel
    levers : list of Lever, optional
        Default: the operating model's.
    pins : dict, optional
        Lever id -> an object with ``share`` and ``saving_gbp_per_person`` (either None):
        the most likely values a scenario fixes (``finance.lever_values``).

    Returns
    -------
    LeverTable or None
        None when there are no levers.
    """
    levers = list(operating_model.levers if levers is None else levers)
    if not levers:
        return None
    care = operating_model.care
    fh = flow_hours(operating_model)
    roles = list(fh.columns)
    cohort, hours, saving, share, reviews = {}, {}, {}, {}, {}
    for lv in levers:
        extra = pd.Series({r: float(lv.hours_per_person.get(r, 0.0)) for r in roles})
        if lv.divert is not None:
            f, t = lv.divert.from_flow, lv.divert.to_flow
            cohort[lv.id] = contacts[f]
            reviews[lv.id] = _divert_parts(lv, operating_model, fh)[3]
            hours[lv.id] = fh.loc[t] - fh.loc[f] + extra + reviews[lv.id]
            l_from = lifetime_cost_gbp(care.outcomes.get(f, {}), operating_model)
            saving[lv.id] = {
                x: l_from - lifetime_cost_gbp((lv.outcomes or {}).get(x, care.outcomes.get(t, {})),
                                              operating_model)
                for x in LEVELS}
        elif lv.move is not None:
            mv = lv.move
            cohort[lv.id] = _stock(contacts, operating_model, mv.from_setting, mv.flows)
            hours[lv.id] = extra
            c_from = care.setting(mv.from_setting).cost_gbp_per_week
            c_to = care.setting(mv.to_setting).cost_gbp_per_week
            saving[lv.id] = {x: 52.0 * (c_from - (mv.to_cost_gbp_per_week.level(x)
                                                  if mv.to_cost_gbp_per_week else c_to))
                             for x in LEVELS}
        else:
            rs = lv.resize
            cohort[lv.id] = _stock(contacts, operating_model, rs.setting, rs.flows)
            hours[lv.id] = extra
            weekly = care.setting(rs.setting).cost_gbp_per_week
            saving[lv.id] = {x: 52.0 * weekly * rs.reduction.level(x) for x in LEVELS}
        share[lv.id] = {x: lv.share.level(x) for x in LEVELS}
        pin = (pins or {}).get(lv.id)
        if pin is not None and pin.share is not None:
            share[lv.id]["most_likely"] = float(pin.share)
        if pin is not None and pin.saving_gbp_per_person is not None:
            saving[lv.id]["most_likely"] = float(pin.saving_gbp_per_person)
    ids = [lv.id for lv in levers]
    return LeverTable(
        levers=tuple(levers),
        cohort=pd.DataFrame(cohort, index=contacts.index)[ids].astype(float),
        hours=pd.DataFrame(hours).T.reindex(index=ids, columns=roles).astype(float),
        saving_gbp=pd.DataFrame.from_dict(saving, orient="index")[list(LEVELS)].astype(float),
        share=pd.DataFrame.from_dict(share, orient="index")[list(LEVELS)].astype(float),
        review_hours=pd.DataFrame(reviews).T.reindex(index=ids, columns=roles)
        .fillna(0.0).astype(float))
