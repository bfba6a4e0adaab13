"""A scenario's ``solver`` section as :class:`~mdtplan.solve.SolveOptions`.

This mapping lives on its own so that everything that solves a scenario can share it without
importing the others: :mod:`mdtplan.pipeline` (one run), :mod:`mdtplan.variants` (many) and
:mod:`mdtplan.appraisal.baseline` (today's configuration, which a run's appraisal evaluates after
the run, so it may not import the pipeline). It is not in :mod:`mdtplan.scenario`, which must
not know the solver, nor in :mod:`mdtplan.solve`, which takes options and knows no scenario.
``SolveOptions`` is imported when called, so importing this module loads neither Pyomo nor
HiGHS.
"""

from __future__ import annotations

from .scenario import Scenario


def solve_options_for(scenario: Scenario, **overrides):
    """SolveOptions from ``scenario.solver`` with CLI overrides (``None`` values ignored).

    ``threads`` is capped at the machine's cores (more threads than cores only slow HiGHS
    down and starve the other solves of a service), and is 1 in reproducible mode.
    """
    import os

    from .solve import SolveOptions

    cfg = scenario.solver.model_dump()
    cfg.update({k: v for k, v in overrides.items() if v is not None})
    if cfg.get("threads") is not None:
        cfg["threads"] = max(1, min(int(cfg["threads"]), os.cpu_count() or 1))
    if cfg.get("reproducible"):
        cfg["threads"] = 1  # the same plan whatever the load: one thread
    return SolveOptions(**{k: cfg[k] for k in SolveOptions.__dataclass_fields__ if k in cfg})
