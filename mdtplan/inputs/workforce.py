"""Loading the workforce table (``workforce.path``): today's staff by unit, role and contract.

A unit is a site id or a pool name; roles must be the operating model's; contracts are
:data:`CONTRACTS`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .columns import _column_values, _missing_column, _text_values
from .pools import pool_names
from .problems import _listing, _plural, _Problems, _rows_text, _says, _show
from .readers import _plain, _read_file
from .values import _id_strings

if TYPE_CHECKING:
    from ..operating_model import OperatingModel
    from ..scenario import Scenario

CONTRACTS = ("permanent", "agency", "vacant")


def _load_workforce(scenario: Scenario, om: OperatingModel | None, areas, sites,
                    p: _Problems) -> pd.DataFrame | None:
    cfg = scenario.workforce
    file = cfg.path
    frame = _read_file(file, None, "workforce", p)
    if frame is None:
        return None
    frame = _plain(frame)
    ok = True
    for key, column in (("workforce.unit", cfg.unit), ("workforce.role", cfg.role),
                        ("workforce.fte", cfg.fte), ("workforce.contract", cfg.contract)):
        if column not in frame.columns:
            _missing_column(p, file, key, column, frame.columns)
            ok = False
    if not ok:
        return None
    rows = np.arange(1, len(frame) + 1)
    labels = np.array([f"row {r}" for r in rows], dtype=object)
    unit, _ = _id_strings(frame[cfg.unit])
    role = _text_values(frame, cfg.role, "workforce.role", file, p)
    contract = _text_values(frame, cfg.contract, "workforce.contract", file, p).str.lower()
    fte = _column_values(frame, cfg.fte, "workforce.fte", file, p, what="row", labels=labels,
                         required=True)
    for column, values, what in ((cfg.unit, unit, "unit"), (cfg.role, role, "role"),
                                 (cfg.contract, contract, "contract")):
        blank = values.isna().to_numpy()
        if blank.any():
            p.error(file, _rows_text(rows[blank]), column,
                    f"{_plural(int(blank.sum()), 'row')} with no {what}: data rows "
                    f"{_listing(rows[blank])}", "fill in every cell, or remove the rows")
    roles = [r.id for r in om.roles] if om is not None else []
    bad_role = role.notna().to_numpy() & ~role.isin(roles).to_numpy()
    if bad_role.any():
        names = pd.unique(role[bad_role])
        p.error(file, _rows_text(rows[bad_role]), cfg.role,
                f"{_plural(len(names), 'role')} not in the operating model: {_listing(names)}",
                f"use the operating model's role ids: {_listing(roles)}" if roles else
                "the scenario has no operating_model, so it has no roles; set one")
    bad_contract = contract.notna().to_numpy() & ~contract.isin(CONTRACTS).to_numpy()
    if bad_contract.any():
        shown = [f"row {r}={_show(v)}" for r, v in
                 zip(rows[bad_contract], frame[cfg.contract].to_numpy()[bad_contract],
                     strict=True)]
        p.error(file, _rows_text(rows[bad_contract]), cfg.contract,
                f"{_plural(int(bad_contract.sum()), 'row')} with an unknown contract: "
                f"{_listing(shown)}", f"use one of {', '.join(CONTRACTS)}")
    if sites is not None and (areas is not None or om is None or om.pools.by != "area_group"):
        units = set(sites.index) | set(pool_names(om, areas, sites))
        bad_unit = unit.notna().to_numpy() & ~unit.isin(units).to_numpy()
        if bad_unit.any():
            names = pd.unique(unit[bad_unit])
            p.error(file, _rows_text(rows[bad_unit]), cfg.unit,
                    f"{_says(len(names), 'unit', 'is', 'are')} neither a site id nor a pool name: "
                    f"{_listing(names)}",
                    f"use a site id of the sites file or a pool: "
                    f"{_listing(pool_names(om, areas, sites))}")
    if fte is None:
        return None
    return pd.DataFrame({
        "unit": pd.array(unit.to_numpy(dtype=object), dtype="str"),
        "role": pd.array(role.to_numpy(dtype=object), dtype="str"),
        "fte": fte.astype(float),
        "contract": pd.array(contract.to_numpy(dtype=object), dtype="str"),
    })
