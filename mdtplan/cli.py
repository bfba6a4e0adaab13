"""The ``mdtplan`` command line (typer): parse -> call the pipeline -> render.

Exit codes: 0 solved (optimal, or feasible at a limit: the summary says which); 2 invalid input;
3 infeasible (with an explanation); 4 no plan found within the limits (or cancelled);
1 unexpected error.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from .errors import MdtplanError, Problem

if TYPE_CHECKING:
    from .summary import Range, Summary

app = typer.Typer(
    name="mdtplan",
    help="Plan adult social care locality MDT hubs, staffing and budgets (Pyomo + HiGHS).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # click's plain help: "--serial / --no-serial", "--time-limit SECONDS" (typer's rich
    # panels print "<bool>" beside every flag and "<float>" for every number)
    rich_markup_mode=None,
)

console = Console()
err_console = Console(stderr=True)

EXIT_OK, EXIT_ERROR, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NO_SOLUTION = 0, 1, 2, 3, 4


def _print_problems(problems: list[Problem], title: str) -> None:
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity != "error"]
    if errors:
        err_console.print(f"[bold red]{title}: {len(errors)} problem"
                          f"{'s' if len(errors) != 1 else ''}[/]")
        for p in errors:
            err_console.print("  [red]✗[/] ", end="")
            err_console.print(str(p), markup=False, highlight=False)
    for p in warnings:
        err_console.print(f"  ! warning: {p}", markup=False, highlight=False)


def _fail(err: MdtplanError, title: str) -> typer.Exit:
    _print_problems(err.problems, title)
    return typer.Exit(err.exit_code)


#: the help of options several commands share (each states its unit and default)
_SCENARIO_HELP = "Scenario file (.yaml or .json); `mdtplan schema` writes its JSON Schema."
_SET_HELP = ("Override a scenario key, typed by the schema, e.g. --set budget.cap=25e6 or "
             "--set operating_model=my-model.yaml; repeat for several. Default: none.")
_TIME_LIMIT_HELP = ("Time limit [seconds] for the whole run after loading: building, the "
                    "solve and its follow-ups (baseline, marginal values, Monte Carlo); "
                    "writing the outputs is extra. Default: the scenario's "
                    "solver.time_limit_s (60 s if it has none).")
_START_FROM_HELP = ("A what-if: start from the plan an earlier run wrote into FOLDER (its --out: "
                    "hubs.csv and assignment.csv), fitted to this scenario's rules and "
                    "searched around, so a short --time-limit gives a plan as good as a cold "
                    "solve's at a long one; summary.json's start_from says how it was used. "
                    "FOLDER may be --out itself (read first). Default: none.")
_MIP_GAP_HELP = ("Relative gap at which a stage stops, as a fraction (0.005 = 0.5%). "
                 "Default: the scenario's solver.mip_gap (0.005).")
_THREADS_HELP = ("HiGHS threads for the solve (at most the machine's cores; a MIP of 20,000 "
                 "rows or more with a time limit runs on one, and the warnings say so). "
                 "Default: the scenario's solver.threads (2).")


def _load(path: Path, overrides: list[str] | None):
    from .scenario import load_scenario

    return load_scenario(path, overrides or [])


def _fmt_gbp(v) -> str:
    if v is None:
        return "—"
    return f"−£{-v:,.0f}" if v < -0.5 else f"£{max(v, 0.0):,.0f}"


# ------------------------------------------------------------------------------------------
@app.command()
def validate(
    scenario: Annotated[Path, typer.Argument(metavar="SCENARIO", help=_SCENARIO_HELP)],
    set_: Annotated[list[str] | None, typer.Option(
        "--set", metavar="KEY=VALUE", help=_SET_HELP)] = None,
) -> None:
    """Check a scenario and every file it names; print each problem and the demand summary.

    Exit 2 if any problem is found (each names the file, row or id, column and what to do).
    """
    from .pipeline import prepare

    try:
        prepared = prepare(_load(scenario, set_))
    except MdtplanError as err:
        raise _fail(err, f"{scenario}: invalid") from None
    _print_problems(list(prepared.warnings), "warnings")
    _print_inputs_summary(prepared)
    console.print(f"[green]✓[/] {scenario}: valid")


def _print_inputs_summary(prepared) -> None:
    inputs = prepared.inputs
    areas, sites = inputs.areas, inputs.sites
    t = Table(title=f"Inputs: {prepared.scenario.name}", show_header=False)
    t.add_row("Areas", f"{len(areas):,}")
    t.add_row("Population", f"{areas['population'].sum():,.0f} people")
    t.add_row("Candidate sites", f"{len(sites):,} ({', '.join(f'{k} {v}' for k, v in sites['status'].value_counts().items())})")
    t.add_row("Allowed area–site pairs", f"{len(prepared.pairs):,}")
    console.print(t)
    om = inputs.operating_model
    if om is None or prepared.demand_hours.empty:
        return
    from .demand import demand_summary

    summ = demand_summary(prepared.demand_hours, om)
    t = Table(title=f"Demand ({om.name})")
    for col in ("role", "kind", "hours a year", "FTE-equivalent", "cost at that FTE (£ a year)"):
        t.add_column(col, justify="left" if col in ("role", "kind") else "right")
    for role_id, row in summ.iterrows():
        t.add_row(str(role_id), str(row["kind"]), f"{row['demand_hours']:,.0f}",
                  f"{row['fte']:,.1f}", _fmt_gbp(row["cost_gbp"]))
    t.add_row("total", "", f"{summ['demand_hours'].sum():,.0f}", f"{summ['fte'].sum():,.1f}",
              _fmt_gbp(summ["cost_gbp"].sum()))
    console.print(t)
    _print_pathways(prepared)
    _print_levers(prepared)


def _signed(hours: float) -> str:
    """Hours with a sign and at most two decimals: ``+50``, ``-13.3``, ``-0.59``."""
    text = f"{hours:+,.2f}".rstrip("0").rstrip(".")
    return text


def _print_pathways(prepared) -> None:
    """What each flow's contacts lead to in long-term support, at steady state."""
    from .care import flow_contacts, pathway_table

    om = prepared.inputs.operating_model
    if om is None or om.care is None or not om.care.outcomes:
        return
    table = pathway_table(flow_contacts(prepared.inputs.areas, om), om)
    t = Table(title="Care pathways (steady state, before any lever)")
    for col in ("flow", "contacts a year", "into long-term support a year",
                "people supported", "care spend (£ a year)", "review hours a year"):
        t.add_column(col, justify="left" if col == "flow" else "right")
    for flow, row in table.iterrows():
        t.add_row(str(flow), f"{row['contacts']:,.0f}", f"{row['entrants']:,.0f}",
                  f"{row['people']:,.0f}", _fmt_gbp(row["spend_gbp"]),
                  f"{row['review_hours']:,.0f}")
    t.add_row("total", "", f"{table['entrants'].sum():,.0f}", f"{table['people'].sum():,.0f}",
              _fmt_gbp(table["spend_gbp"].sum()), f"{table['review_hours'].sum():,.0f}")
    console.print(t)


def _print_levers(prepared) -> None:
    """The levers the solve will size (most likely values), before any solve."""
    levers = prepared.data.levers
    om = prepared.inputs.operating_model
    if levers is None or om is None:
        return
    names = {lv.id: lv.name for lv in om.levers}
    t = Table(title="Levers (most likely; the solve decides how far each goes)")
    for col in ("lever", "cohort (people)", "most it can reach", "care saving a person",
                "staff hours a person"):
        t.add_column(col, justify="left" if col == "lever" else "right")
    for k in levers.cohort.columns:
        cohort = float(levers.cohort[k].sum())
        hours = levers.hours.loc[k]
        shown = ", ".join(f"{r} {_signed(h)}" for r, h in hours.items()
                          if abs(h) >= 0.005) or "none"
        t.add_row(f"{names.get(k, k)} ({k})", f"{cohort:,.0f}",
                  f"{cohort * float(levers.max_share[k]):,.0f}",
                  _fmt_gbp(float(levers.saving_gbp[k])), shown)
    console.print(t)


# ------------------------------------------------------------------------------------------
#: how often the main thread looks up from waiting for the solve [s]
_WAIT_S = 0.1
#: exit status after a second Ctrl-C (128 + SIGINT, as the shell reports an interrupted command)
EXIT_INTERRUPTED = 130


def _interruptible(work, cancel: threading.Event):
    """``work()`` in a thread of its own while this (main) thread waits, so Ctrl-C is heard.

    Python runs a signal handler in the main thread only, between bytecodes: while HiGHS
    works in the main thread in a phase that never calls back into Python (a big model's
    interior-point root LP: minutes on 200,000 rows), Ctrl-C went unheard until it returned.
    The first Ctrl-C sets ``cancel`` (HiGHS stops at its next callback, the heuristic start at
    its next poll) and ends the command as cancelled once the solve has stopped; a second one
    ends the process at once (exit status 130), without waiting for the solver. ``work``'s
    exception is raised here.
    """
    box: dict = {}
    done = threading.Event()

    def _target():
        try:
            box["value"] = work()
        except BaseException as err:  # noqa: BLE001 - handed to the main thread
            box["error"] = err
        finally:
            done.set()

    # waiting on an Event, not Thread.join: a join that Ctrl-C interrupts can leave the thread
    # marked as ended while it still runs (CPython before 3.13)
    def _wait() -> None:
        while not done.wait(_WAIT_S):
            pass

    threading.Thread(target=_target, name="mdtplan-solve", daemon=True).start()
    try:
        _wait()
    except KeyboardInterrupt:
        cancel.set()
        err_console.print("cancelling: stopping the solve (Ctrl-C again to stop at once)")
        try:
            _wait()
        except KeyboardInterrupt:
            # at once: the solver's thread is still inside HiGHS, and an interpreter that
            # shuts down around it aborts (pybind11 cannot take the GIL back), so no shutdown
            err_console.print("stopped")
            for c in (console, err_console):  # a live progress display hides the cursor
                c.show_cursor(True)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(EXIT_INTERRUPTED)
        raise
    if "error" in box:
        raise box["error"]
    return box["value"]


def _solve_and_write(scenario_obj, out: Path, time_limit, mip_gap, threads, quiet=False,
                     start_from: Path | None = None) -> int:
    from .outputs import write_outputs
    from .pipeline import prepare, run, solve_options_for

    options = solve_options_for(scenario_obj, time_limit_s=time_limit, mip_gap=mip_gap,
                                threads=threads)
    prior = None
    if start_from is not None:  # read before anything is written (it may be --out itself)
        from .pipeline import earlier_plan

        try:
            prior = earlier_plan(start_from)
        except MdtplanError as err:
            raise _fail(err, f"--start-from {start_from}: cannot start from it") from None
    cancel = threading.Event()
    try:
        with _ProgressDisplay(quiet, options.time_limit_s, scenario_obj.travel.unit) as show:
            prepared = prepare(scenario_obj, progress=show)
            for w in prepared.warnings:
                err_console.print(f"  ! warning: {w}", markup=False, highlight=False)
            result = _interruptible(
                lambda: run(scenario_obj, options=options, progress=show, cancel=cancel,
                            prepared=prepared, start_from=prior), cancel)
    except MdtplanError as err:
        raise _fail(err, "cannot solve") from None
    written = write_outputs(result.results, out, inputs=prepared.inputs,
                            scenario_doc=scenario_obj.to_dict())
    _print_summary(result.results.summary)
    said = {str(w) for w in prepared.warnings}
    for w in result.results.summary.warnings:  # the run's own (skipped parts, threads)
        if str(w) not in said:
            err_console.print(f"  ! warning: {w}", markup=False, highlight=False)
    status = result.results.summary.report.status
    if status == "infeasible":
        _print_problems(list(result.explanation) or [Problem(None, None, None,
                        "no plan satisfies every rule")], "infeasible: no plan exists")
        console.print(f"Files written to {out}")
        return EXIT_INFEASIBLE
    console.print("Files: " + ", ".join(str(p.name) for p in written.values()) + f" in {out}")
    if status in ("optimal", "feasible_at_limit"):
        return EXIT_OK
    err_console.print(f"[red]No plan found[/]: {result.results.summary.report.message or status}")
    if not result.solve_result.cancelled:
        err_console.print(f"  -> give the solver longer: --time-limit (this run allowed "
                          f"{options.time_limit_s:g} s), or solver.time_limit_s in the scenario")
    return EXIT_NO_SOLUTION


def _print_summary(s: Summary) -> None:
    from .summary.words import headline_quality, start_from_words

    report, costs, demand = s.report, s.costs, s.demand
    t = Table(title=f"Plan: {s.name}", show_header=False)
    t.add_row("Status", report.status)
    if report.status in ("optimal", "feasible_at_limit"):
        # proven over every goal, not only the first (the first goal's gap alone can read 0%)
        t.add_row("Proven quality", headline_quality(s))
    if len(report.stages) > 1:
        t.add_row("Gap of each stage", ", ".join(
            f"{st['name']} " + ("—" if st.get("gap") is None else f"{st['gap']:.2%}")
            for st in report.stages))
    if report.objective is not None:
        t.add_row(f"Objective ({report.objective_name})", _objective_words(s))
    started = start_from_words(report.start_from)
    if started:
        t.add_row("Started from", started)
    t.add_row("Hubs open", str(s.hubs.count))
    if s.hubs.population is not None:
        p = s.hubs.population
        t.add_row("Population per hub", f"{p.min:,.0f} – {p.median:,.0f} – {p.max:,.0f}"
                  " people (min – median – max)")
    if s.localities is not None:
        p = s.localities.population
        t.add_row("Locality teams", f"{s.localities.count}"
                  + (f", {p.min:,.0f} – {p.median:,.0f} – {p.max:,.0f} people" if p else "")
                  + f"; roles {_fmt_gbp(s.localities.cost_gbp)} a year (in the total)")
    if costs.total_gbp is not None and (costs.by_role_gbp or costs.site_gbp):
        t.add_row("Total annual cost", _fmt_gbp(costs.total_gbp) + " a year"
                  + (f" (cap {_fmt_gbp(costs.budget_cap_gbp)})" if costs.budget_cap_gbp
                     else ""))
    if demand.met_share is not None:
        t.add_row("Demand met", f"{demand.met_share:.1%} of {demand.hours:,.0f} hours a year")
    if s.shortfall is not None and s.shortfall.binds:
        sf = s.shortfall
        t.add_row("Fair shortfall (binds)",
                  f"{', '.join(sf.hubs_at_limit[:4])}"
                  + (f" and {len(sf.hubs_at_limit) - 4} more" if len(sf.hubs_at_limit) > 4
                     else "")
                  + f" held to {sf.overall_share - sf.max_spread:.1%} of demand met "
                  f"(overall {sf.overall_share:.1%} less {100 * sf.max_spread:g} points)")
    if s.travel.mean is not None:
        t.add_row("Travel (population-weighted mean / max)",
                  f"{s.travel.mean:.1f} / {s.travel.max:.1f} {s.travel.unit}")
    for label, value in _geography_rows(s.geography):
        t.add_row(label, value)
    for role, fte in s.workforce.fte_by_role.items():
        unmet = demand.unmet_hours_by_role.get(role, 0.0)
        t.add_row(f"  FTE {role}", f"{fte:,.1f} FTE"
                  + (f" (unmet {unmet:,.0f} hours a year)" if unmet > 0.5 else ""))
    for label, value in _finance_rows(s):
        t.add_row(label, value)
    t.add_row("Solve time", f"{report.solve_seconds:.1f} s")
    console.print(t)
    note = _finance_note(s)
    if note:
        console.print("What each finance figure is (different calculations):", style="bold")
        for line in note:
            console.print(f"  {line}", highlight=False)
    if s.fidelity is not None:
        _print_fidelity(s.fidelity)


def _objective_words(s: Summary) -> str:
    """The plan's first objective in its unit (``48,147 hours a year of demand not met``,
    ``£49.14m a year``), the words of the web pages (:mod:`mdtplan.summary.words`)."""
    from .summary.words import FIRST_STAGE, best_words

    report = s.report
    stage = (report.stages[0].get("name") if report.stages else None) \
        or FIRST_STAGE.get(report.objective_name)
    words = best_words(stage, report.objective, s.travel.unit)
    if stage == "cost_gbp" and report.objective is not None:
        words = f"{_fmt_gbp(report.objective)} a year"   # the table's own pounds, in full
    return words or f"{report.objective:,.6g}"


def _fmt_unit(v, unit: str) -> str:
    """A figure of the fidelity table in its unit (GBP, ratio, share or number)."""
    if v is None:
        return "—"
    if unit == "gbp":
        return _fmt_gbp(v)
    if unit == "ratio":
        return f"{v:.2f}x"
    if unit == "share":
        return f"{v:.1%}"
    return f"{v:,.6g}"


def _fmt_published(p, unit: str) -> str:
    if not isinstance(p, dict):
        return _fmt_unit(p, unit)
    if "low" in p:
        return f"{_fmt_unit(p['low'], unit)} – {_fmt_unit(p['high'], unit)}"
    if "min" in p:
        return f"at least {_fmt_unit(p['min'], unit)}"
    if "max" in p:
        return f"up to {_fmt_unit(p['max'], unit)}"
    return f"{_fmt_unit(p['value'], unit)} ± {_fmt_unit(p.get('tolerance'), unit)}"


def _fmt_model(m, unit: str) -> str:
    if not isinstance(m, dict):
        return _fmt_unit(m, unit)
    values = [m.get(k) for k in ("low", "most_likely", "high")]
    if len(set(values)) == 1:
        return _fmt_unit(values[0], unit)
    return " – ".join(_fmt_unit(v, unit) for v in values)


def _print_fidelity(rows) -> None:
    """The table "Published figures beside the model's" (``summary.json``'s ``fidelity``)."""
    from rich.markup import escape

    councils = ", ".join(dict.fromkeys(r.council for r in rows))
    t = Table(title=f"Published figures beside the model's ({councils})",
              caption="Within: the model's most likely value against the published figure "
                      "(\"not low–high\": its low or high is not). "
                      "Basis: made by the model's solve, or typed into the scenario and added "
                      "up. Sources, quotes and notes: summary.json 'fidelity', workbook sheet "
                      "'Fidelity'.")
    for col, justify in (("Figure", "left"), ("Published", "right"),
                         ("Model (low – likely – high)", "right"), ("Basis", "left"),
                         ("Within", "center")):
        t.add_column(col, justify=justify)
    for r in rows:
        within = {True: "yes", False: "[red]no[/]", None: "—"}[r.within]
        if r.within is not None and r.ends_within is False:
            within += ", not low–high"
        t.add_row(escape(r.figure), _fmt_published(r.published, r.unit),
                  _fmt_model(r.model, r.unit), r.basis, within)
    console.print(t)
    for r in rows:
        if r.model is None and r.note:
            console.print(f"  {r.figure}: {r.note}", markup=False, highlight=False)


def _geography_rows(g) -> list[tuple[str, str]]:
    """What the map shows, in words: pieces, nearest hub, own areas, separation, staff travel."""
    if g is None:
        return []
    rows = []
    if g.pieces_per_catchment:
        split = g.catchments_in_pieces or 0
        worst = max(g.pieces_per_catchment.values())
        rows.append(("Catchments", "every one in one piece" if not split else
                     f"{split} of {len(g.pieces_per_catchment)} in pieces (up to {worst})"))
    if g.share_areas_at_nearest_open_hub is not None:
        rows.append(("Areas at their nearest open hub", f"{g.share_areas_at_nearest_open_hub:.0%}"))
    if g.hubs_not_serving_own_area:
        rows.append(("Hubs not serving their own area", ", ".join(g.hubs_not_serving_own_area)))
    if g.min_hub_separation_km is not None:
        a, b = g.closest_hubs
        rows.append(("Closest hubs", f"{a} and {b}, {g.min_hub_separation_km:.1f} km apart"))
    if g.staff_travel and g.travel_hours is not None:
        rows.append(("Staff travel (visits)", f"{g.travel_hours:,.0f} hours a year, "
                     f"{g.mileage_miles or 0.0:,.0f} miles, {_fmt_gbp(g.mileage_gbp or 0.0)}"))
    return rows


def _range(r: Range | None) -> str:
    if r is None:
        return "—"
    return " – ".join(_fmt_gbp(v) for v in r.values())


#: the ratio bases, short, for the table
_BASIS_SHORT = {"cashable_net": "cashable less in plan", "total_net": "total less in plan",
                "total": "total"}


def _fmt_signed(v) -> str:
    """``+£1,234`` or ``−£1,234`` (``—`` for none)."""
    if v is None:
        return "—"
    return f"−£{-v:,.0f}" if v < -0.5 else f"+£{max(v, 0.0):,.0f}"


def _label(fin, key: str) -> str:
    """The plain label of a finance figure (:data:`mdtplan.summary.TERMS`)."""
    from .summary import TERMS

    return (fin.labels if fin is not None and fin.labels else {}).get(key) or TERMS[key][0]


def _ratios(reading, required) -> str:
    text = " – ".join("—" if v is None else f"{v:.2f}x" for v in reading.ratio.values())
    if required is not None and reading.ratio.most_likely is not None:
        verdict = ["pass" if passed else "fail" for passed in reading.passes.values()]
        text += f" vs {required:g}x: " + " / ".join(verdict)
    return text


def _finance_rows(s: Summary) -> list[tuple[str, str]]:
    """Baseline, savings and workstream rows of a summary (empty without finance).

    Each row says which calculation it is: the cost against today (plan less baseline), the
    workstream savings (typed in per workstream) and their tests against the investment.
    """
    rows = []
    base, savings, fin = s.baseline, s.savings, s.finance
    if base is not None:
        met = base.demand.met_share
        rows.append(("Today (baseline): cost, demand met",
                     f"{_fmt_gbp(base.costs.total_gbp)}, "
                     + ("—" if met is None else f"{met:.1%}")))
        for v in base.violations:
            rows.append((f"  today breaks {v.rule}", f"{v.count} time(s)"))
    if savings is not None:
        cost = -savings.total.saving_gbp
        met = savings.demand_met_share
        both = met is not None and met.baseline is not None and met.scenario is not None
        rows.append((f"{_label(fin, 'cost_against_today')} (plan less today)",
                     f"{_fmt_signed(cost)} a year"
                     + (": the plan costs more" if cost > 0.5 else
                        ": the plan costs less" if cost < -0.5 else "")
                     + (f", meeting {met.scenario:.1%} of demand against today's "
                        f"{met.baseline:.1%}" if both else "")))
    growth = s.growth_check
    if growth is not None:
        met = growth.demand_met_share
        extra = sum(growth.extra_fte_needed_by_role.values())
        rows.append((f"This plan in {growth.year}: demand, met",
                     f"{growth.demand_hours:,.0f} hours a year, "
                     + ("—" if met is None else f"{met:.1%}")
                     + (f"; short {extra:,.1f} FTE" if extra > 0.05 else "")))
        for role, fte in growth.extra_fte_needed_by_role.items():
            if fte > 0.05:
                rows.append((f"  extra FTE {role}", f"{fte:,.1f} FTE"))
    if fin is not None:
        totals = fin.totals
        rows += _model_savings_rows(fin.model_savings)
        typed = [ln for ln in fin.lines if ln.source != "model"]
        if typed and fin.model_savings is not None:
            rows.append(("Typed workstreams (outside the model), low – likely – high",
                         " – ".join(_fmt_gbp(sum(ln.value(lv) for ln in typed))
                                    for lv in ("low", "most_likely", "high"))
                         + "; " + ", ".join(ln.name for ln in typed)))
        rows.append((f"{_label(fin, 'totals.total')}, low – likely – high",
                     _range(totals.total)))
        if totals.quality.high > 0:
            rows.append(("  cashable", _range(totals.cashable)))
            rows.append(("  quality (non-cashable)", _range(totals.quality)))
        if fin.already_in_plan:
            rows.append((f"  cashable less {_fmt_gbp(fin.already_in_plan)} already in plan",
                         _range(totals.cashable_net)))
            rows.append(("  overall (total less already in plan)", _range(totals.overall)))
        phasing = [p for p in (fin.investment_phasing or ()) if p is not None]
        spent = ("" if not fin.investment or len(phasing) <= 1 else
                 ", spent " + " / ".join(f"{p:.0%}" for p in phasing)
                 + f" in years 1–{len(phasing)}")
        if fin.investment:
            rows.append((_label(fin, "investment"), _fmt_gbp(fin.investment) + spent))
        basis = _BASIS_SHORT.get(fin.ratio_basis, fin.ratio_basis)
        rows.append((f"{_label(fin, 'net_of_investment')}, {basis}",
                     _range(fin.net_of_investment)))
        ratio = fin.benefit_to_investment
        chosen = fin.reading(fin.ratio_basis)
        if ratio is not None and ratio.most_likely is not None:
            if chosen is None:   # a summary written before the readings
                from .summary import RatioReading

                chosen = RatioReading(fin.ratio_basis, basis, fin.annual_basis, ratio,
                                      fin.passes, True)
            rows.append((f"{_label(fin, 'benefit_to_investment')} ({basis})",
                         _ratios(chosen, fin.required_ratio)))
            for reading in fin.ratio_readings:
                if not reading.chosen:
                    rows.append((f"  other reading: {_BASIS_SHORT.get(reading.basis)}",
                                 _ratios(reading, fin.required_ratio)))
        if fin.fee_after_reduction is not None and fin.fee_clause is not None:
            fc = fin.fee_clause
            rows.append((f"{_label(fin, 'fee_after_reduction')} (to at most "
                         f"{_BASIS_SHORT.get(fc.basis, fc.basis)} / {fc.required_ratio:g})",
                         _range(fin.fee_after_reduction)))
        if fin.npv is not None and fin.discount_rate is not None:
            rows.append((f"{_label(fin, 'npv')}, {fin.years} years at "
                         f"{fin.discount_rate:.1%}",
                         " – ".join(_fmt_signed(v) for v in fin.npv.values())))
        if fin.investment and fin.payback_year is not None:
            rows.append((_label(fin, "payback_year"),
                         " – ".join(f"year {v}" if v is not None else
                                    f"not within {fin.years} years"
                                    for v in fin.payback_year.values())))
        mc = fin.monte_carlo
        if mc is not None:
            p = mc.percentiles.net_of_investment
            rows.append((f"Monte Carlo net of investment, P10 / P50 / P90 ({mc.draws:,} draws)",
                         " / ".join(_fmt_gbp(v) for v in ((p.p10, p.p50, p.p90) if p
                                                          else (None, None, None)))))
            demand = mc.demand
            if demand is not None and demand.model_savings is not None \
                    and demand.model_savings.n:
                m = demand.model_savings
                text = " / ".join(_fmt_gbp(v) for v in (m.p10, m.p50, m.p90))
                if demand.probability_passes is not None:
                    text += f"; passes in {demand.probability_passes:.0%}"
                rows.append((f"Model savings re-solved (P10 / P50 / P90, {demand.solves} "
                             "draws)", text))
            if demand is not None and demand.demand_met_share.n:
                d = demand.demand_met_share
                rows.append((f"Demand met under the re-solved draws ({demand.solves})",
                             " / ".join(f"{v:.1%}" for v in (d.p10, d.p50, d.p90))))
    return rows


def _model_savings_rows(ms) -> list[tuple[str, str]]:
    """The savings the model makes (``finance.model_savings``): the total, then each lever:
    people reached of the most it could reach, its saving, and what holds it back."""
    if ms is None:
        return []
    rows = [(f"{_label(None, 'model_savings')}, low – likely – high", _range(ms.total))]
    for ln in ms.lines:
        reached = (f"{ln.people:,.0f} of {ln.max_people:,.0f} people"
                   if ln.max_people else "no one to reach")
        rows.append((f"  {ln.name}", f"{_range(ln.saving)}; {reached}"))
        if ln.held_back_by:
            text = ln.held_back_by
            if ln.one_more_fte:
                u = ln.one_more_fte
                text += (f"; one more FTE of {u['role']} would reach {u['people']:,.0f} more "
                         f"and save {_fmt_gbp(u['saving_gbp'])} a year")
            rows.append(("    held back by", text))
        if ln.phasing_source == "derived" and ln.phasing:
            rows.append(("    builds up", _phasing_words(ln.phasing)))
    return rows


def _phasing_words(phasing) -> str:
    """A derived phasing in words: the first years' shares and the first year at 95%."""
    shown = ", ".join(f"year {i} {p:.0%}" for i, p in enumerate(phasing[:3], start=1))
    most = next(i for i, p in enumerate(phasing, start=1) if p >= 0.95)
    return (f"{shown}; 95% by year {most} (the care it avoids builds up as people would "
            "have left their settings; its staff start at once)")
def _finance_note(s: Summary) -> list[str]:
    """One line per different calculation in the finance rows, in plain words."""
    from .summary import TERMS

    fin = s.finance
    if fin is None:
        return []
    words = dict(fin.definitions) or {k: v[1] for k, v in TERMS.items()}
    keys = [k for k in ("cost_against_today", "model_savings", "totals.total",
                        "net_of_investment", "npv")
            if k in words and (k != "cost_against_today" or s.savings is not None)
            and (k != "model_savings" or fin.model_savings is not None)]
    return [f"{_label(fin, k)}: {words[k]}" for k in keys]


#: least time between two plain progress lines while a stage goes on [s]
PLAIN_PROGRESS_EVERY_S = 5.0


class PlainProgress:
    """Progress as plain lines for a log or a pipe (standard error, flushed at each line).

    A line at each change of stage (loading, travel, building, each goal of the solve,
    baseline, Monte Carlo, ...) and at a goal's first plan; while a stage goes on, one every
    ``every_s`` seconds at most (and at least, with :meth:`heartbeat` running, even while the
    solver is quiet): the best plan so far in the user's units and how far it can be from
    the best possible (the proven gap), with the time so far against the limit, e.g.::

        mdtplan [  14 s of 60 s] Searching for the best plan (goal: most demand met). Best
        plan so far: 48,147 hours a year of demand not met, at most 8.4% from the best possible.

    Parameters
    ----------
    limit_s : float or None
        The run's time limit [s], shown beside the time so far.
    unit : str
        The travel unit (``minutes``, ``km`` or ``units``) for travel goals.
    every_s : float
        Least time between two lines of one stage [s].
    clock : callable
        Seconds, monotonic (``time.monotonic``; a test gives its own).
    write : callable
        Takes one line (default: standard error, flushed).
    """

    def __init__(self, limit_s: float | None = None, unit: str = "minutes",
                 every_s: float = PLAIN_PROGRESS_EVERY_S, clock=None, write=None):
        import time

        self.limit_s, self.unit, self.every_s = limit_s, unit, every_s
        self.clock = clock or time.monotonic
        self.write = write or self._stderr
        self.started = self.clock()
        self._last_at = float("-inf")
        self._key: tuple | None = None
        self._event: dict | None = None
        self._said_plan = False   # the last line gave a best plan (a first one is said at once)
        self._lock = threading.Lock()
        self._stop = threading.Event()

    @staticmethod
    def _stderr(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    def __call__(self, event: dict) -> None:
        stage = event.get("stage") or ""
        objective = event.get("objective_stage") if stage == "solve" else None
        key = (stage, objective)
        with self._lock:
            now = self.clock()
            same = key == self._key
            if same and self._event is not None:
                # an event of the same goal without a figure keeps the one known so far
                event = {**event, **{k: self._event.get(k) for k in ("primal", "gap")
                                     if event.get(k) is None}}
            self._event = event
            finished = bool(event.get("total")) and event.get("done") == event.get("total")
            first_plan = stage == "solve" and event.get("primal") is not None \
                and not self._said_plan
            if same and not finished and not first_plan \
                    and now - self._last_at < self.every_s:
                return
            self._key, self._last_at = key, now
            self._said_plan = stage == "solve" and event.get("primal") is not None
            self.write(self.line(event, now - self.started))

    def tick(self) -> None:
        """Repeat the last stage's line (with the time so far) if none came for ``every_s``."""
        with self._lock:
            now = self.clock()
            if self._event is None or now - self._last_at < self.every_s:
                return
            self._last_at = now
            self.write(self.line(self._event, now - self.started))

    def heartbeat(self) -> threading.Thread:
        """Call :meth:`tick` every second in a daemon thread until :meth:`stop`."""
        def _beat():
            while not self._stop.wait(1.0):
                self.tick()

        thread = threading.Thread(target=_beat, name="mdtplan-progress", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        """End :meth:`heartbeat`."""
        self._stop.set()

    def line(self, event: dict, elapsed_s: float) -> str:
        """One progress line (see the class's example)."""
        from .summary.words import STEPS, best_words, goal, quality_words

        stage = event.get("stage") or ""
        text = STEPS.get(stage) or str(event.get("message") or stage)
        objective = event.get("objective_stage") if stage == "solve" else None
        if objective:
            text += f" (goal: {goal(objective)})"
            best = best_words(objective, event.get("primal"), self.unit)
            if best:
                text += f". Best plan so far: {best}, {quality_words(event.get('gap'))}"
        elif event.get("total"):
            text += f" ({event.get('done', 0)} of {event['total']} done)"
        when = f"{elapsed_s:4.0f} s" + (f" of {self.limit_s:g} s" if self.limit_s else "")
        return f"mdtplan [{when}] {text}."


class _ProgressDisplay:
    """Pipeline stages and the solve's best plan so far: a live line on a terminal, plain
    lines on standard error (:class:`PlainProgress`) when the output goes to a file, a pipe
    or a CI log; nothing with ``quiet``."""

    def __init__(self, quiet: bool, limit_s: float | None = None, unit: str = "minutes"):
        self.live = not quiet and console.is_terminal
        self.unit = unit
        self.plain = None if quiet or self.live else PlainProgress(limit_s, unit)
        self._status = None

    def __enter__(self):
        if self.live:
            self._status = console.status("starting")
            self._status.__enter__()
        if self.plain is not None:
            self.plain.heartbeat()
        return self

    def __call__(self, event: dict) -> None:
        if self.plain is not None:
            self.plain(event)
        if not self.live:
            return
        msg = event.get("message") or event.get("stage", "")
        if event.get("gap") is not None:
            from .summary.words import best_words, quality_words

            best = best_words(event.get("objective_stage"), event.get("primal"),
                              self.unit)
            msg = (f"solving: best {best or '—'}, {quality_words(event['gap'])}, "
                   f"{event.get('elapsed_s', 0):.0f} s")
        self._status.update(msg)

    def __exit__(self, *exc):
        if self._status is not None:
            self._status.__exit__(*exc)
        if self.plain is not None:
            self.plain.stop()
        return False


@app.command()
def solve(
    scenario: Annotated[Path, typer.Argument(metavar="SCENARIO", help=_SCENARIO_HELP)],
    out: Annotated[Path, typer.Option(
        "--out", metavar="FOLDER", help="Folder for the outputs (summary.json, CSVs, map, "
                                        "workbook).")] = Path("out"),
    time_limit: Annotated[float | None, typer.Option(
        "--time-limit", metavar="SECONDS", help=_TIME_LIMIT_HELP)] = None,
    mip_gap: Annotated[float | None, typer.Option(
        "--mip-gap", metavar="FRACTION", help=_MIP_GAP_HELP)] = None,
    threads: Annotated[int | None, typer.Option(
        "--threads", metavar="N", min=1, help=_THREADS_HELP)] = None,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", metavar="KEY=VALUE", help=_SET_HELP)] = None,
    start_from: Annotated[Path | None, typer.Option(
        "--start-from", metavar="FOLDER", help=_START_FROM_HELP)] = None,
) -> None:
    """Build and solve one scenario; write summary.json, hubs/assignment/staffing CSVs, map, workbook.

    Exit 0 solved (optimal, or feasible at the time limit), 2 invalid input, 3 infeasible, 4 no plan found. Ctrl-C stops the solve and exits 130; a second Ctrl-C exits at once.
    """  # one line per paragraph: typer keeps the line breaks inside later paragraphs
    try:
        scen = _load(scenario, set_)
    except MdtplanError as err:
        raise _fail(err, f"{scenario}: invalid") from None
    raise typer.Exit(_solve_and_write(scen, out, time_limit, mip_gap, threads,
                                      start_from=start_from))


@app.command()
def demo(
    out: Annotated[Path, typer.Option(
        "--out", metavar="FOLDER", help="Folder for the outputs (summary.json, CSVs, map, "
                                        "workbook).")] = Path("out/demo"),
    time_limit: Annotated[float | None, typer.Option(
        "--time-limit", metavar="SECONDS",
        help="Time limit [seconds] for the whole run after loading (the solve and its "
             "follow-ups; writing is extra). Default: the demo's own (60 s).")] = None,
) -> None:
    """Solve the bundled demo county (examples/demo.yaml) and write its outputs."""
    from .resources import demo_scenario

    try:
        scen = _load(demo_scenario(), None)
    except MdtplanError as err:
        raise _fail(err, "demo scenario invalid") from None
    raise typer.Exit(_solve_and_write(scen, out, time_limit, None, None))


#: the JSON Schema dialect ``mdtplan schema`` writes (what pydantic's schemas follow)
_JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def json_schema(operating_model: bool = False) -> dict:
    """The JSON Schema of a scenario file (or of an operating model file).

    Made from the pydantic models that check the files (:class:`mdtplan.scenario.Scenario`,
    :class:`mdtplan.operating_model.OperatingModel`), so an editor that reads it (the YAML
    language server's ``# yaml-language-server: $schema=...`` line) completes and checks the
    same keys ``mdtplan validate`` does. The loader's own key (``base_dir``, set from the
    file's folder) is left out.
    """
    if operating_model:
        from .operating_model import OperatingModel

        doc = OperatingModel.model_json_schema()
        title = "mdtplan operating model"
    else:
        from .scenario import Scenario

        doc = Scenario.model_json_schema()
        doc["properties"].pop("base_dir", None)
        # a published figure may be a bare number ({value: number} to the model's own
        # "before" validator, which the generated schema cannot see)
        figure = doc["$defs"].get("PublishedFigure")
        if figure is not None:
            doc["$defs"]["PublishedFigure"] = {
                "title": figure.pop("title", "PublishedFigure"),
                "description": figure.pop("description", ""),
                "anyOf": [{"type": "number"}, figure]}
        title = "mdtplan scenario"
    return {"$schema": _JSON_SCHEMA_DIALECT, "title": title,
            **{k: v for k, v in doc.items() if k != "title"}}


def json_schema_text(operating_model: bool = False) -> str:
    """:func:`json_schema` as the text ``mdtplan schema`` writes (sorted by nothing: the
    models' own order; two-space indents; a final newline)."""
    import json

    return json.dumps(json_schema(operating_model), indent=2, ensure_ascii=False) + "\n"


@app.command()
def schema(
    out: Annotated[Path | None, typer.Option(
        "--out", metavar="FILE", help="File to write the JSON Schema to. Default: standard "
                                      "output.")] = None,
    operating_model: Annotated[bool, typer.Option(
        "--operating-model/--scenario",
        help="The schema of an operating model file (models/*.yaml) instead of a scenario's.")
    ] = False,
) -> None:
    """Write the JSON Schema of a scenario file (or of an operating model), for editors.

    With the schema beside your files, a first line `# yaml-language-server: $schema=scenario.schema.json` lets editors that use the YAML language server (VS Code's YAML extension, for one) complete and check the keys as you type. The repository keeps both in docs/schema/.
    """  # one line per paragraph: the help keeps the line breaks inside later paragraphs
    text = json_schema_text(operating_model)
    if out is None:
        sys.stdout.write(text)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    err_console.print(f"JSON Schema written to {out}", highlight=False)


def _load_result(result_dir: Path):
    """A result folder read back as (Results, Inputs), re-loading its scenario's inputs."""
    from .outputs import read_result_dir
    from .pipeline import prepare
    from .results import Results
    from .scenario import parse_scenario

    try:
        saved = read_result_dir(result_dir)
    except FileNotFoundError as err:
        err_console.print(str(err))
        raise typer.Exit(EXIT_INPUT) from None
    if saved["scenario"] is None:
        err_console.print(f"{result_dir}/scenario.json is missing: re-run mdtplan solve")
        raise typer.Exit(EXIT_INPUT)
    try:
        scen = parse_scenario(saved["scenario"], file=str(result_dir / "scenario.json"))
        prepared = prepare(scen)
    except MdtplanError as err:
        raise _fail(err, f"{result_dir}: cannot reload its inputs") from None
    return Results(saved["hubs"], saved["assignment"], saved["staffing"], saved["summary"],
                   saved.get("localities"),
                   baseline_assignment=saved.get("baseline_assignment")), \
        prepared.inputs


@app.command("map")
def map_cmd(
    result_dir: Annotated[Path, typer.Argument(
        metavar="RESULT_DIR", help="A folder written by mdtplan solve.")],
    out: Annotated[Path | None, typer.Option(
        "--out", metavar="FILE",
        help="HTML file to write. Default: map.html in RESULT_DIR.")] = None,
) -> None:
    """(Re)draw the map of a solved scenario from its folder."""
    from .outputs.maps import draw_map

    results, inputs = _load_result(result_dir)
    path = draw_map(results, inputs, out or (result_dir / "map.html"))
    if path is None:
        err_console.print("the areas have no geometry: nothing to draw")
        raise typer.Exit(EXIT_INPUT)
    console.print(f"Map written to {path}")


@app.command()
def compare(
    dirs: Annotated[list[Path], typer.Argument(
        metavar="RESULT_DIR...", help="Two or more folders from mdtplan solve.")],
    map_file: Annotated[Path | None, typer.Option(
        "--map", metavar="FILE", help="Also write a side-by-side map of the first two "
                                      "(HTML). Default: no map.")] = None,
    csv_file: Annotated[Path | None, typer.Option(
        "--csv", metavar="FILE", help="Also write the table as CSV (one column per folder; "
                                      "raw figures in GBP, hours, shares). Default: none.")
    ] = None,
) -> None:
    """Side-by-side table of solved scenarios (cost, cost against today, workstream
    savings, net of investment, demand met, hubs, travel, FTE and cost by role)."""
    from .outputs import read_result_dir

    saved = []
    for d in dirs:
        try:
            saved.append((d, read_result_dir(d)["summary"]))
        except FileNotFoundError as err:
            err_console.print(str(err))
            raise typer.Exit(EXIT_INPUT) from None
    t = Table(title="Comparison")
    t.add_column("")
    for d, s in saved:
        t.add_column(f"{s.name}\n{d}", justify="right")

    table_rows: list[list] = []

    def row(label, raw, fmt=str, unit=None):
        """One figure: ``raw(summary)`` goes to the CSV (its label as ever), ``fmt(raw)`` to
        the screen, the label there with its ``unit``."""
        values = [raw(s) for _, s in saved]
        from rich.markup import escape

        t.add_row(escape(label) + (f", {unit}" if unit else ""),
                  *["—" if v is None else fmt(v) for v in values])
        table_rows.append([label, *["" if v is None else v for v in values]])

    def when(block, get):
        """``get(block(s))``, or ``None`` for a summary without that block."""
        return lambda s: None if block(s) is None else get(block(s))

    def baseline(s):
        return s.baseline

    def finance(s):
        return s.finance

    pct, one = (lambda v: f"{v:.1%}"), (lambda v: f"{v:,.1f}")
    row("Status", lambda s: s.report.status)
    row("Total cost", lambda s: s.costs.total_gbp, _fmt_gbp, "£ a year")
    row("Budget cap", lambda s: s.costs.budget_cap_gbp, _fmt_gbp, "£ a year")
    row("Demand met", lambda s: s.demand.met_share, pct)
    row("Hubs open", lambda s: s.hubs.count)
    unit = next((s.travel.unit for _, s in saved if s.travel.unit), "minutes")
    row("Travel mean", lambda s: s.travel.mean, one, unit)
    row("Travel max", lambda s: s.travel.max, one, unit)

    def geography(s):
        return s.geography

    row("Catchments in pieces", when(geography, lambda g: g.catchments_in_pieces))
    row("Areas at their nearest open hub",
        when(geography, lambda g: g.share_areas_at_nearest_open_hub), pct)
    row("Closest hubs [km]", when(geography, lambda g: g.min_hub_separation_km), one)
    row("Staff travel [h/year]", when(geography, lambda g: g.travel_hours), one)
    row("Today's cost (baseline)", when(baseline, lambda b: b.costs.total_gbp), _fmt_gbp,
        "£ a year")
    row("Today's demand met (baseline)", when(baseline, lambda b: b.demand.met_share), pct)
    row("Cost against today (plan's cost less today's)",
        when(lambda s: s.savings, lambda v: -v.total.saving_gbp), _fmt_signed, "£ a year")
    row("Savings made by the model, most likely",
        when(finance, lambda f: None if f.model_savings is None
             else f.model_savings.total["most_likely"]), _fmt_gbp, "£ a year")
    for level in ("low", "most_likely", "high"):
        name = level.replace("_", " ")
        row(f"Savings (workstreams), {name}",
            when(finance, lambda f, lv=level: f.totals.total.value(lv)), _fmt_gbp, "£ a year")
    for level in ("low", "most_likely", "high"):
        name = level.replace("_", " ")
        row(f"Net of investment, {name}",
            when(finance, lambda f, lv=level: f.net_of_investment.value(lv)), _fmt_gbp)
    row("Net present value, most likely",
        when(finance, lambda f: None if f.npv is None else f.npv.most_likely), _fmt_signed)
    row("Published figures within (of those the model has)",
        when(lambda s: s.fidelity, _fidelity_count))
    roles = []
    for _, s in saved:
        roles += [r for r in s.workforce.fte_by_role if r not in roles]
    for r in roles:
        row(f"FTE {r}", lambda s, r=r: s.workforce.fte_by_role.get(r), one)
    for r in roles:
        row(f"Cost {r}", lambda s, r=r: s.costs.by_role_gbp.get(r), _fmt_gbp, "£ a year")
    console.print(t)
    if csv_file is not None:
        import csv

        with open(csv_file, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["figure", *[str(d) for d, _ in saved]])
            w.writerows(table_rows)
        console.print(f"Comparison written to {csv_file}")
    if map_file is not None:
        from .outputs.maps import draw_dual_map

        (ra, ia), (rb, ib) = _load_result(dirs[0]), _load_result(dirs[1])
        if draw_dual_map(ra, ia, rb, ib, map_file) is None:
            err_console.print("the areas have no geometry: no map drawn")
            raise typer.Exit(EXIT_INPUT)
        console.print(f"Side-by-side map written to {map_file}")


def _fidelity_count(rows) -> str:
    """"5 of 7 (3 derived)": rows within, of those with a model figure, and how many of them
    the model's solve makes."""
    compared = [r for r in rows if r.within is not None]
    derived = sum(1 for r in compared if r.derived)
    return (f"{sum(1 for r in compared if r.within)} of {len(compared)} "
            f"({derived} derived)")


@app.command()
def sweep(
    scenario: Annotated[Path, typer.Argument(metavar="SCENARIO", help=_SCENARIO_HELP)],
    vary: Annotated[list[str], typer.Option(
        "--vary", metavar="KEY=START:STOP:N|KEY=a,b,c",
        help="N evenly spaced values, ends included (whole numbers for integer keys), or a "
             "list of values, in the key's own unit (budget.cap in GBP a year, "
             "hubs.max_travel_minutes in minutes); repeat for a grid (the cartesian "
             "product).")],
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", metavar="ADDRESS", help="Dask scheduler address (tcp://host:port). "
        "Default: a local cluster of worker processes on this machine.")] = None,
    out: Annotated[Path, typer.Option(
        "--out", metavar="FOLDER", help="Folder for sweep.csv, sweep.json and the frontier "
                                        "plot.")] = Path("out/sweep"),
    workers: Annotated[int | None, typer.Option(
        "--workers", metavar="N", min=1,
        help="Local cluster worker processes. Default: the machine's cores.")] = None,
    serial: Annotated[bool, typer.Option(
        "--serial/--no-serial", help="No Dask: the same chunks, in order, in this process "
                                     "(the same table).")] = False,
    chunk_size: Annotated[int, typer.Option(
        "--chunk-size", metavar="N", min=1,
        help="Most variants solved on one built model (one Dask task).")] = 8,
    time_limit: Annotated[float | None, typer.Option(
        "--time-limit", metavar="SECONDS", help="Time limit [seconds] of each variant's solve. "
        "Default: the scenario's solver.time_limit_s (60 s if it has none).")] = None,
    mip_gap: Annotated[float | None, typer.Option(
        "--mip-gap", metavar="FRACTION", help=_MIP_GAP_HELP)] = None,
    threads: Annotated[int, typer.Option(
        "--threads", metavar="N", min=1,
        help="HiGHS threads per solve (the workers are the parallelism).")] = 1,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", metavar="KEY=VALUE", help="Override a key of the base scenario, e.g. --set "
        "objective=min_cost; repeat for several. Default: none.")] = None,
) -> None:
    """Solve a grid of scenario variants in parallel (Dask); write sweep.csv, sweep.json and
    the frontier plot (frontier.png, frontier.html).

    Variants that differ only in budget.cap, hubs.count.*, hubs.population.*, demand.scale or solver.* re-use one built model, re-solved in place from the previous plan; any other key builds a model per value. One failed variant is reported in its row.

    Exit 0 when at least one variant has a plan, 2 invalid input, 3 every variant infeasible, 4 no plan otherwise (or cancelled with Ctrl-C: the rows solved so far are written).
    """  # one line per paragraph: typer keeps the line breaks inside later paragraphs
    import signal

    from .sweep import parse_vary, run_sweep, write_sweep
    from .variants import IN_PLACE_KEYS

    extra = [f"solver.{k}={v}" for k, v in (("time_limit_s", time_limit), ("mip_gap", mip_gap))
             if v is not None]
    try:
        scen = _load(scenario, [*(set_ or []), *extra])
        varies = [parse_vary(v) for v in vary]
    except MdtplanError as err:
        raise _fail(err, f"{scenario}: invalid") from None
    in_place = [v.key for v in varies if v.key in IN_PLACE_KEYS or v.key.startswith("solver.")]
    rebuilt = [v.key for v in varies if v.key not in in_place]
    console.print(f"Sweep of {scen.name}: "
                  + ", ".join(f"{v.key} ({len(v.values)} values)" for v in varies)
                  + (f"; changed in place on one model: {', '.join(in_place)}" if in_place
                     else "")
                  + (f"; a model built per value: {', '.join(rebuilt)}" if rebuilt else ""),
                  highlight=False)

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    cancel = threading.Event()

    def _on_sigint(signum, frame):
        if cancel.is_set():  # a second Ctrl-C stops at once
            signal.signal(signal.SIGINT, signal.default_int_handler)
            raise KeyboardInterrupt
        cancel.set()
        err_console.print("cancelling: stopping the solves and writing the rows solved so far "
                          "(Ctrl-C again to stop at once)")

    previous = signal.signal(signal.SIGINT, _on_sigint)
    bar = Progress("[progress.description]{task.description}", BarColumn(),
                   MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                   disable=not console.is_terminal)
    # piped to a file or a CI log: plain lines on standard error instead of the bar
    plain = None if console.is_terminal else PlainProgress(None)

    def _progress(done, total):
        bar.update(task, completed=done, total=total)
        if plain is not None:
            plain({"stage": "sweep", "done": done, "total": total})

    try:
        with bar:
            task = bar.add_task("variants", total=None)
            result = run_sweep(scen, varies, serial=serial, scheduler=scheduler,
                               workers=workers, chunk_size=chunk_size, threads=threads,
                               progress=_progress,
                               cancel=cancel)
    except MdtplanError as err:
        raise _fail(err, f"{scenario}: cannot sweep") from None
    finally:
        signal.signal(signal.SIGINT, previous)
    written = write_sweep(result, out, name=scen.name)
    _print_sweep(result, unit=scen.travel.unit)
    console.print("Files: " + ", ".join(p.name for p in written.values()) + f" in {out}")
    statuses = [r["status"] for r in result.rows]
    if result.cancelled:
        err_console.print(f"cancelled: {statuses.count('cancelled')} variant(s) not solved")
        raise typer.Exit(EXIT_NO_SOLUTION)
    if result.solved:
        raise typer.Exit(EXIT_OK)
    if all(s == "infeasible" for s in statuses):
        raise typer.Exit(EXIT_INFEASIBLE)
    raise typer.Exit(EXIT_NO_SOLUTION)


def _fmt_value(v) -> str:
    if isinstance(v, float) and v == v and v.is_integer():
        return f"{v:,.0f}"
    return f"{v:g}" if isinstance(v, float) else str(v)


#: varied keys shown in pounds in the sweep table
_GBP_KEYS = ("budget.cap",)


def _print_sweep(result, limit: int = 60, unit: str = "minutes") -> None:
    """The sweep table (its first ``limit`` rows) with the varied keys first; each column
    says its unit (travel in the scenario's ``unit``)."""
    def num(v, fmt):
        return "—" if v is None or v != v else format(v, fmt)

    t = Table(title=f"Sweep: {len(result.rows)} variants, {result.solved} with a plan, "
                    f"{len(result.chunks)} chunk(s), {result.mode}")
    # the saving against today only when the scenario has a baseline
    saving = any(r.get("baseline_cost") is not None for r in result.rows)
    for col in (*result.keys, "status", "demand met", "total cost (£ a year)",
                *(("saving vs today (£ a year)",) if saving else ()), "hubs",
                f"travel mean ({unit})", "gap", "reused"):
        t.add_column(col, justify="left" if col == "status" else "right")
    for r in result.rows[:limit]:
        t.add_row(*[_fmt_gbp(r[k]) if k in _GBP_KEYS and isinstance(r[k], (int, float))
                    else _fmt_value(r[k]) for k in result.keys], str(r["status"]),
                  num(r["demand_met_share"], ".1%"), _fmt_gbp(r["total_cost"]),
                  *((_fmt_gbp(r.get("saving_vs_baseline")),) if saving else ()),
                  num(r["hubs_open"], "d"), num(r["travel_mean"], ".1f"),
                  num(r["mip_gap"], ".2%"), "yes" if r["reused"] else "no")
    console.print(t)
    if len(result.rows) > limit:
        console.print(f"... {len(result.rows) - limit} more rows in sweep.csv")
    failed = [r for r in result.rows if r["error"]
              and r["status"] not in ("optimal", "feasible_at_limit", "cancelled")]
    for r in failed[:10]:
        err_console.print(f"  variant {r['variant']} ({r['status']}): {r['error']}",
                          markup=False, highlight=False)
    if len(failed) > 10:
        err_console.print(f"  ... {len(failed) - 10} more without a plan: see sweep.csv")


@app.command()
def orlib(
    file: Annotated[Path, typer.Argument(
        metavar="FILE", help="An OR-Library pmed*.txt or cap*.txt file.")],
    out: Annotated[Path, typer.Option(
        "--out", metavar="FOLDER",
        help="Folder for the scenario (scenario.yaml and its tables).")],
    capacity: Annotated[float | None, typer.Option(
        "--capacity", metavar="UNITS", help="Warehouse capacity [demand units] for cap files "
        "whose capacity is a placeholder. Default: the file's own.")] = None,
) -> None:
    """Turn an OR-Library p-median or capacitated warehouse file into a scenario folder."""
    from .orlib import write_scenario

    if not file.is_file():
        err_console.print(f"{file}: file not found")
        raise typer.Exit(EXIT_INPUT)
    try:
        path = write_scenario(file, out, capacity=capacity)
    except MdtplanError as err:
        raise _fail(err, f"{file}: cannot convert") from None
    except ValueError as err:
        err_console.print(f"{file}: cannot read: {err}")
        raise typer.Exit(EXIT_INPUT) from None
    console.print(f"Scenario written to {path}; solve it with: mdtplan solve {path}")


def _benchmarks_main():
    """``benchmarks.__main__`` of the source checkout (the working folder or the one holding
    this ``mdtplan``); the suite is not part of the installed package."""
    import importlib

    for root in (Path.cwd().resolve(), Path(__file__).resolve().parents[1]):
        if (root / "benchmarks" / "__main__.py").is_file() and (root / "mdtplan").is_dir():
            if str(root) not in sys.path:
                sys.path.insert(0, str(root))
            module = importlib.import_module("benchmarks.__main__")
            if Path(module.__file__).resolve().parent == root / "benchmarks":
                return module
    err_console.print("mdtplan bench runs from a source checkout: the benchmarks/ folder is not "
                      "part of the installed package. Clone the repository and run "
                      "`mdtplan bench` (or `python -m benchmarks`) from its root.")
    raise typer.Exit(EXIT_ERROR)


@app.command()
def bench(
    quick: Annotated[bool, typer.Option(
        "--quick/--no-quick", help="A handful of small OR-Library instances, MDT S and "
                                   "resolve-XS, short limits.")] = False,
    only: Annotated[str | None, typer.Option(
        "--only", metavar="LIST",
        help="Comma-separated kinds (pmed,cap,mdt,kent,england,resolve) or instance names "
             "(pmed7, cap101, mdt-S, kent-lsoa, resolve-XS, ...). Default: every instance.")
    ] = None,
    out: Annotated[Path, typer.Option(
        "--out", metavar="FOLDER", help="Folder for results.csv, results.md and the plot.")
    ] = Path("out/bench"),
    threads: Annotated[int, typer.Option(
        "--threads", metavar="N", min=1, help="HiGHS threads per solve.")] = 1,
    seed: Annotated[int, typer.Option(
        "--seed", metavar="N", help="HiGHS random seed (and the synthetic models' seed).")] = 0,
    time_limit: Annotated[float | None, typer.Option(
        "--time-limit", metavar="SECONDS",
        help="Solver time limit [seconds] for every instance. Default: per kind (600 s "
             "OR-Library and England, 120 s MDT, 60 s Kent).")] = None,
    methods: Annotated[str, typer.Option(
        "--methods", metavar="LIST", help="Subset of floor,mdtplan,spopt,resolve (resolve "
                                          "runs on the resolve instances only).")
    ] = "floor,mdtplan,spopt,resolve",
    build_only: Annotated[bool, typer.Option(
        "--build-only/--no-build-only",
        help="Stop once each model is inside HiGHS (no solve).")] = False,
    shared: Annotated[Path | None, typer.Option(
        "--shared", metavar="FOLDER",
        help="The shared data and benchmarks folder. Default: ../shared beside the "
             "repository.")] = None,
    repeat: Annotated[int, typer.Option(
        "--repeat", metavar="N",
        help="Runs of each method where the first runs all took under 5 s; the run of median "
             "total time is kept.")] = 1,
) -> None:
    """Benchmarks (from a source checkout): mdtplan against the HiGHS floor and spopt.

    Same as `python -m benchmarks`; writes results.csv, results.md and cost_vs_size.png.
    """
    runner = _benchmarks_main()
    raise typer.Exit(runner.run(quick=quick, only=only, out=out, threads=threads, seed=seed,
                                time_limit=time_limit, methods=methods, build_only=build_only,
                                shared=shared, repeat=repeat))


def _register_service_commands() -> None:
    """``mdtplan serve``, ``mdtplan keys`` and ``mdtplan teams`` (the HTTP service lives in the
    ``api`` package)."""
    from api.cli import keys_app, serve_command, teams_app

    app.command("serve")(serve_command)
    app.add_typer(keys_app, name="keys")
    app.add_typer(teams_app, name="teams")


_register_service_commands()


def main() -> None:  # pragma: no cover
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("cancelled")
        sys.exit(EXIT_NO_SOLUTION)


if __name__ == "__main__":  # pragma: no cover
    main()
