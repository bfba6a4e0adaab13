"""Finance: savings workstreams with ranges, investment tests, Monte Carlo, plan vs baseline.

Everything here is arithmetic on the scenario's ``finance`` section, the operating model's
workstreams and solved summaries; nothing solves or touches Pyomo (the baseline is evaluated by
:mod:`mdtplan.appraisal.baseline`, demand-changing Monte Carlo draws are solved by
:mod:`mdtplan.appraisal.montecarlo`).

The savings table (``summary.json``'s ``finance`` block, CONTRACT §5)
---------------------------------------------------------------------
======================= =============================================================================
``lines``               each workstream: ``low``, ``most_likely`` (default mid-range), ``high``
                        [GBP/year], ``cashable``, ``already_in_plan`` [GBP/year], ``investment``
                        [GBP, one-off], ``phasing`` (share of the full saving reached in years
                        1, 2, ...; the last share holds after; default full from year 1)
``totals.total``        sum of all lines, low / most likely / high [GBP/year]
``totals.cashable``     sum of the cashable lines; ``totals.quality`` the non-cashable ones
``already_in_plan``     ``finance.already_in_plan`` plus each line's ``already_in_plan`` [GBP/year]:
                        savings the medium-term financial plan already counts
``totals.cashable_net`` cashable less already in plan
``totals.overall``      total less already in plan
``investment``          ``finance.investment`` plus each line's investment [GBP, one-off]
``investment_phasing``  share of the investment spent in years 1, 2, ... (default ``[1.0]``)
``net_of_investment``   the ratio basis (``finance.ratio_basis``: ``cashable_net`` (default),
                        ``total_net`` = overall, or ``total``) less the investment: one full
                        year's saving net of the one-off cost [GBP]
``benefit_to_investment`` basis / investment [-]; ``passes`` = ratio >= ``required_ratio``
``ratio_readings``      the same test on each of the three bases, the chosen one marked
``fee_clause``          with ``finance.fee_clause``: ``fee``, ``required_ratio``, ``basis``;
``fee_after_reduction`` ``min(fee, benefit / required_ratio)`` per level [GBP]
``discount_rate``       [1/year], HM Treasury Green Book 3.5% by default
``npv``                 net present value of the phased basis less the phased investment [GBP]
``payback_year``        first year from which the cumulative phased basis covers the investment
                        spent so far in every later year (``None`` if not within
                        ``finance.years``; 0 without an investment)
``by_year``             per year: phased basis, investment spent, cumulative figures, net
                        position (cumulative savings less cumulative investment), discount
                        factor and present value, low / likely / high
``labels``,             each figure's plain label and one sentence saying what it is
``definitions``         (:data:`mdtplan.summary.TERMS`)
======================= =============================================================================

Savings net of the plan already in the budget are scaled line by line for phasing: a line's
``already_in_plan`` is subtracted from its own saving in every year; the section-level
``already_in_plan`` is spread over cashable lines in proportion to their most-likely value.

The results are typed blocks of the summary (:mod:`mdtplan.summary.finance`):
:func:`savings_table` gives a :class:`~mdtplan.summary.FinanceAppraisal`,
:func:`monte_carlo_savings` its :class:`~mdtplan.summary.MonteCarlo` and :func:`plan_savings`
the :class:`~mdtplan.summary.PlanSavings`; :class:`~mdtplan.summary.Line` (a workstream) is
importable from here too.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ..errors import Problem, ScenarioError
from ..summary import (
    BASIS_LABELS,
    LEVELS,
    TERMS,
    BaselineSummary,
    FeeClauseResult,
    FinanceAppraisal,
    Line,
    LinePercentiles,
    MonteCarlo,
    Percentiles,
    PlanSavings,
    Range,
    RatioReading,
    Saving,
    SavingsPercentiles,
    SavingsTotals,
    SideBySide,
    Summary,
    YearRow,
    jsonable,
)

__all__ = ["BASES", "LEVELS", "PERCENTILES", "Line", "demand_draws", "discount_factor",
           "fee_after_reduction", "monte_carlo_savings",
           "percentiles", "plan_savings", "sample_range", "savings_table", "workstream_lines",
           "workstream_demand_multipliers"]


def workstream_lines(scenario, operating_model=None) -> list[Line]:
    """The workstreams of a scenario: ``finance.workstreams`` when given, else the model's.

    Parameters
    ----------
    scenario : Scenario
    operating_model : OperatingModel, optional

    Returns
    -------
    list of Line
        Empty when neither names any.
    """
    finance = scenario.finance
    source = None
    if finance is not None and finance.workstreams is not None:
        source = finance.workstreams
    elif operating_model is not None:
        source = operating_model.workstreams
    lines = []
    for w in source or []:
        ml = w.most_likely if w.most_likely is not None else (w.low + w.high) / 2.0
        lines.append(Line(name=w.name, low=float(w.low), high=float(w.high),
                          most_likely=float(ml), cashable=bool(w.cashable),
                          already_in_plan=float(w.already_in_plan),
                          investment=float(w.investment),
                          phasing=tuple(w.phasing or ()),
                          demand_change=dict(w.demand_change) if w.demand_change else None))
    return lines


def workstream_demand_multipliers(scenario, operating_model) -> tuple[dict, dict]:
    """Demand multipliers implied by the workstreams' ``demand_change``.

    Each ``demand_change`` maps a client group or pathway id of the operating model to a
    fractional change in its contacts (``-0.1``: 10% fewer). Changes from several workstreams
    multiply.

    Returns
    -------
    (dict, dict)
        Client group id -> multiplier, pathway id -> multiplier [-].

    Raises
    ------
    ScenarioError
        An id that is neither a client group nor a pathway, or a change below -100%.
    """
    if scenario.finance is None or operating_model is None:
        return {}, {}
    groups = {g.id for g in operating_model.demand.client_groups}
    paths = {p.id for p in operating_model.demand.pathways}
    out_groups: dict[str, float] = {}
    out_paths: dict[str, float] = {}
    problems = []
    from_scenario = scenario.finance.workstreams is not None
    where = "finance.workstreams" if from_scenario else f"{operating_model.name}: workstreams"
    for i, line in enumerate(workstream_lines(scenario, operating_model)):
        for key, change in (line.demand_change or {}).items():
            column = f"{where}[{i}].demand_change.{key}"
            if change < -1.0:
                problems.append(Problem(None, line.name, column,
                                        f"change {change:g} is below -1 (-100%)",
                                        "give a fractional change, e.g. -0.1 for 10% fewer"))
            elif key in groups:
                out_groups[key] = out_groups.get(key, 1.0) * (1.0 + change)
            elif key in paths:
                out_paths[key] = out_paths.get(key, 1.0) * (1.0 + change)
            else:
                problems.append(Problem(None, line.name, column,
                                        f"'{key}' is neither a client group nor a pathway of "
                                        f"operating model '{operating_model.name}'",
                                        f"client groups: {sorted(groups)}; pathways: "
                                        f"{sorted(paths)}"))
    if problems:
        raise ScenarioError(problems)
    return out_groups, out_paths


def _plan_share(lines: list[Line], extra_in_plan: float) -> list[float]:
    """Each line's share of the section-level ``already_in_plan`` (cashable lines, by likely)."""
    weights = [ln.most_likely if ln.cashable else 0.0 for ln in lines]
    total = sum(weights)
    if extra_in_plan <= 0 or total <= 0:
        return [0.0] * len(lines)
    return [extra_in_plan * w / total for w in weights]


BASES = ("cashable_net", "total_net", "total")


def _basis(totals: dict, basis: str, level: str) -> float:
    key = {"cashable_net": "cashable_net", "total_net": "overall", "total": "total"}[basis]
    return float(totals[key][level])


def discount_factor(year: int, rate: float, year_one: int = 1) -> float:
    """The factor a year's flows are discounted by [-].

    Parameters
    ----------
    year : int
        1, 2, ... (year 1 is the first year of the plan).
    rate : float
        Discount rate [1/year]; the HM Treasury Green Book's is 0.035.
    year_one : {1, 0}
        The discount period ``t`` of year 1: ``t = year - 1 + year_one``.

    Returns
    -------
    float
        ``1 / (1 + rate) ** t``.

    Examples
    --------
    >>> round(discount_factor(2, 0.035), 6)   # 1 / 1.035 ** 2
    0.933511
    >>> discount_factor(1, 0.035, year_one=0)
    1.0
    """
    return 1.0 / (1.0 + rate) ** (year - 1 + year_one)


def fee_after_reduction(fee: float, benefit: float, required_ratio: float) -> float:
    """The fee after a clause reducing it until the benefit is ``required_ratio`` times it.

    Parameters
    ----------
    fee : float
        The one-off fee [GBP].
    benefit : float
        The recurrent annual benefit the clause counts [GBP/year].
    required_ratio : float
        [-], > 0.

    Returns
    -------
    float
        ``min(fee, max(benefit, 0) / required_ratio)`` [GBP].

    Examples
    --------
    >>> fee_after_reduction(4.5e6, 6.54e6, 1.5)   # 6.54m / 1.5 = 4.36m < 4.5m
    4360000.0
    >>> fee_after_reduction(4.5e6, 10.45e6, 1.5)  # the benefit clears 1.5x: no reduction
    4500000.0
    """
    return float(min(fee, max(benefit, 0.0) / required_ratio))


def savings_table(scenario, operating_model=None, model_lines=()) -> FinanceAppraisal | None:
    """The finance block of ``summary.json`` (see the module docstring), without its Monte
    Carlo.

    ``model_lines`` are the levers the model worked out
    (:func:`mdtplan.appraisal.levers.model_lines`), listed before the typed workstreams and
    counted in every total like them.

    Returns ``None`` when the scenario has no ``finance`` section.

    Notes
    -----
    Years: year ``y`` (1, 2, ..., ``finance.years``) counts each line's phased saving on the
    ratio basis and the investment spent that year (``finance.investment_phasing``). The net
    present value is ``sum_y (saving_y - investment_y) / (1 + r) ** t_y`` with
    ``t_y = y`` (year 1 is discounted once: ``finance.discount_year_one: 1``, the default) or
    ``t_y = y - 1`` (``discount_year_one: 0``), at ``r = finance.discount_rate`` (HM Treasury
    Green Book, 3.5% by default).

    Examples
    --------
    >>> from mdtplan.scenario import FinanceConfig
    >>> class S:  # a scenario stand-in with just a finance section
    ...     finance = FinanceConfig.model_validate({
    ...         "investment": 4e6, "required_ratio": 1.5,
    ...         "workstreams": [{"name": "A", "low": 9.8e6, "high": 9.8e6}]})
    >>> t = savings_table(S())
    >>> t.net_of_investment.most_likely, t.passes.low
    (5800000.0, True)
    """
    finance = scenario.finance
    if finance is None:
        return None
    lines = [*model_lines, *workstream_lines(scenario, operating_model)]
    extra = float(finance.already_in_plan)
    in_plan = sum(ln.already_in_plan for ln in lines) + extra
    investment = float(finance.investment) + sum(ln.investment for ln in lines)

    def total(pred) -> dict:
        return {lv: float(sum(ln.value(lv) for ln in lines if pred(ln))) for lv in LEVELS}

    totals = {"total": total(lambda ln: True),
              "cashable": total(lambda ln: ln.cashable),
              "quality": total(lambda ln: not ln.cashable)}
    totals["cashable_net"] = {lv: totals["cashable"][lv] - in_plan for lv in LEVELS}
    totals["overall"] = {lv: totals["total"][lv] - in_plan for lv in LEVELS}

    required = finance.required_ratio
    readings = {}
    for b in BASES:
        benefit = {lv: _basis(totals, b, lv) for lv in LEVELS}
        ratio = {lv: (benefit[lv] / investment if investment > 0 else None) for lv in LEVELS}
        passes = {lv: (None if required is None or ratio[lv] is None
                       else bool(ratio[lv] >= required)) for lv in LEVELS}
        readings[b] = RatioReading(basis=b, label=BASIS_LABELS[b], benefit=Range(**benefit),
                                   ratio=Range(**ratio), passes=Range(**passes),
                                   chosen=b == finance.ratio_basis)
    basis = finance.ratio_basis
    chosen = readings[basis]
    net = {lv: chosen.benefit.value(lv) - investment for lv in LEVELS}

    clause, fee_after = None, None
    if finance.fee_clause is not None:
        fc = finance.fee_clause
        clause = FeeClauseResult(
            fee=float(investment if fc.fee is None else fc.fee),
            required_ratio=float(fc.required_ratio if fc.required_ratio is not None
                                 else required),
            basis=fc.basis or basis)
        benefit = readings[clause.basis].benefit
        fee_after = Range(*(fee_after_reduction(clause.fee, benefit.value(lv),
                                                clause.required_ratio) for lv in LEVELS))

    phasing = tuple(finance.investment_phasing or (1.0,))
    by_year, payback, npv = _by_year(lines, finance, basis, investment, extra, phasing)
    keys = [k for k in TERMS if (k != "cost_against_today" or finance.baseline is not None)
            and (k != "fee_after_reduction" or clause is not None)]
    return FinanceAppraisal(
        lines=tuple(lines),
        totals=SavingsTotals(**{k: Range(**v) for k, v in totals.items()}),
        already_in_plan=in_plan,
        investment=investment,
        ratio_basis=basis,
        annual_basis=chosen.benefit,
        net_of_investment=Range(**net),
        benefit_to_investment=chosen.ratio,
        required_ratio=required,
        passes=chosen.passes,
        years=int(finance.years),
        payback_year=Range(**payback),
        by_year=by_year,
        investment_phasing=phasing,
        discount_rate=float(finance.discount_rate),
        discount_year_one=int(finance.discount_year_one),
        npv=Range(**npv),
        ratio_readings=tuple(readings[b] for b in BASES),
        fee_clause=clause,
        fee_after_reduction=fee_after,
        labels={k: TERMS[k][0] for k in keys},
        definitions={k: TERMS[k][1] for k in keys},
    )


def _line_basis(lines: list[Line], basis: str, extra: float) -> list[tuple[Line, float]]:
    """(line, already-in-plan deducted from it) for the lines the basis counts."""
    shares = _plan_share(lines, extra)
    out = []
    for ln, share in zip(lines, shares, strict=True):
        if basis == "cashable_net" and not ln.cashable:
            continue
        deduct = 0.0 if basis == "total" else ln.already_in_plan + share
        out.append((ln, deduct))
    return out


def _by_year(lines, finance, basis, investment, extra, phasing):
    """The year rows, the payback year and the net present value at each level.

    The payback year is the first year from which the cumulative net position (savings less
    the investment spent so far) is at least 0 in every later year appraised, once some
    investment has been spent; 0 without an investment, ``None`` if not within the years.
    """
    counted = _line_basis(lines, basis, extra)
    years = int(finance.years)
    rate, year_one = float(finance.discount_rate), int(finance.discount_year_one)
    rows = []
    cumulative = {lv: 0.0 for lv in LEVELS}
    spent = 0.0
    npv = {lv: 0.0 for lv in LEVELS}
    for year in range(1, years + 1):
        invest = investment * (phasing[year - 1] if year <= len(phasing) else 0.0)
        spent += invest
        factor = discount_factor(year, rate, year_one)
        saving, total, net, pv = {}, {}, {}, {}
        for lv in LEVELS:
            saving[lv] = sum((ln.value(lv) - deduct) * ln.phase(year) for ln, deduct in counted)
            cumulative[lv] += saving[lv]
            total[lv] = cumulative[lv]
            net[lv] = cumulative[lv] - spent
            pv[lv] = (saving[lv] - invest) * factor
            npv[lv] += pv[lv]
        rows.append(YearRow(year=year, saving=Range(**saving), cumulative=Range(**total),
                            net=Range(**net), investment=invest, cumulative_investment=spent,
                            discount_factor=factor, present_value=Range(**pv)))
    payback = {lv: _payback(rows, lv) if investment > 0 else 0 for lv in LEVELS}
    return tuple(rows), payback, npv


def _payback(rows, level: str) -> int | None:
    """First year whose net position, and every later one's, is >= 0 with investment spent."""
    found = None
    for row in reversed(rows):
        if row.net.value(level) < 0:
            break
        if row.cumulative_investment > 0:
            found = row.year
    return found


# --------------------------------------------------------------------------------------------
# Monte Carlo


def sample_range(rng: np.random.Generator, low: float, mode: float, high: float, size: int,
                 distribution: str = "pert") -> np.ndarray:
    """Draws from a three-point estimate.

    Parameters
    ----------
    rng : numpy.random.Generator
    low, mode, high : float
        ``low <= mode <= high``.
    size : int
    distribution : {"pert", "triangular"}
        PERT: ``low + (high - low) * Beta(1 + 4 m, 1 + 4 (1 - m))`` with
        ``m = (mode - low) / (high - low)`` (mean ``(low + 4 mode + high) / 6``); triangular:
        :meth:`numpy.random.Generator.triangular`.

    Returns
    -------
    ndarray
        ``size`` draws in ``[low, high]``; all equal to ``low`` when ``low == high``.

    Examples
    --------
    >>> x = sample_range(np.random.default_rng(1), 1.0, 2.0, 4.0, 20000)
    >>> bool(x.min() >= 1.0 and x.max() <= 4.0), round(float(x.mean()), 1)
    (True, 2.2)
    """
    if not (low <= mode <= high):
        raise ValueError(f"need low <= mode <= high, got {low}, {mode}, {high}")
    if high == low:
        return np.full(size, float(low))
    if distribution == "triangular":
        return rng.triangular(low, mode, high, size)
    m = (mode - low) / (high - low)
    return low + (high - low) * rng.beta(1.0 + 4.0 * m, 1.0 + 4.0 * (1.0 - m), size)


PERCENTILES = (10, 50, 90)


def percentiles(values: Iterable[float]) -> Percentiles:
    """P10 / P50 / P90 and the mean of the finite ``values`` (``None`` for an empty set)."""
    arr = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if arr.size == 0:
        return Percentiles(p10=None, p50=None, p90=None, mean=None, n=0)
    p = np.percentile(arr, PERCENTILES)
    return Percentiles(p10=float(p[0]), p50=float(p[1]), p90=float(p[2]),
                       mean=float(arr.mean()), n=int(arr.size))


def monte_carlo_savings(scenario, operating_model=None, model_lines=()) -> MonteCarlo | None:
    """Monte Carlo over the workstream ranges (no solve): percentiles of the savings table.

    ``model_lines`` (the levers the model worked out) are drawn between the plan's low and
    high like the typed lines; their re-solved draws are
    :func:`mdtplan.appraisal.montecarlo.solve_demand_draws`'.

    Each draw samples every line independently from its (low, most likely, high) range with
    ``finance.monte_carlo``'s distribution and seed, then recomputes the totals exactly as
    :func:`savings_table` does. Returns ``None`` without ``finance.monte_carlo``.

    Returns
    -------
    MonteCarlo
        ``draws``, ``seed``, ``distribution``; ``percentiles`` of ``total``, ``cashable``,
        ``quality``, ``cashable_net``, ``overall``, ``net_of_investment`` [GBP] and
        ``benefit_to_investment`` [-]; ``probability_passes`` (share of draws meeting the
        required ratio, when one is set); ``lines``: each line's percentiles. No ``demand``:
        the re-solves add it (:func:`mdtplan.appraisal.montecarlo.solve_demand_draws`).
    """
    finance = scenario.finance
    if finance is None or finance.monte_carlo is None:
        return None
    mc = finance.monte_carlo
    lines = [*model_lines, *workstream_lines(scenario, operating_model)]
    rng = np.random.default_rng(mc.seed)
    n = int(mc.draws)
    draws = np.vstack([sample_range(rng, ln.low, ln.most_likely, ln.high, n, mc.distribution)
                       for ln in lines]) if lines else np.zeros((0, n))
    cashable = np.array([ln.cashable for ln in lines], dtype=bool)
    in_plan = sum(ln.already_in_plan for ln in lines) + float(finance.already_in_plan)
    investment = float(finance.investment) + sum(ln.investment for ln in lines)
    total = draws.sum(axis=0)
    cash = draws[cashable].sum(axis=0) if lines else np.zeros(n)
    series = {"total": total, "cashable": cash, "quality": total - cash,
              "cashable_net": cash - in_plan, "overall": total - in_plan}
    basis = {"cashable_net": series["cashable_net"], "total_net": series["overall"],
             "total": series["total"]}[finance.ratio_basis]
    series["net_of_investment"] = basis - investment
    by_figure = {k: percentiles(v) for k, v in series.items()}
    line_draws = tuple(LinePercentiles(name=ln.name, percentiles=percentiles(draws[i]))
                       for i, ln in enumerate(lines))
    passes = None
    if investment > 0:
        ratio = basis / investment
        by_figure["benefit_to_investment"] = percentiles(ratio)
        if finance.required_ratio is not None:
            passes = float((ratio >= finance.required_ratio).mean())
    return MonteCarlo(draws=n, seed=int(mc.seed), distribution=mc.distribution,
                      percentiles=SavingsPercentiles(**by_figure), lines=line_draws,
                      probability_passes=passes)


def demand_draws(scenario) -> list[dict]:
    """The demand-rate draws of ``finance.monte_carlo`` as scenario overrides.

    Each of the first ``solves`` draws samples every ``demand_rates`` range (multipliers on
    client group contact rates) with the same seed and distribution, giving one override dict
    ``{"demand.client_groups.<id>": multiplier, ...}`` per draw; each is a real re-solve.
    Empty without ``demand_rates``. The stream is independent of the savings draws.
    """
    finance = scenario.finance
    if finance is None or finance.monte_carlo is None or not finance.monte_carlo.demand_rates:
        return []
    mc = finance.monte_carlo
    rng = np.random.default_rng([mc.seed, 1])
    n = int(mc.solves)
    base = dict(scenario.demand.client_groups)
    columns = {}
    for group, rng_cfg in sorted(mc.demand_rates.items()):
        columns[group] = sample_range(rng, rng_cfg.low, rng_cfg.mode, rng_cfg.high, n,
                                      mc.distribution) * float(base.get(group, 1.0))
    return [{f"demand.client_groups.{g}": float(v[i]) for g, v in columns.items()}
            for i in range(n)]


# --------------------------------------------------------------------------------------------
# Plan against baseline


def plan_savings(baseline: BaselineSummary, plan: Summary) -> PlanSavings:
    """Savings of the plan against today's configuration, line by line [GBP/year].

    Parameters
    ----------
    baseline : BaselineSummary
        Today's configuration, evaluated (:func:`mdtplan.appraisal.baseline.evaluate_baseline`).
    plan : Summary
        The solved plan.

    Returns
    -------
    PlanSavings
        ``lines``: one per role (staff cost excluding the agency premium), then the agency
        premium, sites and (with staff travel) staff mileage, each with ``baseline_gbp``, ``scenario_gbp`` and ``saving_gbp``
        (positive = the plan is cheaper); ``total``; and side-by-side service figures
        (``demand_met_share``, ``unmet_hours``, ``fte``, ``hubs_open``, ``travel_mean``).
    """
    def role_staff(costs, role):
        return float(costs.by_role_gbp.get(role, 0.0)) - float(
            costs.agency_by_role_gbp.get(role, 0.0))

    roles = list(dict.fromkeys(list(baseline.costs.by_role_gbp)
                               + list(plan.costs.by_role_gbp)))
    lines = []
    for role in roles:
        b, p = role_staff(baseline.costs, role), role_staff(plan.costs, role)
        lines.append(Saving(line=f"staff: {role}", baseline_gbp=b, scenario_gbp=p,
                            saving_gbp=b - p))
    # single figures as summary.json holds them (a non-finite one as None)
    for label, b, p in (("agency premium", baseline.costs.agency_gbp, plan.costs.agency_gbp),
                        ("sites", baseline.costs.site_gbp, plan.costs.site_gbp)):
        b, p = float(jsonable(b) or 0.0), float(jsonable(p) or 0.0)
        lines.append(Saving(line=label, baseline_gbp=b, scenario_gbp=p, saving_gbp=b - p))
    b, p = (float(jsonable(baseline.costs.mileage_gbp) or 0.0),
            float(jsonable(plan.costs.mileage_gbp) or 0.0))
    if b or p:  # staff travel: the visits' mileage (travel.staff_travel)
        lines.append(Saving(line="staff mileage", baseline_gbp=b, scenario_gbp=p,
                            saving_gbp=b - p))
    b_total = float(jsonable(baseline.costs.total_gbp) or 0.0)
    p_total = float(jsonable(plan.costs.total_gbp) or 0.0)

    def side(today, planned) -> SideBySide:
        return SideBySide(jsonable(today), jsonable(planned))

    def total(by_role: dict) -> float:
        return float(sum(by_role.values()))

    return PlanSavings(
        lines=tuple(lines),
        total=Saving(baseline_gbp=b_total, scenario_gbp=p_total, saving_gbp=b_total - p_total),
        demand_met_share=side(baseline.demand.met_share, plan.demand.met_share),
        unmet_hours=SideBySide(total(baseline.demand.unmet_hours_by_role),
                               total(plan.demand.unmet_hours_by_role)),
        fte=SideBySide(total(baseline.workforce.fte_by_role), total(plan.workforce.fte_by_role)),
        hubs_open=side(baseline.hubs.count, plan.hubs.count),
        travel_mean=side(baseline.travel.mean, plan.travel.mean),
    )
