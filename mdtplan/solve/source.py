"""Where a session's rows and columns come from: the Pyomo model of record, or the direct build
before any Pyomo model exists (:meth:`mdtplan.solve.session.Session.from_data`).

Both sources answer the same questions for a :class:`~mdtplan.solve.session.Session` -- the
name of a column or row, the keys of the rows, whether a constraint exists, a parameter's value
in force, the columns of a variable component, where a plan is loaded and how it is tabulated
-- so the session asks its source instead of branching on which one it has. A session made
``from_data`` holds a :class:`DirectSource` until something needs the Pyomo model, then a
:class:`PyomoSource` built from it (the same rows and columns, in the same order).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from ..errors import SolveError
from .compile import _Compiled
from .extract import extract_tables, tables_from_values
from .view import VAR_NAMES, ModelView


class DirectSource:
    """The direct build of the data (:func:`mdtplan.model.matrix.build_matrix`), no Pyomo model.

    Attributes
    ----------
    view : ModelView
        The build's variables by component and member.
    params : dict
        The scalar mutable parameters in force, by their one name (changed by ``set_param``).
    pending_x : ndarray or None
        The last plan, kept until it is tabulated or a Pyomo model is built to take it.
    """

    has_model = False

    def __init__(self, data, ix, mm, params: dict):
        self.view = ModelView(data, ix, mm)
        self.params = params
        self.pending_x: np.ndarray | None = None

    @property
    def holder(self):
        """What carries ``mdtplan_index`` and ``mdtplan_data`` (the view)."""
        return self.view

    def col_name(self, mm, compiled: _Compiled, j: int) -> str:
        return mm.col_name(int(j))

    def row_name(self, mm, compiled: _Compiled, i: int) -> str:
        return mm.row_name(int(i))

    def row_keys(self, mm, compiled: _Compiled) -> list:
        return [(f, mm.keys[f][p]) for f, p in zip(mm.row_family, mm.row_member.tolist(),
                                                   strict=True)]

    def has_constraint(self, mm, name: str) -> bool:
        return name in mm.keys and name not in VAR_NAMES

    def param_value(self, name: str):
        return self.params.get(name)

    def family_columns(self, compiled: _Compiled, family: str, keys: list) -> np.ndarray:
        col = self.view.family_columns(family)
        if col is not None and len(col) != len(keys):  # pragma: no cover - guard
            raise ValueError(f"{family}: {len(keys)} keys for {len(col)} members")
        return np.full(len(keys), -1, np.int64) if col is None else col

    def load(self, compiled: _Compiled, x: np.ndarray) -> None:
        self.pending_x = np.asarray(x, dtype=float).copy()

    def tables(self, compiled: _Compiled, data=None) -> dict[str, pd.DataFrame]:
        if self.pending_x is None:
            raise SolveError("no plan to tabulate: solve first")
        view = self.view
        return tables_from_values(view.mdtplan_index,
                                  data if data is not None else view.mdtplan_data,
                                  view.values(self.pending_x, compiled),
                                  float(self.params["demand_scale"]))


class PyomoSource:
    """The Pyomo model of record, compiled (:func:`mdtplan.solve.compile.compile_model`) or
    built later by a ``from_data`` session (the same rows and columns).

    Attributes
    ----------
    model : ConcreteModel
    """

    has_model = True

    def __init__(self, model):
        self.model = model

    @property
    def holder(self):
        """What carries ``mdtplan_index`` and ``mdtplan_data`` (the model itself)."""
        return self.model

    def col_name(self, mm, compiled: _Compiled, j: int) -> str:
        return compiled.columns[j].name

    def row_name(self, mm, compiled: _Compiled, i: int) -> str:
        return compiled.rows[i].name

    def row_keys(self, mm, compiled: _Compiled) -> list:
        return [(c.parent_component().local_name, c.index()) for c in compiled.rows]

    def has_constraint(self, mm, name: str) -> bool:
        return isinstance(self.model.component(name), pyo.Constraint)

    def param_value(self, name: str):
        block = self.model.component("params")
        param = None if block is None else block.component(name)
        return None if param is None else param.value

    def family_columns(self, compiled: _Compiled, family: str, keys: list) -> np.ndarray:
        comp = self.model.component(family)
        col_of = compiled.col_of
        return np.fromiter((col_of.get(id(comp[key]), -1) for key in keys), np.int64,
                           len(keys))

    def load(self, compiled: _Compiled, x: np.ndarray) -> None:
        """Write ``x`` into the Pyomo variables (integers rounded); dropped variables get the
        bound their (non-negative) cost prefers, i.e. the lower bound, or 0 if free."""
        k = compiled
        xi = x[: len(k.columns)].copy()
        ints = k.integrality[: len(xi)].astype(bool)
        xi[ints] = np.round(xi[ints])
        lo, hi = k.col_lower[: len(xi)], k.col_upper[: len(xi)]
        xi = np.minimum(np.maximum(xi, lo), hi)
        for v, val in zip(k.columns, xi.tolist(), strict=True):
            v.set_value(val, skip_validation=True)
        for v in self.model.component_data_objects(pyo.Var, descend_into=True):
            if id(v) in k.col_of or v.fixed:
                continue
            lb, ub = v.bounds
            v.set_value(lb if lb is not None else (ub if ub is not None and ub < 0 else 0.0),
                        skip_validation=True)

    def tables(self, compiled: _Compiled, data=None) -> dict[str, pd.DataFrame]:
        return extract_tables(self.model, data)
