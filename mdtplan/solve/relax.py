r"""A presolve of mdtplan's own: single assignment solved as continuous where that is provably
exact, and the plan rounded back to one hub per area.

Under ``hubs.assignment: single`` every ``assign[a, s]`` is binary. When nothing but
``area_served_once`` (:math:`\sum_s x_{a,s} = 1`), ``assign_only_open``
(:math:`x_{a,s} \le y_s`) and the objective's stages read the assignment -- no population
band, capacity, staffing or demand row, contiguity, own-area rule, travel bound, shortfall
spread, locality or lever -- the binaries are not needed: for any open hubs :math:`y`, the
assignments form a product of simplices (one per area, over its open hubs), whose vertices are
integral, and every stage prices the assignment by one vector :math:`g` (travel, weighted)
times a non-negative factor. So:

1. HiGHS is given ``assign`` continuous in [0, 1] (the p-median's textbook form: 250,000
   binaries fewer on a 500-node instance, and HiGHS's presolve several seconds shorter);
2. after each stage's solve, :func:`round_plan` sends each area to the hub of least :math:`g`
   among the open hubs it is assigned to in part (ties: the first in the index's pair order).

Why the rounded plan is as good (stage by stage): it still serves each area once and only from
open hubs; every row and stage that reads the assignment reads :math:`\beta\, g^\top x` with
:math:`\beta \ge 0`, and moving an area's whole share to its least-:math:`g` hub among those it
uses does not raise :math:`g^\top x`; so every hold still holds and no stage's value rises. The
relaxed model's optimum is a lower bound on the binary one's, so the rounded plan is optimal for
the binary model too.

The condition is read from the problem HiGHS is given (:func:`plan_relaxation`), not from the
scenario's name: every row with an ``assign`` term must be one of

- a *partition* row: only ``assign`` terms, all with the same coefficient :math:`c > 0`, and
  both bounds :math:`c` (each ``assign`` column in exactly one);
- a *link* row: one ``assign`` term :math:`a > 0` and one integer column in [0, 1] at
  :math:`-a`, at most 0;
- a *priced* row: at most an upper bound, its ``assign`` terms :math:`\beta g`, :math:`\beta
  \ge 0` (the lexicographic holds);

every stage's cost on ``assign`` must be :math:`\alpha g`, :math:`\alpha \ge 0`; ``assign``'s
bounds must be 0 or 1; and no rounding cut is in the solve. Anything else (a rule family whose
rows read the assignment) leaves the binaries as they are, and the report names it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import highspy
import numpy as np
import scipy.sparse as sp

INF = highspy.kHighsInf
log = logging.getLogger(__name__)

#: relative tolerance when comparing coefficients (they are copied from the same numbers)
_RTOL = 1e-9
#: an assignment share counts as positive above this
_POSITIVE = 1e-6


@dataclass
class Relaxation:
    """What :func:`plan_relaxation` found for a session's current problem.

    Attributes
    ----------
    relaxed : bool
        Whether ``assign`` is continuous in HiGHS for this solve.
    reason : str
        Why (or why not), in words for the log.
    columns : ndarray of int
        The ``assign`` columns made continuous (empty when not relaxed).
    group : ndarray of int
        Each such column's partition row, numbered 0.. (areas).
    open_col : ndarray of int
        Each such column's hub column (``open_site``).
    g : ndarray
        The price of each such column that every stage and priced row is a multiple of.
    rounded : int
        Areas whose share was moved by the last :func:`round_plan` (all solves of the
        session).
    objective_change : float
        The largest rise of any stage's value a rounding caused (0 by the proof; a negative
        number is a fall within HiGHS's tolerances).
    """

    relaxed: bool = False
    reason: str = ""
    columns: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    group: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    open_col: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    g: np.ndarray = field(default_factory=lambda: np.zeros(0))
    rounded: int = 0
    objective_change: float = 0.0

    def report(self) -> dict:
        """The relaxation as the solve's report gives it."""
        return {"relaxed": self.relaxed, "reason": self.reason,
                "columns": int(len(self.columns)), "areas_rounded": int(self.rounded),
                "objective_change": float(self.objective_change)}


def _row_family(session, i: int) -> str:
    """The constraint component of HiGHS row ``i`` (for the report)."""
    mm = session._mm
    if session.has_model:
        rows = session._compiled.rows
        return rows[i].parent_component().local_name if rows is not None and i < len(rows) \
            else "a row added by hand"
    return mm.row_family[i] if i < len(mm.row_family) else "a row added by hand"


def _proportional(v: np.ndarray, g: np.ndarray) -> bool:
    """Whether ``v = alpha g`` for some ``alpha >= 0`` (both over the same columns)."""
    if not np.any(v):
        return True
    if not np.any(g):
        return False
    j = int(np.argmax(np.abs(g)))
    alpha = v[j] / g[j]
    if alpha < 0:
        return False
    return bool(np.allclose(v, alpha * g, rtol=_RTOL, atol=_RTOL * float(np.abs(v).max())))


def _dense_row(csr, r: int) -> np.ndarray:
    """Row ``r`` of a CSR matrix or array as a dense vector."""
    out = np.zeros(csr.shape[1])
    s, e = csr.indptr[r], csr.indptr[r + 1]
    out[csr.indices[s:e]] = csr.data[s:e]
    return out


def _refuse(reason: str) -> Relaxation:
    return Relaxation(False, reason)


def plan_relaxation(session, cuts: bool = False) -> Relaxation:
    """Whether the session's ``assign`` binaries may be solved as continuous (module
    docstring), read from the arrays HiGHS is given; ``cuts``: rounding cuts join the solve."""
    k = session._compiled
    ix = getattr(session._source, "mdtplan_index", None)
    if ix is None or not ix.pairs:
        return _refuse("no assignment")
    n = len(k.col_lower)
    cols = session._family_columns("assign", ix.pairs)
    cols = cols[(cols >= 0) & (cols < n)]
    if not len(cols):
        return _refuse("no assignment")
    if not k.integrality[cols].all():
        return _refuse("the assignment is split (already continuous)")
    if cuts:
        return _refuse("rounding cuts are in the solve")
    lo, hi = k.col_lower[cols], k.col_upper[cols]
    if not (np.isin(lo, (0.0, 1.0)).all() and np.isin(hi, (0.0, 1.0)).all()):
        return _refuse("an assignment has bounds other than 0 or 1")
    A = k.A.tocsc() if sp.issparse(k.A) else sp.csc_matrix(k.A)
    sub = A[:, cols].tocsr()  # rows x assign columns
    counts = np.diff(sub.indptr)
    touched = np.flatnonzero(counts)
    rows_all = A.tocsr()
    n_assign_in_row = counts[touched]
    n_in_row = np.diff(rows_all.indptr)[touched]
    rlo, rup = k.row_lower[touched], k.row_upper[touched]

    # partition rows: only assign terms, equal positive coefficients c, both bounds c
    part = (n_assign_in_row == n_in_row) & (rlo == rup) & np.isfinite(rup)
    if part.any():
        entry_row = np.repeat(np.arange(sub.shape[0]), counts)
        vmin = np.full(sub.shape[0], np.inf)
        vmax = np.full(sub.shape[0], -np.inf)
        np.minimum.at(vmin, entry_row, sub.data)
        np.maximum.at(vmax, entry_row, sub.data)
        vmin, vmax = vmin[touched[part]], vmax[touched[part]]
        ok = (vmin > 0) & np.isclose(vmax, vmin, rtol=_RTOL, atol=0) & \
            np.isclose(rup[part], vmin, rtol=_RTOL, atol=0)
        part[np.flatnonzero(part)[~ok]] = False
    group = np.full(len(cols), -1, np.int64)
    in_rows = np.zeros(len(cols), np.int64)
    for gi, r in enumerate(touched[part]):
        members = sub.indices[sub.indptr[r]:sub.indptr[r + 1]]
        group[members] = gi
        in_rows[members] += 1
    if (in_rows > 1).any():
        return _refuse("an assignment is in two 'served once' rows")

    # link rows: a x - a y <= 0 with y an integer column in [0, 1]
    link = (n_assign_in_row == 1) & (n_in_row == 2) & (rup == 0) & ~np.isfinite(rlo)
    open_col = np.full(len(cols), -1, np.int64)
    if link.any():
        r = touched[link]
        j = sub.indices[sub.indptr[r]]  # the assign term (position in cols)
        a = sub.data[sub.indptr[r]]
        e0 = rows_all.indptr[r]
        first_is_x = rows_all.indices[e0] == cols[j]
        other = np.where(first_is_x, e0 + 1, e0)
        y = rows_all.indices[other].astype(np.int64)
        b = rows_all.data[other]
        ok = ((a > 0) & np.isclose(b, -a, rtol=_RTOL, atol=0) & (k.integrality[y] != 0)
              & (k.col_lower[y] >= 0) & (k.col_upper[y] <= 1))
        # one link per assign column
        ok &= np.bincount(j[ok], minlength=len(cols))[j] == 1
        open_col[j[ok]] = y[ok]
        link[np.flatnonzero(link)[~ok]] = False
    priced = ~part & ~link & ~np.isfinite(rlo)  # at most an upper bound (or none yet)

    # the price every stage and priced row is a multiple of
    stage_parts = [np.pad(vec, (0, max(0, n - len(vec))))[cols]
                   for _, vec, _, _ in session._stages]
    g = next((v for v in stage_parts if np.any(v)), None)
    priced_rows = touched[priced]
    if g is None:
        g = next((_dense_row(sub, r) for r in priced_rows), np.zeros(len(cols)))
    if g.min(initial=0.0) < 0 and g.max(initial=0.0) <= 0:
        g = -g  # a price of one sign: as a cost
    for v in stage_parts:
        if not _proportional(v, g):
            return _refuse("the stages price the assignment differently")
    for t in np.flatnonzero(priced):
        r = touched[t]
        if not _proportional(_dense_row(sub, r), g):
            priced[t] = False
    other = ~(part | link | priced)
    if other.any():
        names = sorted({_row_family(session, int(touched[t])) for t in np.flatnonzero(other)[:50]})
        return _refuse(f"{', '.join(names)} read{'s' if len(names) == 1 else ''} the assignment")
    if (group < 0).any():
        return _refuse("an assignment is in no 'served once' row")
    if (open_col < 0).any():
        return _refuse("an assignment is not tied to its hub")
    return Relaxation(True, f"{len(cols):,} assignment columns solved as continuous: only "
                            "'served once', 'only to open hubs' and the objective read them",
                      columns=cols.astype(np.int64), group=group, open_col=open_col,
                      g=np.asarray(g, float))


def prepare(session, cuts: bool = False) -> Relaxation:
    """Decide the relaxation for this solve and set HiGHS's integrality accordingly.

    The session's compiled arrays keep the model's integrality (``assign`` binary); only HiGHS
    sees continuous columns. A relaxation of an earlier solve that no longer holds (the model
    was edited) is undone first.
    """
    old = getattr(session, "_relaxation", None)
    h = session.highs
    k = session._compiled
    if old is not None and old.relaxed:
        cols = old.columns[old.columns < len(k.integrality)]
        h.changeColsIntegrality(len(cols), cols.astype(np.int32),
                                k.integrality[cols].astype(np.int32))
    rel = (plan_relaxation(session, cuts) if getattr(session, "relax_assignment", True)
           else _refuse("switched off"))
    if rel.relaxed:
        h.changeColsIntegrality(len(rel.columns), rel.columns.astype(np.int32),
                                np.zeros(len(rel.columns), np.int32))
    session._relaxation = rel
    log.info("assignment %s: %s", "relaxed" if rel.relaxed else "kept binary", rel.reason)
    return rel


def integer_or_relaxed(session, n: int) -> np.ndarray:
    """Mask of the first ``n`` columns that are integer in the model (relaxed ones included):
    what a clean-up LP fixes."""
    mask = session._compiled.integrality[:n] != 0
    rel = getattr(session, "_relaxation", None)
    if rel is not None and rel.relaxed:
        mask = mask.copy()
        mask[rel.columns[rel.columns < n]] = True
    return mask


def round_plan(session, x: np.ndarray) -> np.ndarray:
    """``x`` with each area sent whole to its least-priced open hub among those it uses
    (module docstring) and every integer column rounded; ``x`` itself when the assignment was
    not relaxed.

    Checks that no stage's value rose (it cannot, by the proof) and records the largest change
    in the relaxation's ``objective_change``.
    """
    rel = getattr(session, "_relaxation", None)
    if rel is None or not rel.relaxed:
        return x
    x = np.array(x, dtype=float, copy=True)
    # the integers at their integer values (HiGHS returns them within its tolerance), as the
    # plan is loaded; the clean-up LP, which would do it, has nothing left to solve
    cols, group = rel.columns, rel.group
    ints = session._compiled.integrality[: len(x)] != 0
    ints[cols[cols < len(x)]] = False  # the relaxed columns are rounded below, area by area
    x[ints] = np.round(x[ints])
    share = x[cols]
    use = (share > _POSITIVE) & (x[rel.open_col] > 0.5)
    n_groups = int(group.max()) + 1 if len(group) else 0
    has = np.zeros(n_groups, bool)
    has[group[use]] = True
    # areas with no share on an open hub (only within HiGHS's tolerances): the largest share
    fallback = ~has[group]
    score = np.where(use, rel.g, np.inf)
    score = np.where(fallback, -share, score)
    order = np.lexsort((np.arange(len(cols)), score, group))
    first = order[np.r_[True, group[order][1:] != group[order][:-1]]]
    new = np.zeros(len(cols))
    new[first] = 1.0
    moved = np.zeros(n_groups, bool)
    np.logical_or.at(moved, group, np.abs(new - share) > _POSITIVE)
    before = [float(vec[: len(x)] @ x[: len(vec)]) for _, vec, _, _ in session._stages]
    x[cols] = new
    after = [float(vec[: len(x)] @ x[: len(vec)]) for _, vec, _, _ in session._stages]
    change = max((a - b for a, b in zip(after, before, strict=True)), default=0.0)
    rel.rounded += int(moved.sum())
    rel.objective_change = max(rel.objective_change, change) if rel.rounded else change
    tol = 1e-6 + 1e-9 * max((abs(b) for b in before), default=0.0)
    if change > tol:  # pragma: no cover - the proof says it cannot happen
        log.warning("rounding the relaxed assignment raised a stage by %g", change)
    return x


def highs_integrality(session, cols: np.ndarray) -> np.ndarray:
    """The integrality HiGHS holds for ``cols`` in this solve: the model's, but 0 for the
    relaxed ``assign`` columns (what a clean-up LP restores)."""
    out = session._compiled.integrality[cols].astype(np.int32)
    rel = getattr(session, "_relaxation", None)
    if rel is not None and rel.relaxed:
        out[np.isin(cols, rel.columns)] = 0
    return out
