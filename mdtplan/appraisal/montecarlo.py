"""Monte Carlo re-solves: the plan under each draw of ``finance.monte_carlo``: demand rates
and, with levers, each lever's share and care saving per person.

The draws themselves (seeded scenario overrides) and the percentiles are arithmetic in
:mod:`mdtplan.appraisal.finance`; this module solves each draw as a scenario of its own and
gathers demand met, cost and the saving against today's configuration. It solves through the
``run`` it is given (the pipeline passes :func:`mdtplan.pipeline.run`), so appraisal never
imports the pipeline that calls it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from time import perf_counter

from ..scenario import apply_overrides, parse_scenario
from ..summary import DemandDraw, DemandDraws
from .finance import demand_draws, percentiles
from .levers import lever_draws

#: a Monte Carlo draw given less than this is not solved [s]
DRAW_MIN_S = 1.0


def _draw_key(override: str) -> str:
    """A drawn value's key in its row: ``demand.client_groups.x`` -> ``x``;
    ``finance.lever_values.<id>.<what>`` -> ``lever.<id>.<what>``."""
    if override.startswith("finance.lever_values."):
        return "lever." + override[len("finance.lever_values."):]
    return override.rsplit(".", 1)[-1]

#: ``run(scenario, *, options, cancel, explain, marginals)`` -> a finished run, as
#: :func:`mdtplan.pipeline.run`
RunFn = Callable[..., object]


def solve_demand_draws(result, run: RunFn, *, options=None,
                       progress: Callable[[dict], None] | None = None,
                       cancel: threading.Event | None = None,
                       baseline=None, budget=None) -> DemandDraws | None:
    """Re-solve the scenario of ``result`` under each demand-rate draw of ``finance.monte_carlo``.

    Parameters
    ----------
    result : mdtplan.pipeline.RunResult
        The run whose scenario is drawn around.
    run : callable
        Solves one scenario (:func:`mdtplan.pipeline.run`); explanations and marginal values
        are asked off.
    options : SolveOptions, optional
        For every draw.
    progress : callable, optional
        Receives ``{"stage": "monte_carlo", "message", "done", "total"}`` before each draw.
    cancel : threading.Event, optional
        Set it to stop: the draws solved so far are reported.
    baseline : mdtplan.appraisal.baseline.Baseline, optional
        Today's configuration; with it each draw reports ``saving_vs_baseline`` [GBP/year].
    budget : mdtplan.solve.budget.RunBudget, optional
        The run's time budget. The draws share the ``monte_carlo`` part's grant: each gets
        what is left of it divided by the draws still to solve (at most
        ``monte_carlo.time_limit_s``), as a budget of its own for its whole run; the draws
        left when less than :data:`DRAW_MIN_S` each remains are skipped (``solves`` counts the
        draws solved) and the skip is recorded in the budget.

    Returns
    -------
    DemandDraws or None
        ``solves``, ``failed``, ``draws`` (one row per draw: its rates, status, cost, demand
        met) and percentiles of ``demand_met_share``, ``total_cost`` [GBP/year],
        ``demand_hours`` [hours/year] and ``saving_vs_baseline``; ``None`` without demand-rate
        draws.
    """
    scenario = result.prepared.scenario
    draws = demand_draws(scenario)
    levers = lever_draws(scenario, result.prepared.inputs.operating_model)
    if levers:  # each re-solve draws the levers' values too
        draws = [{**(draws[i] if draws else {}), **levers[i]} for i in range(len(levers))]
    if not draws:
        return None
    mc = scenario.finance.monte_carlo
    if mc.time_limit_s is not None and options is not None:
        from dataclasses import replace

        options = replace(options, time_limit_s=min(float(options.time_limit_s),
                                                    float(mc.time_limit_s)))
    granted = budget.grant("monte_carlo", minimum=DRAW_MIN_S) if budget is not None else None
    if budget is not None and granted is None:
        return None
    t_mc = perf_counter()
    document = scenario.to_dict()
    # each draw is the plan under other demand; the baseline and the savings draws are the run's
    document["finance"] = {k: v for k, v in document["finance"].items()
                           if k not in ("monte_carlo", "baseline")}
    rows = []
    for i, overrides in enumerate(draws, start=1):
        if cancel is not None and cancel.is_set():
            break
        draw_budget = None
        timed = not getattr(options, "reproducible", False)
        if budget is not None and budget.limited and timed:
            from ..solve.budget import RunBudget

            each = (granted - (perf_counter() - t_mc)) / (len(draws) - i + 1)
            if each < DRAW_MIN_S:
                budget.skip("monte_carlo", f"{len(draws) - i + 1} of {len(draws)} draws not "
                            f"solved: the Monte Carlo share of the {budget.limit_s:g} s time "
                            "limit was spent")
                break
            draw_budget = RunBudget(min(each, float(options.time_limit_s)))
        if progress is not None:
            progress({"stage": "monte_carlo", "message": f"demand draw {i} of {len(draws)}",
                      "done": i - 1, "total": len(draws)})
        variant = parse_scenario(apply_overrides(document, overrides), file=None,
                                 base_dir=scenario.base_dir)
        rates = {_draw_key(k): v for k, v in overrides.items()}
        try:
            run_i = run(variant, options=options, cancel=cancel, explain=False,
                        marginals=False, budget=draw_budget)
            s = run_i.results.summary
            saving = None
            if baseline is not None and s.costs.total_gbp is not None:
                saving = float(baseline.summary.costs.total_gbp) - s.costs.total_gbp
            made = net = passes = None
            fin = s.finance
            if levers and fin is not None and fin.model_savings is not None:
                made = fin.model_savings.total["most_likely"]
                net = fin.net_of_investment.most_likely
                passes = fin.passes.most_likely
            row = DemandDraw(draw=i, rates=rates, status=s.report.status,
                             total_cost=s.costs.total_gbp, demand_met_share=s.demand.met_share,
                             demand_hours=s.demand.hours, saving_vs_baseline=saving,
                             model_savings=made, net_of_investment=net, passes=passes)
        except Exception as err:  # one failed draw is reported, it does not sink the rest
            row = DemandDraw(draw=i, rates=rates, status="error", error=str(err))
        rows.append(row)
    if budget is not None:
        budget.done("monte_carlo")
    ok = [r for r in rows if r.total_cost is not None]
    tested = [r.passes for r in ok if r.passes is not None]
    return DemandDraws(
        model_savings=(percentiles(r.model_savings for r in ok if r.model_savings is not None)
                       if levers else None),
        net_of_investment=(percentiles(r.net_of_investment for r in ok
                                       if r.net_of_investment is not None) if levers else None),
        probability_passes=(sum(tested) / len(tested)) if tested else None,
        solves=len(rows), failed=len(rows) - len(ok), draws=tuple(rows),
        demand_met_share=percentiles(r.demand_met_share for r in ok),
        total_cost=percentiles(r.total_cost for r in ok),
        demand_hours=percentiles(r.demand_hours for r in ok),
        saving_vs_baseline=(None if baseline is None else
                            percentiles(r.saving_vs_baseline for r in ok)))
