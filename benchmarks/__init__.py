"""mdtplan's benchmark suite (run from a checkout: ``python -m benchmarks`` or ``mdtplan bench``).

For each instance, side by side in one run and with the same HiGHS options: mdtplan through its
scenario interface, the floor (the same problem as numpy/scipy arrays passed straight to
``highspy.Highs.passModel``) and, for p-median, spopt's ``PMedian``. Instances: OR-Library
pmed1-20 and cap61-134, synthetic MDT models S-XL, Kent at LSOA level and England at MSOA level.

Modules: :mod:`benchmarks.instances` (what is run), :mod:`benchmarks.synthetic` (the generated
MDT models), :mod:`benchmarks.methods` (the three methods, each in its own process),
:mod:`benchmarks.runner` (the run and its report), :mod:`benchmarks.__main__` (the command).

This package imports nothing heavy at import time: each method's process holds only what that
method needs, so its memory figures are its own.
"""
