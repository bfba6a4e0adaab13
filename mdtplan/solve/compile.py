"""The problem HiGHS is given, as arrays: Pyomo's compile, and the proof it equals the direct build.

:func:`compile_model` compiles the Pyomo model of record with Pyomo's
``LinearStandardFormCompiler`` (mixed form: rows keep their sense) into :class:`_Compiled`
(columns, rows, bounds, integrality, the CSC matrix and the first objective);
:func:`compile_differences` proves :func:`mdtplan.model.matrix.build_matrix` makes exactly the
same arrays. :func:`_model_objects` maps a direct build's columns and rows back to the Pyomo
variables and constraints; :func:`_linear` reads a linear expression's coefficients.

Nothing here runs a solver.
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp
from pyomo.repn import generate_standard_repn
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from ..errors import ModelError

INF = highspy.kHighsInf


def _bound(v, default):
    return default if v is None else float(v)


@dataclass
class _Compiled:
    columns: list
    col_of: dict  # id(VarData) -> column (the VarData are held in ``columns``)
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray
    rows: list
    row_of: dict  # id(ConstraintData) -> row (held in ``rows``)
    row_lower: np.ndarray
    row_upper: np.ndarray
    A: sp.csc_matrix
    c0: np.ndarray
    offset0: float
    #: every objective stage's cost vector (direct build only; else derived from Pyomo)
    stages: list | None = None


def compile_model(model) -> _Compiled:
    """Compile ``model`` to HiGHS arrays (columns, rows, CSC matrix, first objective).

    Rows come from ``LinearStandardFormCompiler(mixed_form=True)``; a constraint with two finite
    bounds (which it splits in two rows) is merged back into one ranged row, so every Pyomo
    constraint is exactly one HiGHS row (named by :attr:`rows`). Column bounds and integrality
    come from the variables.
    """
    active = [o for o in model.component_data_objects(pyo.Objective, active=True)]
    if len(active) != 1:
        raise ModelError(f"the model must have exactly one active objective, not {len(active)}")
    info = LinearStandardFormCompiler().write(model, mixed_form=True,
                                              set_sense=pyo.minimize)
    columns = list(info.columns)
    n = len(columns)
    col_lower = np.empty(n)
    col_upper = np.empty(n)
    integrality = np.zeros(n, dtype=np.int32)
    integer_domain: dict = {}
    for j, v in enumerate(columns):
        lb, ub = v.bounds
        col_lower[j] = _bound(lb, -INF)
        col_upper[j] = _bound(ub, INF)
        dom = v.domain
        is_int = integer_domain.get(id(dom))
        if is_int is None:
            is_int = integer_domain[id(dom)] = bool(v.is_integer())
        if is_int:
            integrality[j] = 1
    col_of = {id(v): j for j, v in enumerate(columns)}
    rhs = np.asarray(info.rhs, dtype=float)
    senses = np.fromiter((r.bound_type for r in info.rows), dtype=np.int64, count=len(info.rows))
    lower = np.where(senses >= 0, np.where(senses == 0, rhs, -INF), rhs)
    upper = np.where(senses <= 0, np.where(senses == 0, rhs, INF), rhs)
    A = info.A
    cons = [r.constraint for r in info.rows]
    dup = np.zeros(len(cons), dtype=bool)
    for i in range(1, len(cons)):
        if cons[i] is cons[i - 1]:
            dup[i] = True
    if dup.any():
        first = np.flatnonzero(dup) - 1
        lower[first] = np.maximum(lower[first], lower[dup])
        upper[first] = np.minimum(upper[first], upper[dup])
        keep = ~dup
        A = A.tocsr()[keep].tocsc()
        lower, upper = lower[keep], upper[keep]
        cons = [c for c, k in zip(cons, keep, strict=True) if k]
    row_of = {id(c): i for i, c in enumerate(cons)}
    A = A.tocsc()
    A.sort_indices()
    c = info.c
    c0 = np.asarray(c[[0], :].toarray()).reshape(-1) if c.shape[0] else np.zeros(n)
    offset0 = float(info.c_offset[0]) if len(info.c_offset) else 0.0
    return _Compiled(columns, col_of, col_lower, col_upper, integrality, cons, row_of, lower,
                     upper, A, c0, offset0)


# --------------------------------------------------------------------------------------------
# The direct build, proven equal to the Pyomo compile


def compile_differences(model, mm=None, compiled=None) -> list[str]:
    """How :func:`mdtplan.model.matrix.build_matrix` differs from Pyomo's compile of ``model`` (empty: none).

    Compares, in order, the columns and rows (component and index of each), column bounds,
    integrality, row bounds, the first objective and every coefficient of the matrix (exactly:
    the same float). ``model`` is a model from :func:`~mdtplan.model.build.build_model`, with
    its mutable parameters as they are now; ``compiled`` is its :func:`compile_model` when
    already made. The test suite and the benchmark (every instance) call it.
    """
    from ..model.matrix import build_matrix, model_params

    k = compiled if compiled is not None else compile_model(model)
    mm = mm if mm is not None else build_matrix(model.mdtplan_data, model.mdtplan_index,
                                                model_params(model))
    def key(fam, member):
        return fam, mm.keys[fam][member]

    out = []
    pc = [(v.parent_component().local_name, v.index()) for v in k.columns]
    mc = [key(f, int(i)) for f, i in zip(mm.col_family, mm.col_member, strict=True)]
    if pc != mc:
        first = next((i for i, (a, b) in enumerate(zip(pc, mc, strict=False)) if a != b),
                     min(len(pc), len(mc)))
        out.append(f"columns: Pyomo {len(pc)}, direct {len(mc)}; first difference at {first}")
    pr = [(c.parent_component().local_name, c.index()) for c in k.rows]
    mr = [key(f, int(i)) for f, i in zip(mm.row_family, mm.row_member, strict=True)]
    if pr != mr:
        first = next((i for i, (a, b) in enumerate(zip(pr, mr, strict=False)) if a != b),
                     min(len(pr), len(mr)))
        out.append(f"rows: Pyomo {len(pr)}, direct {len(mr)}; first difference at {first}")
    if out:
        return out
    for name, a, b, names in (("column lower bounds", k.col_lower, mm.col_lower, pc),
                              ("column upper bounds", k.col_upper, mm.col_upper, pc),
                              ("integrality", k.integrality, mm.integrality, pc),
                              ("row lower bounds", k.row_lower, mm.row_lower, pr),
                              ("row upper bounds", k.row_upper, mm.row_upper, pr),
                              ("objective", k.c0, mm.c0, pc)):
        a, b = np.asarray(a, float), np.asarray(b, float)
        bad = np.flatnonzero(~((a == b) | (np.isnan(a) & np.isnan(b))))
        if len(bad):
            out.append(f"{name}: {len(bad)} differ, e.g. {names[bad[0]]}: Pyomo {a[bad[0]]}, "
                       f"direct {b[bad[0]]}")
    A = k.A.tocsc().copy()
    A.sort_indices()
    B = mm.A
    if not (np.array_equal(A.indptr, B.indptr) and np.array_equal(A.indices, B.indices)):
        out.append(f"matrix pattern: Pyomo {A.nnz} nonzeros, direct {B.nnz}")
    elif not np.array_equal(A.data, B.data):
        bad = np.flatnonzero(A.data != B.data)
        out.append(f"matrix values: {len(bad)} of {A.nnz} differ (largest relative "
                   f"{float(np.max(np.abs(A.data[bad] - B.data[bad]) / np.abs(A.data[bad]))):.3g})")
    return out


def _model_objects(model, mm) -> tuple[list, list]:
    """The Pyomo variables and constraints behind a direct build's columns and rows (each is
    its component's ``col_member``/``row_member``-th member)."""
    members: dict = {}

    def pick(families, positions):
        out = []
        for f, p in zip(families, positions.tolist(), strict=True):
            if f not in members:
                members[f] = list(model.component(f).values())
            out.append(members[f][p])
        return out

    return pick(mm.col_family, mm.col_member), pick(mm.row_family, mm.row_member)


def _linear(expr) -> tuple[list, list, float]:
    """(vars, coefficients, constant) of a linear Pyomo expression, parameters evaluated."""
    repn = generate_standard_repn(expr, compute_values=True, quadratic=False)
    if repn.nonlinear_expr is not None:
        raise ModelError("a stage quantity is not linear")
    return list(repn.linear_vars), [float(x) for x in repn.linear_coefs], float(repn.constant)
