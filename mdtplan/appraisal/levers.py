"""The savings the model makes: each lever as the solved plan runs it.

The optimisation decided how many people of each lever's cohort every hub reaches
(``levers`` table of the plan, rule family ``lever_reach``) at the levers' most likely level.
This module turns that into money and words (``summary.json`` → ``finance.model_savings``):

================= ==================================================================================
``care_saving``   people reached x care spend avoided per person (:mod:`mdtplan.care`) [GBP/year]
``staff_cost``    hours the people need, each role's at its cost per productive hour
                  (``cost_gbp_per_fte / productive_hours_per_fte``) [GBP/year]; hours a lever frees
                  count as a saving
``saving``        ``care_saving - staff_cost``: the lever's saving made by the model [GBP/year]
low / high        the same plan at the lever's low and high level: each hub reaches the people it
                  reaches at the most likely level, or the low share of its catchment's cohort if
                  that is fewer, and each saves the level's amount (the plan is staffed for the
                  most likely case; a re-solve at another level is a Monte Carlo draw)
``held_back_by``  when the plan reaches fewer than the most likely share of the cohort of the
                  areas it serves: the rule at its limit, in words (the lever's hours cost more
                  than it saves; a role's hiring limit; the budget cap (the plan within one FTE
                  step of the lever's main role, plus the solve's gap, of it); under ``max_demand_met``
                  the hubs' own demand first; else the whole-FTE steps)
``review_hours``  the part of the hours that is reviews (``care.reviews``): the reviews the people's
                  changed long-term support needs less those it no longer needs [h/year]
``phasing``       share of the saving reached in years 1, 2, ...: the operating model's, else a
                  ``divert`` lever's build-up as the people it diverts would have left their
                  settings (``phasing_source``: ``typed``, ``derived`` or ``none``)
``one_more_fte``  for a held-back lever, what one more FTE of the role it needs most would let it
                  reach (``productive hours / hours per person``, at most the people still
                  unreached) and save a year
================= ==================================================================================

Nothing here solves: the figures are arithmetic on the plan's tables and the operating model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..care import LEVELS, care_spend, divert_phasing, flow_contacts, lever_table
from ..summary import Line
from ..summary.levers import LeverLine, ModelSavings

LEVELS_IN_WORDS = ("the plan's hubs and staff, sized at the most likely level; at low and high "
                   "each hub reaches the same people (fewer where the low share of its "
                   "catchment's cohort is below that), each saving that level's amount")


def model_savings(prepared, results) -> ModelSavings | None:
    """``finance.model_savings`` of a solved plan (None without levers or without a plan).

    Parameters
    ----------
    prepared : mdtplan.pipeline.Prepared
        The scenario's inputs, operating model and model data.
    results : mdtplan.results.Results
        The plan; its ``levers`` table says who each hub reaches.
    """
    data = prepared.data
    om = prepared.inputs.operating_model
    if data.levers is None or om is None or results.levers is None:
        return None
    contacts = flow_contacts(prepared.inputs.areas, om)
    contacts.index = contacts.index.astype(str)
    finance = prepared.scenario.finance
    table = lever_table(contacts, om, pins=dict(finance.lever_values) if finance else None)
    assign = results.assignment
    served = assign.assign(area_id=assign["area_id"].astype(str),
                           site_id=assign["site_id"].astype(str))
    reached = results.levers.assign(site_id=results.levers["site_id"].astype(str))
    roles = data.roles
    per_hour = (roles["cost_gbp_per_fte"].astype(float)
                / roles["productive_hours_per_fte"].astype(float))
    staffing = results.staffing
    summary = results.summary
    unmet = float(staffing["unmet_hours"].sum()) if len(staffing) else 0.0

    lines = []
    for lv in table.levers:
        k = lv.id
        cohort_area = table.cohort[k]
        catch = (served["area_id"].map(cohort_area).fillna(0.0) * served["share"]) \
            .groupby(served["site_id"]).sum()
        mine = reached[reached["lever_id"] == k].groupby("site_id")["people"].sum()
        people = float(mine.sum())
        share = table.share.loc[k]
        max_people = float(catch.sum()) * float(share["most_likely"])
        hours = table.hours.loc[k]
        staff_hours = {r: float(h) * people for r, h in hours.items() if h != 0}
        reviews = ({r: float(h) * people for r, h in table.review_hours.loc[k].items()
                    if h != 0} if table.review_hours is not None else {})
        phasing, phasing_source = lever_phasing(lv, om)
        staff_cost = float(sum(h * float(per_hour.get(r, 0.0)) for r, h in staff_hours.items()))
        per_person_staff = float(sum(float(h) * float(per_hour.get(r, 0.0))
                                     for r, h in hours.items()))
        care, saving = {}, {}
        for x in LEVELS:
            ppl = float(sum(min(float(p), float(share[x]) * float(catch.get(s, 0.0)))
                            for s, p in mine.items())) if x == "low" else people
            care[x] = ppl * float(table.saving_gbp.at[k, x])
            saving[x] = care[x] - ppl * per_person_staff
        held, unlock = None, None
        if people < max_people * (1 - 1e-6) - 1e-6:
            held, unlock = _held_back(lv, hours, per_person_staff,
                                      float(table.saving_gbp.at[k, "most_likely"]),
                                      max_people - people, data, staffing, summary, unmet)
        lines.append(LeverLine(
            id=k, name=lv.name, kind=lv.kind, cashable=bool(lv.cashable),
            cohort=float(catch.sum()), max_people=max_people, people=people,
            care_saving=care, staff_hours=staff_hours, staff_cost=staff_cost, saving=saving,
            held_back_by=held, one_more_fte=unlock, review_hours=reviews,
            phasing=phasing, phasing_source=phasing_source,
            by_hub=tuple({"site_id": str(s), "people": float(p)}
                         for s, p in mine.items() if p > 0)))

    def total(pred) -> dict:
        return {x: float(sum(ln.saving[x] for ln in lines if pred(ln))) for x in LEVELS}

    spend = care_spend(contacts, om)
    areas = served["area_id"].unique()
    spend_cols = [c for c in spend.columns if c.startswith("spend_gbp__")]
    care_total = float(spend.loc[spend.index.isin(areas), spend_cols].to_numpy().sum()) \
        if spend_cols else None
    return ModelSavings(
        total=total(lambda ln: True), cashable=total(lambda ln: ln.cashable),
        quality=total(lambda ln: not ln.cashable),
        care_saving={x: float(sum(ln.care_saving[x] for ln in lines)) for x in LEVELS},
        staff_cost=float(sum(ln.staff_cost for ln in lines)), care_spend=care_total,
        lines=tuple(lines), levels=LEVELS_IN_WORDS)


def lever_phasing(lever, operating_model) -> tuple[tuple, str]:
    """A lever's phasing and where it comes from: the operating model's (``typed``), else a
    ``divert`` lever's build-up (``derived``, :func:`mdtplan.care.divert_phasing`), else full
    from year 1 (``none``, an empty tuple)."""
    if lever.phasing:
        return tuple(float(x) for x in lever.phasing), "typed"
    derived = divert_phasing(lever, operating_model)
    return (derived, "derived") if derived else ((), "none")


def model_lines(savings: ModelSavings | None, operating_model) -> list[Line]:
    """The levers as lines of the savings table (``source: model``), with their
    ``already_in_plan`` and ``investment`` from the operating model and their phasing
    (:func:`lever_phasing`)."""
    if savings is None:
        return []
    spec = {lv.id: lv for lv in operating_model.levers}
    out = []
    for ln in savings.lines:
        lv = spec[ln.id]
        out.append(Line(name=ln.name, low=ln.saving["low"], high=ln.saving["high"],
                        most_likely=ln.saving["most_likely"], cashable=ln.cashable,
                        already_in_plan=float(lv.already_in_plan),
                        investment=float(lv.investment),
                        phasing=tuple(ln.phasing) or tuple(lv.phasing or ()),
                        source="model", id=ln.id))
    return out


def _held_back(lever, hours: pd.Series, per_person_staff: float, care_per_person: float,
               unreached: float, data, staffing: pd.DataFrame, summary, unmet: float):
    """The rule that holds a lever below its share, in words, and what one more FTE of the
    role it needs most would unlock."""
    roles = data.roles
    need = {r: float(h) for r, h in hours.items() if h > 0 and r in roles.index}
    net = care_per_person - per_person_staff
    top = max(need, key=lambda r: need[r] / float(roles.at[r, "productive_hours_per_fte"]),
              default=None)
    unlock = None
    if top is not None and net > 0:
        ppl = min(float(roles.at[top, "productive_hours_per_fte"]) / need[top], unreached)
        unlock = {"role": top, "people": ppl, "saving_gbp": ppl * net}
    if net <= 0:
        return (f"its staff cost more than it saves: £{per_person_staff:,.0f} of staff time "
                f"for £{care_per_person:,.0f} of care a person"), None
    fte = staffing.groupby("role")[["fte", "agency_fte"]].sum() if len(staffing) else None
    for r in sorted(need, key=lambda r: -need[r]):
        limit = data.supply_fte.get(r)
        if limit is None or fte is None or r not in fte.index:
            continue
        permanent = float(fte.at[r, "fte"] - fte.at[r, "agency_fte"])
        if permanent >= float(limit) - float(roles.at[r, "fte_step"]) + 1e-9:
            return (f"the hiring limit of {r} ({limit:g} permanent FTE, all employed)",
                    unlock)
    cap, cost = summary.costs.budget_cap_gbp, summary.costs.total_gbp
    if cap is not None and cost is not None and top is not None:
        step_cost = float(roles.at[top, "cost_gbp_per_fte"]) * float(roles.at[top, "fte_step"])
        gap = summary.report.mip_gap
        within = step_cost + (float(gap) * abs(cost) if gap is not None and gap > 0 else 0.0)
        if cost >= float(cap) - within:
            room = float(cap) - cost
            why = (f"the next {float(roles.at[top, 'fte_step']):g} FTE of {top} does not fit"
                   if room < step_cost else
                   f"£{room:,.0f} of room, within the solve's gap of the cap")
            return (f"the budget cap (£{float(cap):,.0f}; the plan costs £{cost:,.0f}: {why})",
                    unlock)
    if data.objective == "max_demand_met" and unmet > 1e-6:
        return ("the hubs' own demand comes first (max_demand_met): "
                f"{unmet:,.0f} hours of it are still unmet"), unlock
    return ("whole FTE steps: the next step of staff would cost more than the people it "
            "reaches save, or the solve stopped within its gap"), unlock


def lever_draws(scenario, operating_model) -> list[dict]:
    """The lever draws of ``finance.monte_carlo`` as scenario overrides, one per re-solve.

    Each of the first ``monte_carlo.solves`` draws samples every lever's ``share`` and care
    saving per person from its low / most likely / high (the distribution and seed of the
    section; a stream of its own, independent of the savings and demand draws), giving
    ``{"finance.lever_values.<id>.share": x, "finance.lever_values.<id>.saving_gbp_per_person":
    y, ...}``. Empty without levers or without a ``monte_carlo`` section.
    """
    from ..care import flow_hours
    from .finance import sample_range

    finance = scenario.finance
    if (finance is None or finance.monte_carlo is None or not finance.levers
            or operating_model is None or not operating_model.levers):
        return []
    mc = finance.monte_carlo
    rng = np.random.default_rng([mc.seed, 2])
    n = int(mc.solves)
    # care saving per person does not depend on the areas: one row of contacts will do
    contacts = pd.DataFrame(0.0, index=["_"], columns=list(flow_hours(operating_model).index))
    table = lever_table(contacts, operating_model)
    columns: dict = {}
    for lv in table.levers:
        for what, row in (("share", table.share.loc[lv.id]),
                          ("saving_gbp_per_person", table.saving_gbp.loc[lv.id])):
            lo, ml, hi = (float(row[x]) for x in LEVELS)
            lo, hi = min(lo, ml, hi), max(lo, ml, hi)
            columns[f"finance.lever_values.{lv.id}.{what}"] = sample_range(
                rng, lo, min(max(ml, lo), hi), hi, n, mc.distribution)
    return [{k: float(v[i]) for k, v in columns.items()} for i in range(n)]


__all__ = ["LEVELS_IN_WORDS", "lever_draws", "lever_phasing", "model_lines", "model_savings"]
