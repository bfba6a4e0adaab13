"""Sweeps: a grid of scenario variants, solved in chunks on Dask (or in this process).

``mdtplan sweep SCENARIO --vary KEY=START:STOP:N [--vary ...]`` (CONTRACT §1). This module only
turns ``--vary`` texts into a grid of scenario overrides, cuts the grid into chunks and hands
each chunk to :func:`mdtplan.variants.run_variants`; it holds no model logic.

* **Grid.** Each ``--vary`` gives one key's values: ``KEY=START:STOP:N`` (``N`` evenly spaced
  values, both ends included; integers stay integers for integer keys such as
  ``hubs.count.max``) or ``KEY=a,b,c``. The grid is their cartesian product, the last
  ``--vary`` changing fastest; rows keep that order.
* **Chunks.** Variants that one built model can serve (same :func:`~mdtplan.variants.
  structure_key`: they differ only in ``budget.cap``, ``hubs.count.*``, ``hubs.population.*``,
  ``demand.scale`` and ``solver.*``) are grouped, sorted so that each run of equal other
  numbers has its budget caps ascending (each plan stays feasible for the next, larger cap, so
  it is a warm start), and cut into chunks of at most ``chunk_size``. The chunks depend on the
  grid only, never on the number of workers: a ``--serial`` run solves the same chunks in the
  same order and gives the same table.
* **Tasks.** Each Dask task runs one chunk from the scenario document and the chunk's
  overrides (plain data, never Pyomo objects) and returns its table rows. One failed variant
  is reported in its row (``status``, ``error``); the others go on.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import signal
import threading
import time
import types
import typing
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import Problem, ScenarioError
from .scenario import parse_value

#: table columns after the varied keys (CONTRACT §1 sweep table)
COLUMNS = ("status", "objective", "total_cost", "demand_met_share", "unmet_hours", "hubs_open",
           "travel_mean", "travel_max", "mip_gap", "solve_seconds", "reused", "chunk", "error",
           "baseline_cost", "saving_vs_baseline", "model_savings")
#: statuses of a variant with a plan
PLAN_STATUSES = ("optimal", "feasible_at_limit")
#: most variants one sweep may hold
MAX_VARIANTS = 10_000
STOP_GRACE_S = 30.0
"""How long an interrupted Dask sweep waits for its running chunks to hand back what they
solved before abandoning them [s] (a chunk stops within a second or two of being told)."""

_HINT = ("write it as KEY=START:STOP:N (N evenly spaced values, e.g. budget.cap=20e6:30e6:11) "
         "or KEY=a,b,c (e.g. hubs.count.max=8,10,12)")

ProgressFn = Callable[[int, int], None]


# --------------------------------------------------------------------------------------------
# --vary


@dataclass(frozen=True)
class Vary:
    """One ``--vary``: a scenario key and the values it takes.

    Attributes
    ----------
    key : str
        Dotted scenario key (``budget.cap``).
    values : tuple
        The values, in the order given.
    text : str
        The ``--vary`` text as written (for messages).
    """

    key: str
    values: tuple
    text: str


def parse_vary(text: str) -> Vary:
    """Parse ``KEY=START:STOP:N`` or ``KEY=a,b,c``.

    Examples
    --------
    >>> parse_vary("budget.cap=20e6:30e6:3").values
    (20000000.0, 25000000.0, 30000000.0)
    >>> parse_vary("hubs.count.max=8:12:3").values
    (8, 10, 12)
    >>> parse_vary("objective=min_cost,max_demand_met").values
    ('min_cost', 'max_demand_met')

    Raises
    ------
    ScenarioError
        The text is malformed (the problem names it and says how to write it).
    """
    def fail(message: str, hint: str = _HINT) -> ScenarioError:
        return ScenarioError([Problem(None, None, "--vary", f"'{text}': {message}", hint)])

    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep:
        raise fail("no '=' between the key and its values")
    if not key or any(not part.strip() for part in key.split(".")):
        raise fail("the key is empty or has an empty part")
    raw = raw.strip()
    if not raw:
        raise fail("no values after '='")
    if "," in raw:
        items = [item.strip() for item in raw.split(",")]
        if any(not item for item in items):
            raise fail("an empty value in the list (two commas, or one at an end)")
        values = tuple(parse_value(item) for item in items)
    elif ":" in raw and all(_is_number(p) or not p.strip() for p in raw.split(":")):
        values = _linspace(key, raw, fail)
    else:
        values = (parse_value(raw),)
    seen = set()
    for v in values:
        marker = repr(v)
        if marker in seen:
            raise fail(f"the value {v!r} is listed twice", "give each value once")
        seen.add(marker)
    return Vary(key, values, text)


def _linspace(key: str, raw: str, fail) -> tuple:
    parts = raw.split(":")
    if len(parts) != 3 or any(not p.strip() for p in parts):
        raise fail("a range needs exactly START:STOP:N")
    start, stop = float(parts[0]), float(parts[1])
    try:
        n = int(parts[2])
    except ValueError:
        raise fail(f"N must be a whole number of values, not '{parts[2].strip()}'") from None
    if n < 1:
        raise fail(f"N must be 1 or more, not {n}")
    if n > MAX_VARIANTS:
        raise fail(f"N = {n} is more than {MAX_VARIANTS:,} values")
    if n == 1:
        values = [start]
    else:
        step = (stop - start) / (n - 1)
        values = [start + i * step for i in range(n - 1)] + [stop]
    if _is_integer_key(key):
        rounded = [round(v) for v in values]
        if any(abs(v - r) > 1e-9 * max(1.0, abs(v)) for v, r in zip(values, rounded,
                                                                     strict=True)):
            raise fail(f"{key} takes whole numbers, but {n} values from {parts[0].strip()} to "
                       f"{parts[1].strip()} are not whole",
                       "choose N so that (STOP - START) / (N - 1) is whole, or list the "
                       "values: KEY=a,b,c")
        return tuple(int(r) for r in rounded)
    return tuple(float(v) for v in values)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_integer_key(key: str) -> bool:
    """Whether the scenario schema types ``key`` as a whole number (e.g. ``hubs.count.max``)."""
    from pydantic import BaseModel

    from .scenario import Scenario

    model: type = Scenario
    annotation = None
    for part in key.split("."):
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return False
        info = model.model_fields.get(part)
        if info is None:
            return False
        annotation = info.annotation
        model = _unwrap(annotation)
    return model is int


def _unwrap(annotation):
    """The type inside ``Annotated[...]`` / ``X | None``, or the annotation itself."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) == 1:
                annotation = args[0]
                continue
        return annotation


def build_grid(varies: list[Vary]) -> list[dict]:
    """The cartesian product of the ``--vary`` values, last key changing fastest.

    Examples
    --------
    >>> build_grid([parse_vary("a.b=1,2"), parse_vary("c=x,y")])
    [{'a.b': 1, 'c': 'x'}, {'a.b': 1, 'c': 'y'}, {'a.b': 2, 'c': 'x'}, {'a.b': 2, 'c': 'y'}]
    """
    keys = [v.key for v in varies]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    if dup:
        raise ScenarioError([Problem(None, None, "--vary", f"the key {k} is varied twice",
                                     "give each key one --vary (list every value in it)")
                             for k in dup])
    if not varies:
        raise ScenarioError([Problem(None, None, "--vary", "nothing to vary", _HINT)])
    size = math.prod(len(v.values) for v in varies)
    if size > MAX_VARIANTS:
        raise ScenarioError([Problem(None, None, "--vary",
                                     f"the grid has {size:,} variants, more than "
                                     f"{MAX_VARIANTS:,}", "vary fewer keys or fewer values")])
    return [dict(zip(keys, combo, strict=True))
            for combo in itertools.product(*(v.values for v in varies))]


def _describe(overrides: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in overrides.items())


# --------------------------------------------------------------------------------------------
# Chunks


def validate_variants(scenario, grid: list[dict]) -> list:
    """Each variant's :class:`~mdtplan.scenario.Scenario`, or its ``ScenarioError``.

    Raises
    ------
    ScenarioError
        When no variant is valid: every distinct problem, naming the key and the variant.
    """
    from .variants import variant_scenario

    out: list = []
    for overrides in grid:
        try:
            out.append(variant_scenario(scenario, overrides))
        except ScenarioError as err:
            out.append(err)
    if grid and all(isinstance(v, ScenarioError) for v in out):
        problems, seen = [], set()
        for overrides, err in zip(grid, out, strict=True):
            for p in err.problems:
                if (p.column, p.message) in seen:
                    continue
                seen.add((p.column, p.message))
                row = "every variant" if len(grid) == 1 or _same_problem_everywhere(
                    out, p) else f"variant {_describe(overrides)}"
                problems.append(Problem(scenario.base_dir, row, p.column, p.message,
                                        p.hint or "check the --vary keys and values against "
                                                  "the scenario reference (docs/reference/scenario.md)"))
        raise ScenarioError(problems)
    return out


def _same_problem_everywhere(errors: list, problem: Problem) -> bool:
    return all(any((q.column, q.message) == (problem.column, problem.message)
                   for q in err.problems) for err in errors)


def plan_chunks(variants: list, chunk_size: int) -> list[list[int]]:
    """Cut the valid variants (indices into ``variants``) into chunks that share a model.

    Variants are grouped by :func:`~mdtplan.variants.structure_key` (groups in order of first
    appearance), sorted within a group by their in-place numbers with the budget cap last
    (so that each run of otherwise equal variants has ascending caps), and cut into pieces of
    at most ``chunk_size``. Invalid variants (``ScenarioError``) are in no chunk. The result
    depends on the variants alone, never on the number of workers.

    Examples
    --------
    Ten caps of one structure, chunks of four: ``[[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]``.
    """
    from .variants import in_place_values, structure_key

    if chunk_size < 1:
        raise ScenarioError([Problem(None, None, "--chunk-size",
                                     f"the chunk size must be 1 or more, not {chunk_size}")])
    groups: dict[str, list[int]] = {}
    for i, scenario in enumerate(variants):
        if isinstance(scenario, ScenarioError):
            continue
        groups.setdefault(structure_key(scenario), []).append(i)

    def order(i: int) -> tuple:
        values = in_place_values(variants[i])
        ranked = [k for k in values if k != "budget_cap_gbp"] + ["budget_cap_gbp"]
        return tuple(-math.inf if values[k] is None else float(values[k]) for k in ranked) \
            + (i,)

    chunks = []
    for members in groups.values():
        members = sorted(members, key=order)
        chunks += [members[k:k + chunk_size] for k in range(0, len(members), chunk_size)]
    return chunks


# --------------------------------------------------------------------------------------------
# One chunk (what a Dask task runs)


def run_chunk(document: dict, base_dir: str | None, items: list[tuple[int, dict]], chunk: int,
              keep_plans: bool = False, cancel: threading.Event | None = None,
              stop_event: str | None = None) -> list[dict]:
    """Solve one chunk of variants, re-using one built model; return their table rows.

    Parameters
    ----------
    document : dict
        The base scenario document (``Scenario.to_dict()``, paths absolute).
    base_dir : str or None
        The base scenario's folder.
    items : list of (int, dict)
        (variant number, overrides) in solve order.
    chunk : int
        The chunk's number (reported in each row).
    keep_plans : bool
        Also return each plan's tables (``assignment``, ``hubs``, ``staffing``).
    cancel : threading.Event, optional
        Set it to stop (in-process runs only).
    stop_event : str, optional
        On a Dask worker: the name of a ``distributed.Event`` the sweep sets to stop; it is
        watched like ``cancel``, so an interrupted chunk still returns the variants it solved.

    Returns
    -------
    list of dict
        ``{"variant": int, "row": dict, "plan": dict or None}`` per item, in ``items`` order.
        With ``finance.baseline`` in the scenario, each row with a plan has
        ``baseline_cost`` and ``saving_vs_baseline`` (:func:`_baseline_costs`).
    """
    from .scenario import parse_scenario
    from .variants import run_variants

    scenario = parse_scenario(document, base_dir=base_dir)
    watcher = None
    if stop_event is not None:
        cancel = cancel or threading.Event()
        watcher = _watch_distributed_event(stop_event, cancel)
    try:
        runs = run_variants(scenario, [overrides for _, overrides in items], cancel=cancel)
    finally:
        if watcher is not None:
            watcher.set()
    baselines = _baseline_costs(runs, cancel)
    out = []
    for (index, overrides), run, baseline in zip(items, runs, baselines, strict=True):
        plan = _plan_tables(run) if keep_plans else None
        row = _row(index, overrides, run, chunk)
        cost, problem = baseline
        if cost is not None and row["total_cost"] is not None:
            row.update(baseline_cost=cost, saving_vs_baseline=cost - row["total_cost"])
        elif problem:
            row["error"] = "; ".join(e for e in (row["error"], problem) if e)
        out.append({"variant": index, "row": row, "plan": plan})
    return out


def _watch_distributed_event(name: str, cancel: threading.Event) -> threading.Event:
    """Set ``cancel`` when the Dask ``Event`` ``name`` is set (polled twice a second by a
    daemon thread); set the returned event to stop watching."""
    from distributed import Event

    done = threading.Event()
    remote = Event(name)

    def watch() -> None:
        while not done.is_set():
            try:
                if remote.is_set():
                    cancel.set()
                    return
            except Exception:  # noqa: BLE001 - the scheduler gone: the sweep is over
                return
            done.wait(0.5)

    threading.Thread(target=watch, name=f"watch-{name}", daemon=True).start()
    return done


def _baseline_costs(runs: list, cancel: threading.Event | None = None) -> list[tuple]:
    """(today's annual cost, problem) per variant: ``finance.baseline`` evaluated once per
    model structure (:func:`mdtplan.variants.structure_key`).

    Today's staff and sites are fixed by the workforce table, so the baseline's cost does not
    move with what sweeps change in place (budget cap, hub count and band; demand scale
    changes only how much of the demand today's staff meet), except that with staff travel
    today's visits, and so their mileage, grow with the demand: then each demand scale is
    evaluated on its own. ``(None, None)`` where the
    variant has no plan or its scenario no ``finance.baseline``; ``(None, text)`` when the
    baseline could not be evaluated (the text says why).
    """
    from .appraisal.baseline import evaluate_baseline
    from .errors import MdtplanError
    from .variants import structure_key

    cache: dict[str, tuple] = {}
    out: list[tuple] = []
    for run in runs:
        scenario = run.scenario
        summary = run.result.results.summary if run.result is not None else None
        if (summary is None or summary.costs.total_gbp is None or scenario is None
                or scenario.finance is None or scenario.finance.baseline is None
                or (cancel is not None and cancel.is_set())):
            out.append((None, None))
            continue
        key = structure_key(scenario)
        if scenario.travel.staff_travel:  # mileage is paid on the visits the demand makes
            key += f"|demand.scale={scenario.demand.scale!r}"
        if key not in cache:
            try:
                baseline = evaluate_baseline(run.result.prepared)
                cache[key] = (float(baseline.summary.costs.total_gbp), None)
            except MdtplanError as err:
                cache[key] = (None, f"baseline not evaluated: {err}")
        out.append(cache[key])
    return out


def _row(index: int, overrides: dict, run, chunk: int | None) -> dict:
    row: dict = {"variant": index, **overrides}
    summary = run.result.results.summary if run.result is not None else None
    has_plan = summary is not None and summary.costs.total_gbp is not None
    report = summary.report if summary is not None else None
    row.update(
        status=run.status,
        objective=report.objective if has_plan else None,  # no plan: no objective
        total_cost=summary.costs.total_gbp if has_plan else None,
        demand_met_share=summary.demand.met_share if has_plan else None,
        unmet_hours=(float(sum(summary.demand.unmet_hours_by_role.values())) if has_plan
                     else None),
        hubs_open=int(summary.hubs.count) if has_plan else None,
        travel_mean=summary.travel.mean if has_plan else None,
        travel_max=summary.travel.max if has_plan else None,
        mip_gap=report.mip_gap if has_plan else None,
        solve_seconds=report.solve_seconds if report is not None else None,
        model_savings=_model_savings(run) if has_plan else None,
        reused=bool(run.reused),
        chunk=chunk,
        error=run.error,
    )
    return row


def _model_savings(run) -> float | None:
    """The cell's savings made by the model, most likely [GBP/year] (None without levers):
    against the cap of a budget sweep, what each extra pound of staffing budget returns."""
    prepared = run.result.prepared
    if prepared is None or prepared.data.levers is None or run.result.results.levers is None:
        return None
    from .appraisal.levers import model_savings

    made = model_savings(prepared, run.result.results)
    return None if made is None else float(made.total["most_likely"])


def _plan_tables(run) -> dict | None:
    """The plan's decisions as the tables ``tests/checker.py`` reads, or ``None``."""
    import pandas as pd

    if run.result is None or run.result.results.summary.costs.total_gbp is None:
        return None
    res = run.result.results
    keep = ["unit", "role", "fte", "agency_fte", "unmet_hours", "demand_hours"]
    if res.levers is not None:
        keep.append("lever_hours")
    staffing = res.staffing[keep].reset_index(drop=True)
    out = {"assignment": res.assignment[["area_id", "site_id", "share"]].reset_index(drop=True),
           "hubs": pd.DataFrame({"site_id": res.hubs["site_id"].astype(str), "open": True}),
           "staffing": staffing}
    if res.levers is not None:
        out["levers"] = res.levers.reset_index(drop=True)
    return out


# --------------------------------------------------------------------------------------------
# The sweep


@dataclass(frozen=True)
class SweepResult:
    """A finished (or cancelled) sweep.

    Attributes
    ----------
    keys : tuple of str
        The varied keys, in ``--vary`` order.
    rows : list of dict
        One row per variant, in grid order: ``variant``, the varied keys, then
        :data:`COLUMNS`.
    chunks : list of list of int
        The variants of each chunk, in solve order.
    mode : str
        ``serial``, ``local`` (a LocalCluster started here) or the scheduler's address.
    cancelled : bool
    plans : dict
        Variant -> plan tables, when asked for (``keep_plans``).
    """

    keys: tuple[str, ...]
    rows: list[dict]
    chunks: list[list[int]]
    mode: str
    cancelled: bool = False
    plans: dict[int, dict] = field(default_factory=dict)

    def table(self):
        """The rows as a DataFrame (columns ``variant``, the keys, then :data:`COLUMNS`)."""
        import pandas as pd

        return pd.DataFrame(self.rows, columns=["variant", *self.keys, *COLUMNS])

    @property
    def solved(self) -> int:
        """How many variants have a plan."""
        return sum(r["status"] in PLAN_STATUSES for r in self.rows)


def run_sweep(scenario, varies: list[Vary], *, serial: bool = False,
              scheduler: str | None = None, client=None, workers: int | None = None,
              chunk_size: int = 8, threads: int | None = 1, keep_plans: bool = False,
              progress: ProgressFn | None = None,
              cancel: threading.Event | None = None) -> SweepResult:
    """Solve the grid of ``varies`` over ``scenario`` (CONTRACT §1 ``mdtplan sweep``).

    Parameters
    ----------
    scenario : Scenario
        The base scenario (``--set`` overrides already applied).
    varies : list of Vary
        From :func:`parse_vary`.
    serial : bool
        No Dask: solve the chunks one after another in this process (same chunks, same order,
        same table).
    scheduler : str, optional
        A Dask scheduler address (``tcp://host:port``); its workers must see the scenario's
        files at the same paths and have mdtplan installed. Default: a ``LocalCluster`` of
        ``workers`` processes with one thread each, closed at the end.
    client : distributed.Client, optional
        An existing client to use (and leave open) instead.
    workers : int, optional
        LocalCluster worker processes (default: the machine's cores, at most one per chunk).
    chunk_size : int
        Most variants per chunk (one built model each).
    threads : int or None
        HiGHS threads per solve (default 1: the workers are the parallelism); ``None`` keeps
        the scenario's ``solver.threads``.
    keep_plans : bool
        Keep each plan's tables in :attr:`SweepResult.plans` (for checking them).
    progress : callable, optional
        ``progress(variants_done, variants_total)`` as chunks complete.
    cancel : threading.Event, optional
        Set it to stop: running solves return what they have (in-process) or are abandoned
        (Dask); unfinished variants are ``cancelled``.

    Raises
    ------
    ScenarioError
        A malformed ``--vary`` or no valid variant (every problem named).
    """
    if threads is not None:
        from .variants import variant_scenario

        scenario = variant_scenario(scenario, {"solver.threads": int(threads)})
    grid = build_grid(varies)
    keys = tuple(v.key for v in varies)
    variants = validate_variants(scenario, grid)
    chunks = plan_chunks(variants, chunk_size)
    rows: list[dict | None] = [None] * len(grid)
    for i, v in enumerate(variants):
        if isinstance(v, ScenarioError):
            rows[i] = {"variant": i, **grid[i], "status": "invalid", "reused": False,
                       "error": "; ".join(str(p) for p in v.problems)}
    document = scenario.to_dict()
    tasks = [(c, [(i, grid[i]) for i in members]) for c, members in enumerate(chunks)]
    total = len(grid)
    state = {"done": sum(r is not None for r in rows)}
    plans: dict[int, dict] = {}

    def collect(items: list[dict]) -> None:
        for item in items:
            rows[item["variant"]] = item["row"]
            if item["plan"] is not None:
                plans[item["variant"]] = item["plan"]
        state["done"] += len(items)
        if progress is not None:
            progress(state["done"], total)

    if progress is not None:
        progress(state["done"], total)
    if serial:
        mode = "serial"
        for c, items in tasks:
            if cancel is not None and cancel.is_set():
                break
            collect(run_chunk(document, scenario.base_dir, items, c, keep_plans, cancel))
    else:
        mode = scheduler or ("client" if client is not None else "local")
        _run_on_dask(tasks, document, scenario.base_dir, keep_plans, collect, client=client,
                     scheduler=scheduler, workers=workers, cancel=cancel)
    cancelled = bool(cancel is not None and cancel.is_set())
    for c, items in tasks:
        for i, overrides in items:
            if rows[i] is None:
                rows[i] = {"variant": i, **overrides, "status": "cancelled", "reused": False,
                           "chunk": c, "error": "cancelled before it was solved"}
    full = [{**dict.fromkeys(["variant", *keys, *COLUMNS]), **r} for r in rows]
    return SweepResult(keys, full, chunks, mode, cancelled, plans)


def _run_on_dask(tasks, document, base_dir, keep_plans, collect, *, client, scheduler,
                 workers, cancel) -> None:
    """Submit one task per chunk and collect rows as they complete (``as_completed``)."""
    import logging
    import os

    from distributed import Client, LocalCluster, as_completed

    if not tasks:
        return
    own_client, cluster = client is None, None
    if client is None:
        if scheduler:
            try:
                client = Client(scheduler, timeout="20s")
            except (OSError, TimeoutError) as err:
                raise ScenarioError([Problem(None, None, "--scheduler",
                                             f"cannot reach the Dask scheduler at "
                                             f"{scheduler}: {err}",
                                             "check the address (tcp://host:port) and that "
                                             "the scheduler is running, or leave --scheduler "
                                             "out for a local cluster")]) from None
        else:
            n = workers or os.cpu_count() or 1
            with _workers_ignore_sigint():
                cluster = LocalCluster(n_workers=max(1, min(n, len(tasks))),
                                       threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=logging.ERROR)
            client = Client(cluster)
    from distributed import Event

    token = uuid.uuid4().hex[:8]
    stop = Event(f"mdtplan-sweep-{token}-stop", client=client)
    futures = {}
    stopping_since = None
    try:
        for c, items in tasks:
            future = client.submit(run_chunk, document, base_dir, items, c, keep_plans,
                                   stop_event=stop.name,
                                   key=f"mdtplan-sweep-{token}-chunk-{c}", pure=False)
            futures[future] = (c, items)
        pending = as_completed(list(futures))
        while not pending.is_empty():
            if cancel is not None and cancel.is_set() and stopping_since is None:
                # tell the chunks to stop: each returns what it has solved (and its unsolved
                # variants as cancelled) rather than being thrown away
                stop.set()
                stopping_since = time.monotonic()
            if stopping_since is not None and time.monotonic() - stopping_since > STOP_GRACE_S:
                client.cancel([f for f in futures if not f.done()])
                break
            if not pending.has_ready():
                time.sleep(0.05)
                continue
            for future in pending.next_batch(block=False):
                c, items = futures[future]
                try:
                    collect(future.result())
                except Exception as err:  # noqa: BLE001 - a lost chunk is reported in its rows
                    collect([_failed(i, overrides, c, err) for i, overrides in items])
    finally:
        if own_client:
            client.close()
        if cluster is not None:
            cluster.close()


@contextlib.contextmanager
def _workers_ignore_sigint():
    """Start worker processes with Ctrl-C ignored (they inherit it): the terminal sends SIGINT
    to the whole process group, and the sweep, not each worker, decides what it means."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _failed(index: int, overrides: dict, chunk: int, err: BaseException) -> dict:
    row = {"variant": index, **overrides, "status": "error", "reused": False, "chunk": chunk,
           "error": f"the chunk's task failed: {type(err).__name__}: {err}"}
    return {"variant": index, "row": row, "plan": None}


# --------------------------------------------------------------------------------------------
# Files


def write_sweep(result: SweepResult, out: str | Path, *, name: str = "sweep") -> dict[str, Path]:
    """Write ``sweep.csv``, ``sweep.json``, ``frontier.png`` and ``frontier.html`` in ``out``.

    Returns
    -------
    dict of str -> Path
        What was written, by kind (``csv``, ``json``, ``png``, ``html``).
    """
    import json

    from .outputs.plots import frontier, plot_frontier
    from .summary import jsonable

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = result.table()
    written = {"csv": out / "sweep.csv", "json": out / "sweep.json"}
    table.to_csv(written["csv"], index=False)
    front = frontier(table, list(result.keys))
    doc = {"name": name, "vary": list(result.keys), "mode": result.mode,
           "cancelled": result.cancelled, "chunks": result.chunks,
           "frontier": front.to_dict() if front is not None else None,
           "rows": result.rows}
    written["json"].write_text(json.dumps(jsonable(doc), indent=2) + "\n", encoding="utf-8")
    written.update(plot_frontier(table, list(result.keys), out / "frontier.png",
                                 out / "frontier.html", title=name))
    return written
