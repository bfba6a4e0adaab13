"""What a solve leaves behind: files, maps, the workbook and plots, from results only.

* :mod:`~mdtplan.outputs.files`: a result folder (CONTRACT §5) written and read back
  (:func:`write_outputs`, :func:`read_result_dir`);
* :mod:`~mdtplan.outputs.maps`: the offline Leaflet maps (``map.html``, two plans side by side);
* :mod:`~mdtplan.outputs.workbook`: the finance workbook ``summary.xlsx``;
* :mod:`~mdtplan.outputs.plots`: the savings waterfall and a sweep's frontier.

Outputs read :class:`~mdtplan.results.Results` and the loaded inputs; they never import Pyomo,
the model, the solver or the pipeline.
"""

from .files import read_result_dir, write_outputs

__all__ = ["read_result_dir", "write_outputs"]
