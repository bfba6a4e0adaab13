"""Re-solves that need no solver: a budget cap that provably changes nothing.

A session keeps one :class:`PlanReuse`. After a solve proven optimal at every stage it holds a
:class:`Proof` (the result, the budget row's bounds it was proven under, the stages' holds);
every in-place edit of the model is told to it as a typed :class:`ModelEdit`, and any edit but
a new value of the budget cap invalidates the proof at once, recording which edit did
(:attr:`PlanReuse.invalidated_by`; the edits since the proof are :attr:`PlanReuse.edits`). A
re-solve then returns the proven result again when the new cap provably leaves its plan
optimal (:meth:`PlanReuse.result_if_unchanged`), else it solves as usual.

The idea is a persistent solver's snapshot and diff (linopy's ``ModelSnapshot`` and
``ModelDiff``, with a reason for every rebuild), kept to the one diff mdtplan can prove
harmless.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from time import perf_counter

import highspy
import numpy as np

from .status import SolveOptions, SolveResult, SolveStatus

INF = highspy.kHighsInf


@dataclass(frozen=True)
class ModelEdit:
    """One in-place edit of a session's model (an entry of the model's diff).

    Attributes
    ----------
    kind : str
        ``"param"`` (:meth:`~mdtplan.solve.session.Session.set_param`), ``"rows"``
        (:meth:`~mdtplan.solve.session.Session.refresh`: rows re-derived from the Pyomo
        model), ``"constraint_bounds"``, ``"var_bounds"``, ``"column"`` (a column added to
        HiGHS) or ``"objective"`` (:meth:`~mdtplan.solve.session.Session.refresh_objective`).
    name : str
        The parameter, constraint(s) or variable edited.
    index : object, optional
        The member edited, for an indexed parameter or constraint (None: all of it).
    """

    kind: str
    name: str = ""
    index: object = None

    @property
    def keeps_proof(self) -> bool:
        """Whether a proven plan may outlive this edit: only a new value of the whole budget
        cap (``budget_cap_gbp``), which :meth:`PlanReuse.result_if_unchanged` then checks."""
        return self.kind == "param" and self.name == "budget_cap_gbp" and self.index is None

    def __str__(self) -> str:
        where = "" if self.index is None else f"[{self.index!r}]"
        return f"{self.kind} {self.name}{where}".strip()


@dataclass
class Proof:
    """A solve proven optimal at every stage, and what it was proven under.

    Attributes
    ----------
    result : SolveResult
    row : int
        The budget cap's HiGHS row.
    upper, lower : float
        The budget row's bounds the plan is proven under [GBP/year].
    held_at : dict
        Stage -> the bound it was held at for the later stages.
    mip_gap : float
        The relative gap it was proven within.
    """

    result: SolveResult
    row: int
    upper: float
    lower: float
    held_at: dict
    mip_gap: float


@dataclass
class PlanReuse:
    """A session's proof that its last plan still stands, and why there is none.

    Attributes
    ----------
    proof : Proof or None
    invalidated_by : ModelEdit or str
        Why there is no proof: the edit that invalidated it, or (a str) why the last solve
        left none ("no solve yet", "not proven optimal at every stage", "no budget cap").
    edits : list of ModelEdit
        The edits since the proof was made (all of them keep it while it stands).
    """

    proof: Proof | None = None
    invalidated_by: ModelEdit | str = "no solve yet"
    edits: list = field(default_factory=list)

    def edited(self, edit: ModelEdit) -> None:
        """Note an in-place edit of the model: the one place the proof is invalidated."""
        if self.proof is None:
            return
        self.edits.append(edit)
        if not edit.keeps_proof:
            self.proof, self.invalidated_by = None, edit

    def remember(self, result: SolveResult, held_at: dict, options: SolveOptions, *,
                 row: int | None, compiled, plan: np.ndarray | None, stage_count: int) -> None:
        """Keep what :meth:`result_if_unchanged` needs when ``result`` is proven at every
        stage; ``row`` is the budget cap's row (None: no cap), ``compiled`` the session's
        arrays, ``plan`` its last plan's column values."""
        self.proof, self.edits = None, []
        if row is None:
            self.invalidated_by = "no budget cap"
            return
        if (result.status != SolveStatus.optimal or result.cancelled or plan is None
                or len(result.stage_objectives) != stage_count
                or any(v != SolveStatus.optimal.value for v in result.stage_status.values())):
            self.invalidated_by = "not proven optimal at every stage"
            return
        self.proof = Proof(result=result, row=row, upper=float(compiled.row_upper[row]),
                           lower=float(compiled.row_lower[row]), held_at=dict(held_at),
                           mip_gap=float(options.mip_gap))
        self.invalidated_by = ""

    def result_if_unchanged(self, options: SolveOptions, t_start: float, *, compiled, highs,
                            plan: np.ndarray, stages: list) -> SolveResult | None:
        """The last result again, when the only change since it was proven is the budget cap
        and that provably leaves its plan optimal at every stage (within the same gap).

        With ``x`` the proven plan (``plan``), ``b`` the cap it was proven under and ``b'``
        the new one (both as the budget row's upper bound), ``B(x)`` the budget row's
        activity:

        * ``b' < b``: the plans allowed now are a subset of those then; if ``B(x) <= b'``
          the plan is still allowed, so it is still the best at every stage (and every bound
          proven then still holds).
        * ``b' > b``: the new plans all have ``B > b``. Stage ``i`` keeps its optimum when
          (a) an earlier stage ``j`` costs at least ``B`` (its cost vector minus the budget
          row's is non-negative on non-negative columns) and was held at ``h_j <= b + offset``,
          so no new plan enters stage ``i``; or (b) stage ``i`` itself costs at least ``B``
          and its value is at most ``b + offset``, so every new plan is worse; or (c) its value
          is the least its cost vector can take on the column bounds.

        Returns None (solve as usual) in every other case. ``compiled`` and ``highs`` are the
        session's arrays and HiGHS instance, ``stages`` its ``(stage, cost vector, offset,
        hold)`` list, ``t_start`` when the solve call began (``perf_counter`` [s]).
        """
        proof = self.proof
        if proof is None or float(options.mip_gap) < proof.mip_gap:
            return None
        k, row = compiled, proof.row
        upper, lower = float(k.row_upper[row]), float(k.row_lower[row])
        if lower != proof.lower:
            return None
        x = np.asarray(plan, float)  # the proven plan: only a solve changes it
        n = len(k.col_lower)
        x = np.pad(x, (0, max(0, n - len(x))))[:n]
        _, cols, vals = highs.getRowEntries(row)
        a = np.zeros(n)
        a[np.asarray(cols, dtype=np.int64)] = np.asarray(vals, dtype=float)
        old = proof.upper
        result = proof.result
        if upper < old:
            ok = float(a @ x) <= upper + 1e-9 * max(1.0, abs(upper))
        elif upper > old:
            ok = _stages_keep_optimum(k, stages, a, old, result, proof.held_at)
        else:
            ok = True
        if not ok:
            return None
        proof.upper = upper  # proven under the new cap now
        return replace(result, solve_seconds=perf_counter() - t_start, build_seconds=None,
                       compile_seconds=0.0, highs_run_seconds=0.0, load_seconds=0.0,
                       node_count=0, cuts_seconds=0.0,
                       message=f"{result.message} (the previous plan: proven unchanged by the "
                               f"new budget cap, no solver run)")


def _stages_keep_optimum(compiled, stages: list, a: np.ndarray, old_upper: float,
                         result: SolveResult, held_at: dict) -> bool:
    """Case ``b' > b`` of :meth:`PlanReuse.result_if_unchanged`: (a), (b) or (c) for every
    stage."""
    k = compiled
    n = len(k.col_lower)
    lo, hi = k.col_lower[:n], k.col_upper[:n]
    shut_out = False  # an earlier stage's hold keeps every new plan out
    for stage, vec, off, _ in stages:
        v = np.pad(vec, (0, n - len(vec)))[:n]
        value = float(result.stage_objectives[stage])
        diff = v - a
        costs_at_least_budget = bool(np.all(diff >= -1e-12)
                                     and np.all(lo[diff > 1e-12] >= 0))
        least = (np.where(v > 0, lo, 0.0) @ v + np.where(v < 0, hi, 0.0) @ v
                 if np.all(np.isfinite(lo[v > 0])) and np.all(np.isfinite(hi[v < 0]))
                 else -INF) + off
        tol = 1e-9 * max(1.0, abs(value))
        if not (shut_out or (costs_at_least_budget and value <= old_upper + off + tol)
                or value <= least + tol):
            return False
        held = held_at.get(stage)
        if costs_at_least_budget and held is not None and held < old_upper + off:
            shut_out = True
    return True
