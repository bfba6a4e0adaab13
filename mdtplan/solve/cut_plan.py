"""The rounding cuts in a solve: planned (made again only when the band or the demand scale
moved), made beside the heuristic start's search, added to HiGHS for the stages, and taken out
again (:class:`RoundingCuts`).

The cuts themselves (each hub's least rounding cost, the rows) are :mod:`mdtplan.solve.cuts`'s;
they are solver rows only, never part of the model of record.
"""

from __future__ import annotations

import highspy
import numpy as np

from ..model.families.lever_reach import lever_index
from . import cuts
from .budget import TimeBudget
from .job import Job
from .status import ProgressFn, SolveOptions

INF = highspy.kHighsInf


class RoundingCuts:
    """A session's rounding cuts: what the last solve's were (:attr:`report`), the rows made
    (kept while the band and the demand scale stay the same), and the rows in HiGHS now."""

    #: share of the time limit (and at most a fifth of what is left) the cuts' small MIPs
    #: may take
    CUT_SHARE = 0.15
    #: the cuts are made only when they could raise the bound by this share of the cost
    #: (:func:`mdtplan.solve.cuts.hub_floors`'s ``min_share``)
    CUT_MIN_SHARE = 5e-4

    def __init__(self):
        #: what the last solve's rounding cuts were: ``rows``, ``sites_solved``,
        #: ``sites_reused``, ``seconds``, ``reused_from_last_solve``, ``given_up`` (why the
        #: probe gave them up, or ""); None when none applied
        self.report: dict | None = None
        #: (key, rows, floors) of the rows last made
        self._cache: tuple | None = None
        #: how many cut rows are in HiGHS now (the last rows)
        self._rows = 0

    @property
    def rows(self) -> tuple | None:
        """The rows last made: ``(starts, index, value, lower)`` as for ``Highs.addRows``
        (:func:`mdtplan.solve.cuts.cut_rows`), or None."""
        return None if self._cache is None else self._cache[1]

    def plan(self, session, options: SolveOptions, budget: TimeBudget, cancel=None):
        """What this solve of ``session`` does about :mod:`mdtplan.solve.cuts`'s rows:
        ``None`` (none apply), ``"reuse"`` (the last solve's rows still hold: the band and the
        demand scale are unchanged), or a :class:`~mdtplan.solve.job.Job` that makes them.

        The job's time is granted when it runs: :attr:`CUT_SHARE` of the limit, at most a
        fifth of what is left; made while the heuristic start searches (``job.context
        ["search_s"]``, its grant), as long as the search's grant when that is longer, since
        the solve waits for the search anyway (Kent LSOA at 60 s: 12 s instead of 9 s; sharing
        the cores with the search, the cuts' pace would otherwise give them up there now and
        then)."""
        self.report = None
        source = session._source
        ix = getattr(source, "mdtplan_index", None)
        data = getattr(source, "mdtplan_data", None)
        # reproducible mode: no cuts (their small MIPs are timed, so they differ with load)
        if (not options.rounding_cuts or getattr(options, "reproducible", False)
                or not session.is_mip or ix is None or data is None
                or not cuts.applies(data, ix)):
            return None
        key = (session.param_value("hub_population_min"),
               session.param_value("hub_population_max"),
               float(session.param_value("demand_scale") or 1.0), not session.has_model)
        if self._cache is not None and self._cache[0] == key:
            return "reuse"
        open_col = session._family_columns("open_site", ix.site_ids)
        upper = np.where(open_col >= 0, session._compiled.col_upper[np.maximum(open_col, 0)],
                         0.0)
        assign_col = session._family_columns("assign", ix.pairs)
        staff_col = session._family_columns("fte_steps", ix.staff)
        levers = lever_index(data, ix)
        lever_col = (session._family_columns("lever_people", levers.keys)
                     if levers is not None and levers.keys else None)

        def make(stop):
            share = max(self.CUT_SHARE * float(options.time_limit_s),
                        float(job.context.get("search_s", 0.0)))
            seconds = budget.grant("rounding cuts", min(share, 0.2 * budget.left()))
            if seconds <= 0:
                return None
            floors = cuts.hub_floors(data, ix, scale=key[2], population_min=key[0],
                                     population_max=key[1], closed=upper < 0.5,
                                     seconds=seconds, min_share=self.CUT_MIN_SHARE, stop=stop,
                                     levers=levers)
            return key, cuts.cut_rows(floors, ix, data, open_col, assign_col, staff_col,
                                      levers, lever_col), floors

        job = Job(make, None if cancel is None else cancel.is_set)
        return job

    def add(self, highs, plan, budget: TimeBudget, progress: ProgressFn | None = None,
            stage: str = "") -> None:
        """Append the rows :meth:`plan` planned to ``highs`` for this solve (made now
        when they were not made during the heuristic start's search); ``stage`` names the
        first objective stage in the progress event."""
        if plan is None:
            return
        reused = plan == "reuse"
        if not reused:
            made = plan.result()
            if made is None:  # no time left for them
                return
            self._cache = made
        _, rows, floors = self._cache
        starts, index, value, lower = rows
        self.report = {"rows": 0, "sites_solved": floors.solved,
                       "sites_reused": floors.reused, "seconds": floors.seconds,
                       "reused_from_last_solve": reused, "given_up": floors.given_up}
        if len(starts):
            status = highs.addRows(len(starts), lower, np.full(len(starts), INF),
                                   len(index), starts, index, value)
            if status == highspy.HighsStatus.kError:  # pragma: no cover - guard
                return
            self._rows = self.report["rows"] = len(starts)
        if progress is not None and not reused and (len(starts) or floors.given_up):
            message = (f"rounding cuts: {len(starts)} hubs' least rounding cost "
                       f"({floors.seconds:.1f}s)" if len(starts) else
                       f"rounding cuts given up after {floors.seconds:.1f}s: "
                       f"{floors.given_up}")
            try:
                progress({"stage": "solve", "objective_stage": stage,
                          "event": "cuts", "primal": None, "dual": None, "gap": None,
                          "elapsed_s": budget.elapsed(), "nodes": 0, "message": message})
            except Exception:  # noqa: BLE001 - a progress sink must not stop the solve
                pass

    def remove(self, highs) -> None:
        """Take this solve's cut rows out of ``highs`` again (they are the last rows)."""
        if not self._rows:
            return
        n = int(highs.getNumRow())
        rows = np.arange(n - self._rows, n, dtype=np.int32)
        highs.deleteRows(len(rows), rows)
        self._rows = 0
