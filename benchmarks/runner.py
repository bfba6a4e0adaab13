"""Run the suite: each (instance, method) in a fresh process, side by side, then the report.

:func:`run_suite` is the whole run: for each instance it writes the inputs
(:func:`benchmarks.instances.prepare_instance`), for MDT kinds saves the matrix mdtplan hands to
HiGHS (the floor's input), then runs each method in its own fresh Python process (so peak
memory is the method's own) and collects one row per method. Ratios are to the
floor of the same instance, measured in the same run. :func:`write_report` writes the CSV,
Markdown and the log-log plot; :func:`print_table` prints the table with rich.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from statistics import median

from .instances import Instance, prepare_instance, published_optima
from .methods import HighsSettings

#: the table's columns, in order (see docs/benchmarks.md for what each means)
COLUMNS = ("instance", "kind", "method", "nnz", "read_s", "build_s", "solve_s", "total_s",
           "runs", "highs_s", "overhead_s", "ratio_to_floor", "base_mem_mb", "peak_mem_mb", "status",
           "gap", "objective", "published_optimum", "matches", "same_problem", "relaxed",
           "root_bound", "to_1pct_s", "proof_s", "stage_gaps",
           "resolve_s",
           "cold_s", "resolve_ratio", "same_objective", "vs_cold", "within_1pct",
           "short_cold_vs_cold", "message")

#: the ``resolve`` method's columns (empty for the other methods; the Markdown table and the
#: printed table show them only when a ``resolve`` row ran)
RESOLVE_COLUMNS = ("resolve_s", "cold_s", "resolve_ratio", "same_objective", "vs_cold",
                   "within_1pct", "short_cold_vs_cold")

#: the target of ``resolve_ratio``: a re-solve with the model kept takes at most this share
#: of a cold build-and-solve
RESOLVE_TARGET = 0.2

#: relative tolerance of "matches the published optimum"
MATCH_RTOL = 1e-6


@dataclass(frozen=True)
class SuiteOptions:
    """How to run the suite.

    Parameters
    ----------
    threads : int
        HiGHS threads for every method.
    seed : int
        HiGHS ``random_seed`` (and the synthetic generator's seed).
    build_only : bool
        Stop each method once its model is inside HiGHS (no solve).
    methods : tuple of str
        Among ``floor``, ``mdtplan``, ``spopt``, ``resolve``, ``whatif`` (each instance runs
        those that exist for it).
    hard_timeout_s : float, optional
        Kill a method's process after this long [s]; default ``3 x time limit + 600``.
    repeat : int
        Runs of each method on an instance whose first runs all took less than
        ``repeat_below_s`` (each a fresh process; the methods take turns, so a busy moment of
        the machine falls on all of them); the row kept is the run of median ``total_s``.
        Short solves are where one run's noise moves a ratio most.
    repeat_below_s : float
        [s]
    orlib : Path, optional
        The ``--orlib`` folder (more OR-Library files, its ``optima.csv``).
    """

    threads: int = 1
    seed: int = 0
    build_only: bool = False
    methods: tuple[str, ...] = ("floor", "mdtplan", "spopt", "resolve", "whatif")
    hard_timeout_s: float | None = None
    repeat: int = 1
    repeat_below_s: float = 5.0
    orlib: Path | None = None


def median_run(runs: list[dict]) -> dict:
    """The run of median ``total_s`` (the lower middle one for an even count; a run without
    a time, e.g. a failed one, is kept if any run failed), with ``runs`` = how many ran."""
    failed = [r for r in runs if r.get("total_s") is None]
    if failed:
        return {**failed[0], "runs": len(runs)}
    ordered = sorted(runs, key=lambda r: r["total_s"])
    return {**ordered[(len(ordered) - 1) // 2], "runs": len(runs)}


def run_in_process(method: str, task: dict, timeout_s: float, folder: Path) -> dict:
    """Run ``METHODS[method](task)`` in a fresh Python process and return its row.

    The process is ``python -m benchmarks.child`` (so nothing of this process, neither its
    imports nor its memory, is inherited); the task and the row travel as JSON files in
    ``folder``, and the child's stderr goes to ``folder/<method>.log``. A process that outlives
    ``timeout_s`` is killed (row status ``killed``); one that dies without a row gets status
    ``error`` with its exit code and the end of its log.
    """
    folder.mkdir(parents=True, exist_ok=True)
    task_path = folder / f"{method}.task.json"
    result_path = folder / f"{method}.result.json"
    log_path = folder / f"{method}.log"
    result_path.unlink(missing_ok=True)
    task_path.write_text(json.dumps({**task, "method": method}))
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([root] + ([env["PYTHONPATH"]]
                                                  if env.get("PYTHONPATH") else []))
    with log_path.open("w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "benchmarks.child", str(task_path),
                                 str(result_path)], stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env)
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return {"status": "killed",
                    "message": f"no answer within {timeout_s:.0f} s; process killed"}
    if result_path.is_file():
        return json.loads(result_path.read_text())
    tail = " | ".join(log_path.read_text().strip().splitlines()[-3:])
    return {"status": "error", "message": f"process died (exit code {proc.returncode}): {tail}"}


def environment(settings: HighsSettings | None = None) -> dict:
    """Date, machine, and the versions that matter for the figures."""
    from mdtplan.solve.highs import new_highs

    def version(name: str) -> str | None:
        try:
            from importlib.metadata import version as v

            return v(name)
        except Exception:  # noqa: BLE001
            return None

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    h = new_highs()  # no banner on the console (highspy 1.16)
    env = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{cpu}, {os.cpu_count()} cores, {mem_gb} GB",
        "os": platform.platform(),
        "python": platform.python_version(),
        "highs": f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}",
        "highspy": version("highspy"),
        "pyomo": version("pyomo"),
        "mdtplan": version("mdtplan"),
        "spopt": version("spopt"),
        "pulp": version("pulp"),
    }
    if settings is not None:
        env.update({"threads": settings.threads, "seed": settings.seed,
                    "mip_rel_gap": settings.mip_rel_gap})
    return env


def _finish(rows: list[dict], optimum: float | None) -> None:
    """Fill overhead, ratio to the floor and the optimum check into an instance's rows."""
    floor = next((r for r in rows if r["method"] == "floor"), None)
    floor_total = floor.get("total_s") if floor else None
    nnz = floor.get("nnz") if floor else None
    for r in rows:
        if nnz is not None:
            r["nnz"] = nnz
        elif r.get("mdtplan_nnz") is not None:
            r["nnz"] = r["mdtplan_nnz"]
        total, highs_s = r.get("total_s"), r.get("highs_s")
        if total is not None and highs_s is not None:
            r["overhead_s"] = total - highs_s
        if total is not None and floor_total:
            r["ratio_to_floor"] = total / floor_total
        r["published_optimum"] = optimum
        obj = r.get("objective")
        if optimum is not None and obj is not None:
            r["matches"] = abs(obj - optimum) <= MATCH_RTOL * max(1.0, abs(optimum))
        elif optimum is not None:
            r["matches"] = False


def _one_run(inst: Instance, base: dict, method: str, task: dict, timeout: float,
             folder: Path, log, note: str = "") -> dict:
    """One method's run on one instance, in a fresh process, logged; its row."""
    log(f"{inst.name}: {method} (time limit {inst.time_limit_s:g} s){note}")
    row = {**base, "method": method, **run_in_process(method, task, timeout, folder)}
    trace = row.pop("traceback", None)
    if trace:
        log(trace)
    timing = (f"re-solve {_fmt(row.get('resolve_s'))} s, cold {_fmt(row.get('cold_s'))}"
              f" s, ratio {_fmt(row.get('resolve_ratio'))}, same objective "
              f"{_fmt(row.get('same_objective'))}" if method == "resolve"
              else f"what-if {_fmt(row.get('resolve_s'))} s, cold {_fmt(row.get('cold_s'))} s, "
              f"ratio {_fmt(row.get('resolve_ratio'))}, against cold {_fmt(row.get('vs_cold'))}"
              f" (short cold {_fmt(row.get('short_cold_vs_cold'))})" if method == "whatif"
              else f"total {_fmt(row.get('total_s'))} s")
    log(f"{inst.name}: {method}: {row.get('status')} {timing}, "
        f"peak {_fmt(row.get('peak_mem_mb'))} MB"
        + (f" ({row['message']})" if row.get("message") else ""))
    return row


def run_suite(instances: list[Instance], out: Path, shared: Path,
              options: SuiteOptions | None = None, log=None) -> list[dict]:
    """Run every method on every instance; returns the rows (also written by the caller).

    Parameters
    ----------
    instances : list of Instance
        From :func:`benchmarks.instances.select`.
    out : Path
        Output folder; instance inputs go to ``out/instances``.
    shared : Path
        The ``shared`` folder (OR-Library and real data).
    options : SuiteOptions, optional
    log : callable, optional
        Called with one line of text per step (progress).
    """
    options = options or SuiteOptions()
    log = log or (lambda line: None)
    out, shared = Path(out).resolve(), Path(shared).resolve()
    work = out / "instances"
    work.mkdir(parents=True, exist_ok=True)
    try:
        optima = published_optima(shared, options.orlib)
    except OSError:
        optima = {}
    rows: list[dict] = []
    for inst in instances:
        settings = HighsSettings(threads=options.threads, time_limit_s=inst.time_limit_s,
                                 seed=options.seed)
        timeout = options.hard_timeout_s or 3 * inst.time_limit_s + 600
        base = {"instance": inst.name, "kind": inst.kind}
        try:
            scenario = prepare_instance(inst, work, shared, seed=options.seed)
        except Exception as err:  # noqa: BLE001 - one bad instance must not stop the suite
            log(f"{inst.name}: cannot write its inputs: {type(err).__name__}: {err}")
            rows.append({**base, "method": "-", "status": "error",
                         "message": f"inputs: {type(err).__name__}: {err}"})
            continue
        # the instance's own work folder (a what-if's scenario is the example in the
        # checkout, where no task or log file belongs)
        folder = work / inst.name
        folder.mkdir(parents=True, exist_ok=True)
        task = {"kind": inst.kind, "scenario": str(scenario),
                "arrays": str(folder / "arrays.npz"), "settings": asdict(settings),
                "build_only": options.build_only, **inst.extra}
        methods = [m for m in inst.methods if m in options.methods]
        if not methods:
            log(f"{inst.name}: none of its methods ({', '.join(inst.methods)}) is selected "
                "(--methods); skipped")
            continue
        for solves_only in ("resolve", "whatif"):
            if options.build_only and solves_only in methods:
                methods.remove(solves_only)  # it is about solves: nothing to build-only
                log(f"{inst.name}: {solves_only} skipped (--build-only)")
        if inst.kind not in ("pmed", "cap", "pgen") and "floor" in methods:
            log(f"{inst.name}: saving the matrix mdtplan hands to HiGHS (the floor's input)")
            info = run_in_process("handover", task, timeout, folder)
            if info.get("status") in ("error", "killed"):
                log(f"{inst.name}: hand-over failed: {info.get('message')}")
                if info.get("traceback"):
                    log(info["traceback"])
                methods.remove("floor")
                rows.append({**base, "method": "floor", "status": "error",
                             "message": f"hand-over: {info.get('message')}"})
            else:
                log(f"{inst.name}: {info.get('areas')} areas, {info.get('sites')} sites, "
                    f"{info.get('pairs')} pairs, {info.get('nnz'):,} nonzeros")
        runs: dict[str, list[dict]] = {m: [] for m in methods}
        for method in methods:
            runs[method].append(_one_run(inst, base, method, task, timeout, folder, log))
        # the timed methods again, taking turns, when every first run was short ("resolve"
        # times its own pair of solves and runs once)
        timed = [m for m in methods if m not in ("resolve", "whatif")]
        firsts = [runs[m][0].get("total_s") for m in timed]
        if (options.repeat > 1 and not options.build_only and timed
                and all(t is not None and t < options.repeat_below_s for t in firsts)):
            for turn in range(1, options.repeat):
                for method in timed:
                    runs[method].append(_one_run(inst, base, method, task, timeout, folder, log,
                                                 f", run {turn + 1} of {options.repeat}"))
            log(f"{inst.name}: kept each method's run of median total time: " + ", ".join(
                f"{m} {_fmt(median_run(runs[m]).get('total_s'))} s of "
                + "/".join(_fmt(r.get("total_s")) for r in runs[m]) for m in timed))
        inst_rows = [median_run(runs[m]) for m in methods]
        if "mdtplan" in methods:
            log(f"{inst.name}: checking the direct build against the Pyomo compile")
            check = run_in_process("equivalence", task, timeout, folder)
            same = check.get("same_problem")
            log(f"{inst.name}: same problem: {same}"
                + (f" ({check.get('message')})" if check.get("message") else ""))
            for r in inst_rows:
                if r["method"] == "mdtplan":
                    r["same_problem"] = same
        _finish(inst_rows, optima.get(inst.name))
        rows += inst_rows
    return rows


# --------------------------------------------------------------------------------------------
# Report


def _fmt(v, digits: int = 3) -> str:
    if v is None or v == "":
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "NO"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if v != v:  # NaN
            return "—"
        if abs(v) >= 1e5:
            return f"{v:,.0f}"
        return f"{v:.{digits}g}" if abs(v) < 1 else f"{v:,.{digits}f}".rstrip("0").rstrip(".")
    return str(v)


def summarise(rows: list[dict]) -> list[dict]:
    """Per kind and method: instances, how many match their optimum, median and max ratio to
    the floor, median build and total time, largest peak memory; when a ``resolve`` row ran,
    also the median and max ``resolve_ratio`` and how many re-solves reached the cold solve's
    objective (``same_objective``)."""
    out = []
    with_resolve = any(r.get("resolve_ratio") is not None for r in rows)
    keys = dict.fromkeys((r["kind"], r["method"]) for r in rows if r.get("method") != "-")
    for kind, method in keys:
        rs = [r for r in rows if r["kind"] == kind and r["method"] == method]
        ratios = [r["ratio_to_floor"] for r in rs if r.get("ratio_to_floor") is not None]
        matched = [r["matches"] for r in rs if r.get("matches") is not None]
        totals = [r["total_s"] for r in rs if r.get("total_s") is not None]
        builds = [r["build_s"] for r in rs if r.get("build_s") is not None]
        peaks = [r["peak_mem_mb"] for r in rs if r.get("peak_mem_mb") is not None]
        same = [r["same_problem"] for r in rs if r.get("same_problem") is not None]
        entry = {
            "kind": kind, "method": method, "instances": len(rs),
            "matched": f"{sum(matched)}/{len(matched)}" if matched else "—",
            "median_ratio": median(ratios) if ratios else None,
            "max_ratio": max(ratios) if ratios else None,
            "median_build_s": median(builds) if builds else None,
            "median_total_s": median(totals) if totals else None,
            "max_peak_mem_mb": max(peaks) if peaks else None,
            "same_problem": f"{sum(same)}/{len(same)}" if same else "—",
        }
        if with_resolve:
            rr = [r["resolve_ratio"] for r in rs if r.get("resolve_ratio") is not None]
            agree = [r["same_objective"] for r in rs if r.get("method") == "resolve"]
            entry.update({
                "median_resolve_ratio": median(rr) if rr else None,
                "max_resolve_ratio": max(rr) if rr else None,
                "same_objective": (f"{sum(a is True for a in agree)}/{len(agree)}" if agree
                                   else "—"),
            })
        out.append(entry)
    return out


def resolve_lines(rows: list[dict]) -> list[str]:
    """The Markdown section on the ``resolve`` rows (empty without any): caps, the three
    timings, the ratio against :data:`RESOLVE_TARGET`, statuses and objectives."""
    rs = [r for r in rows if r.get("method") == "resolve"]
    if not rs:
        return []
    cols = ("instance", "base cap → variant GBP", "cap binds", "base_s", "resolve_s", "cold_s",
            "read_s", "resolve_ratio", f"≤ {RESOLVE_TARGET:g}", "status re-solve / cold",
            "objective re-solve / cold", "same_objective")
    intro = ("One process per instance: the base scenario built and solved cold; its budget "
             "cap changed in place (`Session.set_param`) and re-solved from the previous plan "
             "(`resolve_s`); the same variant prepared (`read_s`, not compared), built and "
             "solved from scratch (`cold_s`). `resolve_ratio` = `resolve_s / cold_s`.")
    cells = [(r["instance"],
              f"{_fmt(r.get('base_cap_gbp'))} → {_fmt(r.get('variant_cap_gbp'))}",
              _fmt(r.get("cap_binds")), _fmt(r.get("base_s")), _fmt(r.get("resolve_s")),
              _fmt(r.get("cold_s")), _fmt(r.get("read_s")), _fmt(r.get("resolve_ratio")),
              _meets_target(r.get("resolve_ratio")),
              f"{r.get('status')} / {r.get('cold_status', '—')}",
              f"{_fmt(r.get('objective'), 9)} / {_fmt(r.get('cold_objective'), 9)}",
              _fmt(r.get("same_objective"))) for r in rs]
    return _section("Re-solve with the model kept", intro, cols, cells)


def _section(title: str, intro: str, cols, cells) -> list[str]:
    """A Markdown section: its heading, a paragraph and a table of ``cells`` (rows of text)."""
    return (["", f"## {title}", "", intro, "", "| " + " | ".join(cols) + " |",
             "|" + " --- |" * len(cols)] + ["| " + " | ".join(c) + " |" for c in cells])


def _meets_target(ratio) -> str:
    """Whether a ratio to a cold solve is within :data:`RESOLVE_TARGET` (``—`` without one)."""
    return "—" if ratio is None else ("yes" if ratio <= RESOLVE_TARGET + 1e-9 else "no")


def whatif_lines(rows: list[dict]) -> list[str]:
    """The Markdown section on the ``whatif`` rows (empty without any): the change, the
    times, the ratio against :data:`RESOLVE_TARGET`, and the plans against the cold solve's."""
    rs = [r for r in rows if r.get("method") == "whatif"]
    if not rs:
        return []
    cols = ("instance", "change", "stage", "cold_s", "resolve_s", "resolve_ratio",
            f"≤ {RESOLVE_TARGET:g}", "vs_cold", "within 1%", "short_cold_vs_cold",
            "status what-if / cold")
    intro = ("One process per instance: the example solved cold (its plan kept); one thing "
             "changed and solved cold at the same limit (`cold_s`, the whole run after "
             "loading); the change solved from the base plan (`--start-from`) with a fifth of "
             "`cold_s` as its limit (`resolve_s`), and cold with that short limit too. "
             "`vs_cold`: the what-if's first stage against the cold solve's, relative (unmet "
             "hours as a share of all demand hours); negative is better. "
             "`short_cold_vs_cold`: the same for the short cold solve.")
    cells = [(r["instance"], str(r.get("message") or "").split("; ")[0],
              str(r.get("stage") or "—"), _fmt(r.get("cold_s")), _fmt(r.get("resolve_s")),
              _fmt(r.get("resolve_ratio")), _meets_target(r.get("resolve_ratio")),
              _pct(r.get("vs_cold")), _fmt(r.get("within_1pct")),
              _pct(r.get("short_cold_vs_cold")),
              f"{r.get('status')} / {r.get('cold_status', '—')}") for r in rs]
    return _section("What-ifs from a solved plan", intro, cols, cells)


def _pct(v) -> str:
    return "—" if v is None else f"{100 * v:+.2f}%"


def write_report(rows: list[dict], out: Path, env: dict) -> dict[str, Path]:
    """Write ``results.csv``, ``results.md``, ``environment.json`` and ``cost_vs_size.png``.

    Returns
    -------
    dict
        Name -> path of each file written.
    """
    import csv

    out.mkdir(parents=True, exist_ok=True)
    paths = {"csv": out / "results.csv", "markdown": out / "results.md",
             "environment": out / "environment.json", "plot": out / "cost_vs_size.png"}
    with paths["csv"].open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(COLUMNS), extrasaction="ignore")
        writer.writeheader()
        for r in rows:
            writer.writerow({c: ("" if r.get(c) is None else r.get(c)) for c in COLUMNS})
    paths["environment"].write_text(json.dumps(env, indent=2) + "\n")
    has_resolve = any(r.get("method") in ("resolve", "whatif") for r in rows)
    md_cols = [c for c in COLUMNS if c not in ("kind", "message")
               and (has_resolve or c not in RESOLVE_COLUMNS)]
    lines = [f"# mdtplan benchmarks — {env.get('date')}", "",
             f"Machine: {env.get('machine')}; HiGHS {env.get('highs')} (highspy "
             f"{env.get('highspy')}), Pyomo {env.get('pyomo')}, spopt {env.get('spopt')} "
             f"(PuLP {env.get('pulp')}); threads {env.get('threads')}, seed {env.get('seed')}, "
             f"mip_rel_gap {env.get('mip_rel_gap')}.", "",
             "| " + " | ".join(md_cols) + " |", "|" + " --- |" * len(md_cols)]
    for r in rows:
        lines.append("| " + " | ".join(_fmt(r.get(c)) for c in md_cols) + " |")
    summary = summarise(rows)
    if summary:
        cols = list(summary[0])
        lines += ["", "## Summary", "", "| " + " | ".join(cols) + " |",
                  "|" + " --- |" * len(cols)]
        for s in summary:
            lines.append("| " + " | ".join(_fmt(s[c]) for c in cols) + " |")
    lines += resolve_lines(rows)
    lines += whatif_lines(rows)
    notes = [r for r in rows if r.get("message")]
    if notes:
        lines += ["", "## Messages", ""]
        lines += [f"- {r['instance']} / {r['method']}: {r['message']}" for r in notes]
    paths["markdown"].write_text("\n".join(lines) + "\n")
    plot_cost_vs_size(rows, paths["plot"])
    return paths


def plot_cost_vs_size(rows: list[dict], path: Path) -> Path:
    """Log-log plot of total and build time against the model's nonzeros, one series per
    method (matplotlib, Agg); hollow markers are runs that stopped at a limit (not optimal)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    styles = {"floor": ("o", "tab:gray"), "mdtplan": ("s", "tab:blue"),
              "mdtplan-binary": ("D", "tab:green"), "spopt": ("^", "tab:orange")}
    for ax, column, title in ((axes[0], "total_s", "total (build + solve)"),
                              (axes[1], "build_s", "build and hand-over to HiGHS")):
        for method, (marker, colour) in styles.items():
            pts = [(r["nnz"], r[column], r.get("status") in ("optimal", "built"))
                   for r in rows if r.get("method") == method and r.get("nnz")
                   and r.get(column) is not None and r[column] > 0]
            for done, label in ((True, method), (False, f"{method} (stopped at a limit)")):
                sel = [(x, y) for x, y, ok in pts if ok == done]
                if sel:
                    xs, ys = zip(*sel, strict=True)
                    ax.loglog(xs, ys, marker=marker, linestyle="none", color=colour,
                              markerfacecolor=colour if done else "none", label=label,
                              alpha=0.8)
        ax.set_xlabel("nonzeros of the matrix HiGHS receives")
        ax.set_ylabel("seconds")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def print_table(rows: list[dict], console=None) -> None:
    """The results as a rich table (and the per-kind summary)."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    cols = ("instance", "method", "nnz", "build_s", "solve_s", "total_s", "highs_s",
            "overhead_s", "ratio_to_floor", "peak_mem_mb", "status", "gap", "objective",
            "published_optimum", "matches", "same_problem")
    if any(r.get("method") in ("resolve", "whatif") for r in rows):
        cols += RESOLVE_COLUMNS
    table = Table(title="mdtplan benchmarks", show_lines=False)
    for c in cols:
        table.add_column(c.replace("_", " "), justify="left" if c in (
            "instance", "method", "status") else "right", overflow="fold")
    for r in rows:
        cells = [_fmt(r.get(c)) for c in cols]
        style = "red" if (r.get("matches") is False or r.get("same_problem") is False
                          or r.get("same_objective") is False
                          or r.get("status") in ("error", "killed")) else None
        table.add_row(*cells, style=style)
    console.print(table)
    summary = summarise(rows)
    if summary:
        st = Table(title="summary by kind and method")
        for c in summary[0]:
            st.add_column(c.replace("_", " "), justify="right")
        for s in summary:
            st.add_row(*(_fmt(v) for v in s.values()))
        console.print(st)
