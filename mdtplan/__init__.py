"""mdtplan: optimisation of adult social care locality MDT hubs, staffing and budgets.

The library is a one-direction pipeline::

    scenario -> inputs -> demand -> travel -> model -> solve -> results -> outputs

:func:`mdtplan.pipeline.run` composes the stages of one scenario (then :mod:`mdtplan.appraisal`
appraises the run), :mod:`mdtplan.variants` runs many; the CLI, the HTTP API and sweeps only call
them.
"""

__version__ = "0.1.0"
