"""Reading user files where a bad one can do no harm: dataset inspection and scenario checks.

An upload is read whole (:func:`inspect_dataset`), and a submitted scenario is loaded and
measured (:func:`check_scenario`), in helper processes that :class:`Checker` keeps warm, so a
malformed file can crash or stall only its helper, never the server. The same two checks run
one-off as ``python -m api.checker check`` (a bound scenario document on stdin) and
``python -m api.checker inspect PATH FORMAT``; each prints one line of JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path

from mdtplan.errors import MdtplanError

from .worker import EXIT_LOST


def inspect_dataset(path: str | Path, fmt: str) -> dict:
    """Read an uploaded file whole and describe it: layers, columns, rows, CRS.

    Parameters
    ----------
    path : str or Path
        The stored file.
    fmt : str
        ``gpkg``, ``geojson``, ``fgb``, ``shp-zip``, ``parquet``, ``csv``, ``tsv`` or ``yaml``.

    Raises
    ------
    ValueError
        The file cannot be read as ``fmt`` (the message says why).
    """
    path = Path(path)
    if fmt == "yaml":
        from mdtplan.operating_model import load_operating_model

        try:
            om = load_operating_model(path)
        except MdtplanError as err:
            raise ValueError("not a valid operating model: " + "; ".join(
                f"{p.column}: {p.message}" if p.column else p.message
                for p in err.problems[:5])) from None
        return {"layers": [], "operating_model": {"name": om.name,
                                                  "roles": [r.id for r in om.roles]}}
    if fmt in ("csv", "tsv"):
        import pandas as pd

        frame = pd.read_csv(path, dtype=str, sep="\t" if fmt == "tsv" else ",",
                            keep_default_na=False, encoding="utf-8-sig")
        if len(frame.columns) == 0:
            raise ValueError("no columns")
        return {"layers": [{"name": None, "rows": int(len(frame)),
                            "columns": [str(c) for c in frame.columns],
                            "crs": None, "geometry_type": None}]}
    if fmt == "parquet":
        import geopandas as gpd
        import pandas as pd
        import pyarrow.parquet as pq

        from mdtplan.inputs.readers import MAX_FEATURES

        if pq.read_metadata(path).num_rows > MAX_FEATURES:
            raise ValueError(f"has more than {MAX_FEATURES:,} rows")
        meta = pq.read_schema(path).metadata or {}
        if b"geo" in meta:
            frame = gpd.read_parquet(path)
            crs = frame.crs.to_string() if frame.crs is not None else None
            gtype = ",".join(sorted(set(frame.geom_type.dropna()))) or None
            columns = [str(c) for c in frame.columns if c != frame.geometry.name]
        else:
            frame = pd.read_parquet(path)
            crs, gtype, columns = None, None, [str(c) for c in frame.columns]
        return {"layers": [{"name": None, "rows": int(len(frame)), "columns": columns,
                            "crs": crs, "geometry_type": gtype}]}
    import pyogrio

    from mdtplan.inputs.readers import check_archive, check_feature_count

    if fmt == "shp-zip":
        check_archive(path)  # its unpacked size, before GDAL unpacks anything
    layers = []
    names = [str(row[0]) for row in pyogrio.list_layers(path)]
    if not names:
        raise ValueError("no layers")
    for name in names:
        check_feature_count(path, name)  # as declared, before the rows are read
        info = pyogrio.read_info(path, layer=name)
        frame = pyogrio.read_dataframe(path, layer=name)  # read whole: proves it is readable
        crs = info.get("crs")
        layers.append({"name": name, "rows": int(len(frame)),
                       "columns": [str(c) for c in info["fields"]],
                       "crs": str(crs) if crs else None,
                       "geometry_type": info.get("geometry_type")})
    return {"layers": layers}


def check_scenario(doc: dict) -> dict:
    """Validate a bound scenario document and measure it (what a submission is checked on).

    Returns
    -------
    dict
        ``{"ok": True, "areas": n, "sites": n, "pairs": n, "warnings": [...]}`` or
        ``{"ok": False, "problems": [...]}``.
    """
    from mdtplan.pipeline import prepare
    from mdtplan.scenario import parse_scenario

    try:
        prepared = prepare(parse_scenario(doc))
    except MdtplanError as err:
        return {"ok": False, "problems": [p.to_dict() for p in err.problems]}
    return {"ok": True, "areas": int(len(prepared.inputs.areas)),
            "sites": int(len(prepared.inputs.sites)), "pairs": int(len(prepared.pairs)),
            "warnings": [p.to_dict() for p in prepared.warnings]}


def _inspect_answer(path: str, fmt: str) -> dict:
    """:func:`inspect_dataset` as an answer: ``{"ok": True, ...}`` or ``{"ok": False, message}``."""
    try:
        return {"ok": True, **inspect_dataset(path, fmt)}
    except Exception as err:  # noqa: BLE001 - any failure to read is the answer
        text = str(err).strip()
        return {"ok": False, "message": text.splitlines()[0] if text else type(err).__name__}


def _file_answer(name: str, *args) -> dict:
    """One of :mod:`api.filework`'s functions as an answer: ``{"ok": True, "value": ...}`` or
    ``{"ok": False, "message": ...}`` (any failure to read or write is the answer)."""
    from . import filework

    try:
        return {"ok": True, "value": getattr(filework, name)(*args)}
    except Exception as err:  # noqa: BLE001 - any failure to read is the answer
        text = str(err).strip()
        return {"ok": False, "message": text.splitlines()[0] if text else type(err).__name__}


def _warm_up(parent_pid: int) -> None:
    """When a checker process starts: leave when the server does, import the heavy libraries."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(EXIT_LOST)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
    import geopandas  # noqa: F401
    import pyogrio  # noqa: F401

    from mdtplan import pipeline  # noqa: F401


class Checker:
    """Reads user files in helper processes kept warm (a crash or a hang costs only them).

    Parameters
    ----------
    processes : int
        Helper processes (checks run at once).
    timeout_s : float
        Longest one check may take [s]; past it the helpers are killed and restarted.
    """

    def __init__(self, processes: int = 2, timeout_s: float = 300.0):
        self.processes = processes
        self.timeout_s = timeout_s
        self._pool = None
        self._lock = threading.Lock()

    def _executor(self):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    self.processes, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_warm_up, initargs=(os.getpid(),), max_tasks_per_child=50)
            return self._pool

    def start(self) -> None:
        """Start the helpers now, so that the first upload does not wait for the imports."""
        self._executor().submit(os.getpid)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            for proc in list(getattr(pool, "_processes", {}).values()):
                proc.kill()
            pool.shutdown(wait=False, cancel_futures=True)

    def _call(self, fn, *args) -> dict:
        from concurrent.futures import TimeoutError as FutureTimeout
        from concurrent.futures.process import BrokenProcessPool

        try:
            return self._executor().submit(fn, *args).result(timeout=self.timeout_s)
        except FutureTimeout:
            self.close()
            raise TimeoutError(f"took longer than {self.timeout_s:g} s") from None
        except BrokenProcessPool:
            self.close()
            raise RuntimeError("the checking process crashed") from None

    def inspect(self, path: str | Path, fmt: str) -> dict:
        """Describe an uploaded file (see :func:`inspect_dataset`); never raises on bad files."""
        return self._call(_inspect_answer, str(path), fmt)

    def check(self, doc: dict) -> dict:
        """Validate and measure a bound scenario document (see :func:`check_scenario`)."""
        return self._call(check_scenario, doc)

    def file_work(self, name: str, *args) -> dict:
        """Run :mod:`api.filework`'s function ``name`` (a preview of a file's first rows, its
        sites, a model's roles, an edited copy) in a helper; never raises on bad files.

        Returns ``{"ok": True, "value": ...}`` or ``{"ok": False, "message": ...}``.
        """
        try:
            return self._call(_file_answer, name, *args)
        except (TimeoutError, RuntimeError) as err:
            return {"ok": False, "message": str(err)}


def main(argv: list[str] | None = None) -> int:
    """``python -m api.checker {check | inspect PATH FORMAT}``: print the answer as JSON."""
    parser = argparse.ArgumentParser(prog="python -m api.checker")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="check a bound scenario document read from stdin")
    p_inspect = sub.add_parser("inspect", help="describe an uploaded file")
    p_inspect.add_argument("path")
    p_inspect.add_argument("format")
    args = parser.parse_args(argv)
    if args.command == "check":
        print(json.dumps(check_scenario(json.load(sys.stdin)), allow_nan=False))
    else:
        print(json.dumps(_inspect_answer(args.path, args.format)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
