"""In-place edits of a held model: the Pyomo model of record changed and HiGHS kept in step.

A mutable parameter (:func:`set_param`: the rows that use it re-derived from the Pyomo model,
or, before a session made from data has built one, the direct build made again and what changed
handed over), constraint and variable bounds, rows re-derived by hand (:func:`refresh`).
Every edit is told to the session's unchanged-plan proof as a typed
:class:`~mdtplan.solve.reuse.ModelEdit`.

The functions take the :class:`~mdtplan.solve.session.Session` whose model they edit; its
public methods of the same names call them.
"""

from __future__ import annotations

from collections.abc import Iterable

import highspy
import numpy as np
import pyomo.environ as pyo

from ..errors import ModelError, Problem, SolveError
from .compile import _bound, _linear
from .reuse import ModelEdit

INF = highspy.kHighsInf


def column(session, var) -> int:
    """Column of ``var``, adding it to HiGHS (no row entries) if the compiler dropped it."""
    k = session._compiled
    j = k.col_of.get(id(var))
    if j is not None:
        return j
    session._reuse.edited(ModelEdit("column", var.name))
    lb, ub = var.bounds
    lo, hi = _bound(lb, -INF), _bound(ub, INF)
    session._edited = True
    session.highs.addCol(0.0, lo, hi, 0, np.zeros(0, np.int32), np.zeros(0))
    j = len(k.columns)
    if var.is_integer():
        session.highs.changeColIntegrality(j, highspy.HighsVarType.kInteger)
    k.columns.append(var)
    k.col_of[id(var)] = j
    k.col_lower = np.append(k.col_lower, lo)
    k.col_upper = np.append(k.col_upper, hi)
    k.integrality = np.append(k.integrality, np.int32(var.is_integer()))
    k.c0 = np.append(k.c0, 0.0)
    return j


def vector(session, expr) -> tuple[np.ndarray, float]:
    """(cost vector over the columns, constant) of a linear expression."""
    xs, coefs, const = _linear(expr)
    cols = [column(session, v) for v in xs]
    vec = np.zeros(session._ncols())
    np.add.at(vec, np.asarray(cols, dtype=np.int64), np.asarray(coefs))
    return vec, const


def refresh(session, names: Iterable[str]) -> None:
    """:meth:`Session.refresh <mdtplan.solve.session.Session.refresh>`."""
    names = list(names)
    session._reuse.edited(ModelEdit("rows", ", ".join(map(str, names))))
    for name in names:
        comp = session.model.component(name)
        if comp is None:
            continue
        for con in comp.values():
            refresh_row(session, con)


def refresh_row(session, con) -> None:
    """Re-derive one constraint's HiGHS row from the Pyomo model (added when the
    compiler had dropped it)."""
    h = session.highs
    k = session._compiled
    session._edited = True
    lb, body, ub = con.to_bounded_expression(evaluate_bounds=True)
    xs, coefs, const = _linear(body)
    lo = -INF if lb is None else float(lb) - const
    hi = INF if ub is None else float(ub) - const
    cols = [column(session, v) for v in xs]
    new = {}
    for j, a in zip(cols, coefs, strict=True):
        new[j] = new.get(j, 0.0) + a
    row = k.row_of.get(id(con))
    if row is None:
        if not new:
            if lo > 1e-9 or hi < -1e-9:
                raise ModelError(f"constraint {con.name} became trivially infeasible")
            return
        idx = np.fromiter(new.keys(), np.int32, len(new))
        val = np.fromiter(new.values(), float, len(new))
        h.addRow(lo, hi, len(idx), idx, val)
        row = len(k.rows)
        k.rows.append(con)
        k.row_of[id(con)] = row
        k.row_lower = np.append(k.row_lower, lo)
        k.row_upper = np.append(k.row_upper, hi)
        return
    _, old_idx, old_val = h.getRowEntries(row)
    old = dict(zip(np.asarray(old_idx).tolist(), np.asarray(old_val).tolist(), strict=True))
    for j, a in new.items():
        if old.get(j) != a:
            h.changeCoeff(row, j, a)
    for j in old:
        if j not in new:
            h.changeCoeff(row, j, 0.0)
    h.changeRowBounds(row, lo, hi)
    k.row_lower[row] = lo
    k.row_upper[row] = hi


def set_param(session, name: str, value, index=None) -> None:
    """:meth:`Session.set_param <mdtplan.solve.session.Session.set_param>`."""
    from ..model.build import set_demand_scale
    from ..model.families import param_dependents

    dependents_of = param_dependents()  # read now: a family may have been registered

    session._reuse.edited(ModelEdit("param", name, index))
    if not session.has_model and index is None and name in dependents_of \
            and name in session._params and _set_param_direct(session, name, value):
        return
    m = session.model
    block = m.component("params")  # the model's mutable parameters; else any Param of it
    param = block.component(name) if block is not None else None
    param = param if param is not None else m.component(name)
    if param is None or not isinstance(param, pyo.Param) or not param.mutable:
        raise ModelError(f"the model has no mutable parameter '{name}'")
    dependents = [d for d in dependents_of.get(name, ()) if m.component(d) is not None]
    if name in dependents_of and not dependents:
        raise ModelError(Problem(None, None, name,
                                 f"no constraint of this model uses '{name}' "
                                 f"({', '.join(dependents_of[name])} absent)",
                                 "set the matching scenario key in the base scenario so "
                                 "the constraint is built"))
    if name == "demand_scale":
        set_demand_scale(m, float(value))
    elif index is None:
        param.set_value(value)
    else:
        param[index].set_value(value)
    if name not in dependents_of:
        dependents = [c.local_name for c in m.component_objects(pyo.Constraint, active=True)]
    refresh(session, dependents)


def _set_param_direct(session, name: str, value) -> bool:
    """:func:`set_param` without a Pyomo model: the direct build made again with the new
    value and what changed handed to HiGHS (bounds and coefficients, or the whole model
    when many coefficients change). Returns False, changing nothing, when the change would
    alter which columns or rows exist (the caller then builds the Pyomo model)."""
    from ..model.families import param_dependents
    from ..model.matrix import build_matrix

    dependents_of = param_dependents()

    view, old = session._view, session._mm
    if not any(d in old.keys for d in dependents_of[name]):
        raise ModelError(Problem(None, None, name,
                                 f"no constraint of this model uses '{name}' "
                                 f"({', '.join(dependents_of[name])} absent)",
                                 "set the matching scenario key in the base scenario so "
                                 "the constraint is built"))
    params = {**session._params, name: value, "stage_optimum_bound": dict(session._hold_bounds)}
    mm = build_matrix(view.mdtplan_data, view.mdtplan_index, params)
    if (mm.col_family != old.col_family or mm.row_family != old.row_family
            or not np.array_equal(mm.col_member, old.col_member)
            or not np.array_equal(mm.row_member, old.row_member)):
        return False
    h, k = session.highs, session._compiled
    A, B = k.A, mm.A
    same_pattern = (np.array_equal(A.indptr, B.indptr)
                    and np.array_equal(A.indices, B.indices))
    changed = np.flatnonzero(A.data != B.data) if same_pattern else None
    if same_pattern and len(changed) <= session.DIRECT_COEFF_CHANGES:
        cols = np.searchsorted(B.indptr, changed, side="right") - 1
        for i, j, v in zip(B.indices[changed].tolist(), cols.tolist(),
                           B.data[changed].tolist(), strict=True):
            h.changeCoeff(int(i), int(j), float(v))
        rows = np.flatnonzero((k.row_lower != mm.row_lower) | (k.row_upper != mm.row_upper))
        if len(rows):
            h.changeRowsBounds(len(rows), rows.astype(np.int32), mm.row_lower[rows],
                               mm.row_upper[rows])
    else:  # many coefficients: hand the model over again (the last plan still starts it)
        status = h.passModel(
            len(mm.col_lower), len(mm.row_lower), int(B.nnz),
            int(highspy.MatrixFormat.kColwise), int(highspy.ObjSense.kMinimize),
            k.offset0, k.c0, k.col_lower, k.col_upper, mm.row_lower, mm.row_upper,
            B.indptr.astype(np.int32), B.indices.astype(np.int32), B.data.astype(float),
            k.integrality)
        if status == highspy.HighsStatus.kError:
            raise SolveError("HiGHS refused the changed model (passModel failed)")
    k.A, k.row_lower, k.row_upper = B, mm.row_lower.copy(), mm.row_upper.copy()
    session._edited = False
    session._mm = mm
    session._params[name] = value  # what the MIP start heuristic reads too
    return True


def set_constraint_bounds(session, name: str, lower=None, upper=None, index=None) -> None:
    """:meth:`Session.set_constraint_bounds
    <mdtplan.solve.session.Session.set_constraint_bounds>`."""
    session._reuse.edited(ModelEdit("constraint_bounds", name, index))
    comp = session.model.component(name)
    if comp is None:
        raise ModelError(f"the model has no constraint '{name}'")
    members = comp.values() if index is None else [comp[index]]
    for con in members:
        _, body, _ = con.to_bounded_expression()
        con.set_value((lower, body, upper))
        refresh_row(session, con)


def set_var_bounds(session, var, lower=None, upper=None) -> None:
    """:meth:`Session.set_var_bounds <mdtplan.solve.session.Session.set_var_bounds>`."""
    session._reuse.edited(ModelEdit("var_bounds", var.name))
    var.setlb(lower)
    var.setub(upper)
    j = column(session, var)
    lo, hi = _bound(lower, -INF), _bound(upper, INF)
    session.highs.changeColBounds(j, lo, hi)
    session._compiled.col_lower[j] = lo
    session._compiled.col_upper[j] = hi
