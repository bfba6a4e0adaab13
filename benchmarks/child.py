"""One method in a fresh process: ``python -m benchmarks.child TASK.json RESULT.json``.

Reads the task, runs ``METHODS[task["method"]]`` and writes its row, with the process's peak
resident set size, as JSON. Any exception becomes the row's ``status: error`` and message.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path


def main(task_path: str, result_path: str) -> int:
    from .methods import METHODS, peak_rss_mb

    task = json.loads(Path(task_path).read_text())
    try:
        row = METHODS[task["method"]](task)
    except BaseException as err:  # noqa: BLE001 - reported as the row's status
        row = {"status": "error", "message": f"{type(err).__name__}: {err}",
               "traceback": traceback.format_exc(limit=8)}
    row["peak_mem_mb"] = peak_rss_mb()
    Path(result_path).write_text(json.dumps(row, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
