"""Solve the Pyomo model of record with HiGHS, through highspy directly.

The model is compiled once to matrices (:mod:`.compile`), or built straight from the data by
:mod:`mdtplan.model.matrix` (:meth:`Session.from_data`: the same arrays, the Pyomo model built
only on demand), and handed to HiGHS as numpy arrays. Owning the HiGHS object gives us progress
callbacks, cancellation, MIP starts and in-place re-solves, which :class:`Session` exposes;
:func:`solve` is the one-shot form.

Status is honest (:class:`SolveStatus`): the HiGHS model status is mapped before any value is
read, values are loaded into the Pyomo variables only when HiGHS holds a feasible solution, and
a cancelled solve *returns* (status ``feasible_at_limit`` when it had a plan, else
``no_solution``; ``cancelled=True``, message ``"cancelled"``) rather than raising, so the service
can keep the best plan found so far.

Objectives are lexicographic sequences of stages (see :mod:`mdtplan.model.objective`); each stage
is solved in turn in the same HiGHS object, warm-started from the previous stage's plan. The
first stage starts from a complete heuristic plan (:mod:`.start`), checked against every row
before HiGHS gets it. One time limit covers the whole solve (:class:`TimeBudget`).

Modules, one job each:

============== ================================================================================
``status``     :class:`SolveStatus`, :class:`SolveOptions`, :class:`SolveResult`, :func:`map_status`
``highs``      every HiGHS instance (:func:`~.highs.new_highs`), the thread pool, a session's
               handle (options, time limit, runs, callbacks, MIP starts)
``budget``     :class:`TimeBudget`, :func:`start_seconds`, :func:`cancelled_now`
``job``        work in a second thread beside the solve's own
``compile``    :func:`compile_model`, :func:`compile_differences`
``view``       :class:`ModelView`: a direct build's variables by component and member
``source``     where rows and columns come from: the Pyomo model, or the direct build before
               one exists (a session asks its source instead of branching on which it has)
``stages``     the lexicographic stage loop, holds, clean-up LPs, gaps
``edit``       in-place edits: the model of record changed, HiGHS kept in step
``reuse``      the proof that a re-solve needs no solver, told every edit
``mip_start``  which MIP start a solve uses, checked against every row
``start/``     the heuristic start itself (:func:`greedy_start`, :func:`~.start.build_start`)
``cuts``       the rounding cuts' numbers; ``cut_plan`` their life in a solve
``duals``      row duals and marginal values
``extract``    :func:`extract_tables`, :func:`tables_from_values`
``session``    :class:`Session` (coordinates the parts) and :func:`solve`
============== ================================================================================

Nothing here reads files or prints.
"""

from .budget import TimeBudget, cancelled_now, start_seconds
from .compile import INF, compile_differences, compile_model
from .extract import extract_tables, tables_from_values
from .session import Session, solve
from .start import greedy_start
from .status import ProgressFn, SolveOptions, SolveResult, SolveStatus, map_status
from .view import VAR_NAMES, ModelView

__all__ = [
    "INF", "VAR_NAMES", "ModelView", "ProgressFn", "Session", "SolveOptions", "SolveResult",
    "SolveStatus", "TimeBudget", "cancelled_now", "compile_differences", "compile_model",
    "extract_tables", "greedy_start", "map_status", "solve", "start_seconds",
    "tables_from_values",
]
