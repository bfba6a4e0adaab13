"""``python -m benchmarks [--quick] [--only KINDS] [--out DIR] ...`` (``mdtplan bench`` too)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_OUT = Path("out") / "bench"
ALL_METHODS = "floor,mdtplan,spopt,resolve,whatif"
#: methods run only when named in ``--methods``
EXTRA_METHODS = ("mdtplan-binary",)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="mdtplan against the HiGHS floor and spopt, side by side: OR-Library "
                    "pmed/cap, synthetic MDT models S-XL, Kent LSOA, England MSOA. Writes "
                    "results.csv, results.md, environment.json and cost_vs_size.png. The "
                    "resolve method times a budget-cap variant re-solved with the model kept "
                    "against a cold build-and-solve (instances resolve-XS, resolve-XS-slack, resolve-greystow); "
                    "the whatif method solves a changed example from its solved plan "
                    "(--start-from) in a fifth of a cold solve's time and compares the plans "
                    "(instances whatif-demo-{cap,count,band,site}, whatif-kent-{count,band,site}).")
    parser.add_argument("--quick", action="store_true",
                        help="a handful of small OR-Library instances, MDT S, resolve-XS and "
                             "whatif-demo-cap, "
                             "with short time limits (for development)")
    parser.add_argument("--only", default=None,
                        help="comma-separated kinds (pmed,cap,mdt,kent,england,resolve,whatif) "
                             "and/or instance names (pmed7, cap101, mdt-S, mdt-XL, kent-lsoa, "
                             "england-msoa, resolve-XS, resolve-XS-slack, resolve-greystow, "
                             "whatif-demo-cap, whatif-kent-band, ...)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"output folder (default {DEFAULT_OUT})")
    parser.add_argument("--threads", type=int, default=1, help="HiGHS threads (default 1)")
    parser.add_argument("--seed", type=int, default=0,
                        help="HiGHS random_seed and synthetic generator seed (default 0)")
    parser.add_argument("--time-limit", type=float, default=None,
                        help="solver time limit for every instance [s] (default: per kind, "
                             "e.g. 600 for OR-Library, 120 for MDT, 60 for Kent, 600 for "
                             "England)")
    parser.add_argument("--methods", default=ALL_METHODS,
                        help="comma-separated subset of floor,mdtplan,spopt,resolve,whatif "
                             "(resolve and whatif run on their own instances only), or "
                             "mdtplan-binary (p-median: "
                             "mdtplan with the single assignment left binary)")
    parser.add_argument("--orlib", type=Path, default=None,
                        help="a folder of more OR-Library files (pmed21.txt ... pmed40.txt, "
                             "and optionally their optima.csv), for naming pmed21-pmed40 in "
                             "--only")
    parser.add_argument("--build-only", action="store_true",
                        help="stop each method once its model is inside HiGHS (no solve): "
                             "build time and memory only")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs of each method on instances whose first runs all took "
                             "under 5 s (fresh processes, taking turns); the run of median "
                             "total time is kept (default 1)")
    parser.add_argument("--shared", type=Path, default=None,
                        help="the shared folder with benchmarks/ and data/ (default: ../shared "
                             "beside the repository)")
    return parser


def run(*, quick: bool = False, only: str | None = None, out: Path = DEFAULT_OUT,
        threads: int = 1, seed: int = 0, time_limit: float | None = None,
        methods: str = ALL_METHODS, build_only: bool = False,
        shared: Path | None = None, repeat: int = 1, console=None,
        orlib: Path | None = None) -> int:
    """Run the suite, print the table and write the report; returns an exit code.

    0: every row ran and every row with a published optimum matched it; 1: some row failed or
    missed its optimum; 2: bad options (the message says which).
    """
    from rich.console import Console

    from .instances import select, shared_dir
    from .methods import HighsSettings
    from .runner import SuiteOptions, environment, print_table, run_suite, write_report

    if console is None:
        console = Console(log_path=False)
        if not console.is_terminal:  # a log file or pipe: wide enough for the whole table
            console = Console(width=200, log_path=False)
    shared = (shared or shared_dir()).resolve()
    chosen = [m.strip() for m in methods.split(",") if m.strip()]
    bad = [m for m in chosen if m not in ALL_METHODS.split(",") + list(EXTRA_METHODS)]
    if bad or not chosen:
        console.print(f"[red]--methods: unknown {bad or 'empty'}; choose from "
                      f"{ALL_METHODS},{','.join(EXTRA_METHODS)}[/]")
        return 2
    if threads < 1:
        console.print("[red]--threads must be at least 1[/]")
        return 2
    if repeat < 1:
        console.print("[red]--repeat must be at least 1[/]")
        return 2
    if time_limit is not None and time_limit <= 0:
        console.print("[red]--time-limit must be positive[/]")
        return 2
    if not (shared / "benchmarks" / "orlib").is_dir():
        console.print(f"[red]{shared}: no benchmarks/orlib here; the suite reads the "
                      "OR-Library and real data from the shared folder beside the repository "
                      "(give it with --shared DIR)[/]")
        return 2
    try:
        instances = select(only.split(",") if only else None, quick=quick, shared=shared,
                           time_limit_s=time_limit, orlib=orlib)
    except ValueError as err:
        console.print(f"[red]--only: {err}[/]")
        return 2
    if not instances:
        console.print("[red]no instance selected (--quick keeps pmed1, pmed2, pmed6, cap61, "
                      "cap71, cap101, mdt-S and resolve-XS; name others explicitly)[/]")
        return 2
    options = SuiteOptions(threads=threads, seed=seed, build_only=build_only,
                           methods=tuple(chosen), repeat=repeat,
                           orlib=None if orlib is None else Path(orlib).resolve())
    console.print(f"{len(instances)} instance(s): {', '.join(i.name for i in instances)}")
    rows = run_suite(instances, Path(out), shared, options,
                     log=lambda line: console.log(line, markup=False, highlight=False))
    env = environment(HighsSettings(threads=threads, seed=seed))
    paths = write_report(rows, Path(out), env)
    print_table(rows, console)
    console.print("Written: " + ", ".join(str(p) for p in paths.values()))
    failed = [r for r in rows if r.get("status") in ("error", "killed")
              or r.get("matches") is False]
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run(quick=args.quick, only=args.only, out=args.out, threads=args.threads,
               seed=args.seed, time_limit=args.time_limit, methods=args.methods,
               build_only=args.build_only, shared=args.shared, repeat=args.repeat,
               orlib=args.orlib)


if __name__ == "__main__":
    sys.exit(main())
