"""mdtplan: optimisation of adult social care locality MDT hubs, staffing and budgets.

The library is a one-direction pipeline::

    scenario -> inputs -> demand -> travel -> model -> solve -> results -> outputs

:func:`mdtplan.pipeline.run` composes the stages; the CLI, the HTTP API and sweeps only call it.
"""

__version__ = "0.1.0"
