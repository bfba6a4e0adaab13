"""Appraisal of a finished run: savings, today's configuration and Monte Carlo.

Runs after a solve and is never needed by one. :func:`attach_finance` adds a run's appraisal
to its summary; the parts are

* :mod:`~mdtplan.appraisal.finance`: arithmetic on the ``finance`` section (savings table,
  ranges, investment tests, Monte Carlo draws, plan against baseline); nothing solves;
* :mod:`~mdtplan.appraisal.baseline`: today's configuration evaluated by the model of record
  with its decisions fixed;
* :mod:`~mdtplan.appraisal.montecarlo`: the plan re-solved under each demand-rate draw;
* :mod:`~mdtplan.appraisal.fidelity`: the council's published figures beside the model's
  (:func:`attach_fidelity`, last, over the finished summary).

Appraisal uses the public solve API (``mdtplan.solve``) and the model's build, never the
pipeline or the variants that call it: the pipeline hands :func:`attach_finance` its own
``run`` for the re-solves.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


def attach_finance(result, run: Callable[..., object], *, options=None,
                   progress: Callable[[dict], None] | None = None,
                   cancel: threading.Event | None = None, baseline=None, budget=None):
    """Add the ``finance`` block, the baseline and the savings against it to a run's summary.

    * ``finance``: the savings table of the workstreams: the levers the model worked out
      (``finance.model_savings``, :mod:`mdtplan.appraisal.levers`) and the typed ones
      (:func:`mdtplan.appraisal.finance.savings_table`), with ``monte_carlo`` percentiles when
      ``finance.monte_carlo`` is set; demand-rate draws are each a real re-solve of the
      scenario (``monte_carlo.solves`` of them, :mod:`mdtplan.appraisal.montecarlo`), whose
      demand met, cost and savings against the baseline are reported as percentiles too.
    * ``baseline`` and ``savings`` (CONTRACT §5) when ``finance.baseline`` is set: today's
      configuration evaluated by the same model
      (:func:`mdtplan.appraisal.baseline.evaluate_baseline`), and the plan's savings against
      it line by line (staff by role, agency, sites).

    Parameters
    ----------
    result : mdtplan.pipeline.RunResult
        A finished run whose scenario has a ``finance`` section.
    run : callable
        Solves one scenario for the Monte Carlo draws (:func:`mdtplan.pipeline.run`).
    options : SolveOptions, optional
        For the baseline and the draws; defaults to the scenario's ``solver`` section.
    progress : callable, optional
        Receives event dicts (``stage`` ``baseline`` or ``monte_carlo``, ``message``).
    cancel : threading.Event, optional
        Set it to stop the Monte Carlo re-solves.
    baseline : mdtplan.appraisal.baseline.Baseline, optional
        Already evaluated (sweeps and Monte Carlo evaluate it once).
    budget : mdtplan.solve.budget.RunBudget, optional
        The run's time budget: the baseline and the Monte Carlo re-solves each take their
        share of what is left (``baseline``, ``monte_carlo``), or are skipped (the summary
        then has no ``baseline``, or fewer draws, and says so in its warnings). Default:
        each solve may take ``options.time_limit_s``.

    Returns
    -------
    mdtplan.pipeline.RunResult
        ``result`` with its summary's ``finance`` (and ``baseline``, ``savings``) set.
    """
    from dataclasses import replace

    from ..scenario import FinanceConfig
    from .finance import monte_carlo_savings, plan_savings, savings_table
    from .levers import model_lines, model_savings
    from .montecarlo import solve_demand_draws

    prepared = result.prepared
    scenario = prepared.scenario
    if scenario.finance is None:  # levers alone: their savings, with the section's defaults
        scenario = scenario.model_copy(update={"finance": FinanceConfig()})
    om = prepared.inputs.operating_model  # demand adjusted; workstreams as written
    made = model_savings(prepared, result.results)
    lines = model_lines(made, om)
    finance = replace(savings_table(scenario, om, lines), model_savings=made)
    monte = monte_carlo_savings(scenario, om, lines)
    summary = result.results.summary
    changes: dict = {}
    if scenario.finance.baseline is not None:
        if baseline is None:
            seconds = budget.grant("baseline") if budget is not None else float("inf")
            if seconds is not None:
                if progress is not None:
                    progress({"stage": "baseline",
                              "message": "evaluating today's configuration"})
                from ..errors import OutOfTime
                from .baseline import evaluate_baseline

                try:
                    baseline = evaluate_baseline(
                        prepared, None if options is None else options.within(seconds))
                except OutOfTime as err:
                    if budget is None:
                        raise
                    budget.skip("baseline", f"it found {err.reason}")
                if budget is not None:
                    budget.done("baseline")
        if baseline is not None:
            changes["baseline"] = baseline.summary
            if summary.costs.total_gbp is not None:
                changes["savings"] = plan_savings(baseline.summary, summary)
    if monte is not None:
        draws = solve_demand_draws(result, run, options=options, progress=progress,
                                   cancel=cancel, baseline=baseline, budget=budget)
        if draws is not None:
            monte = replace(monte, demand=draws)
        finance = replace(finance, monte_carlo=monte)
    changes["finance"] = finance
    tables = {}
    if baseline is not None and baseline.assignment is not None:
        keep = [c for c in ("area_id", "site_id", "share", "travel_cost")
                if c in baseline.assignment.columns]
        tables["baseline_assignment"] = baseline.assignment[keep].reset_index(drop=True)
    return replace(result, results=replace(result.results,
                                           summary=replace(summary, **changes), **tables))


def attach_fidelity(result):
    """Add the ``fidelity`` rows to a run's summary: the scenario's published figures beside
    the model's (:func:`mdtplan.appraisal.fidelity.fidelity_rows`), read from the summary as
    ``summary.json`` holds it, finance and baseline included.

    Parameters
    ----------
    result : mdtplan.pipeline.RunResult
        A finished run whose scenario has a ``fidelity`` section.

    Returns
    -------
    mdtplan.pipeline.RunResult
        ``result`` with its summary's ``fidelity`` set.
    """
    from dataclasses import replace

    from .fidelity import fidelity_rows

    summary = result.results.summary
    rows = fidelity_rows(summary.to_dict(), result.prepared.scenario.fidelity)
    return replace(result, results=replace(result.results,
                                           summary=replace(summary, fidelity=rows)))
