#!/bin/sh
# Install mdtplan into ./.venv, a virtual environment of its own: this works on the Python of a
# fresh Debian or Ubuntu too, which refuses system-wide `pip install` (PEP 668).
#   ./setup.sh        mdtplan itself            (then: .venv/bin/mdtplan demo)
#   ./setup.sh test   with the test extras      (then: .venv/bin/python -m pytest -n 2 -q)
# PYTHON=/path/to/python3 ./setup.sh picks the interpreter (default: python3).
set -eu
cd "$(dirname "$0")"
PY=${PYTHON:-python3}

if ! "$PY" -m venv .venv >/dev/null 2>&1 || [ ! -x .venv/bin/pip ]; then
  # Debian and Ubuntu ship venv's pip bootstrap in a package of its own (python3-venv)
  ver=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  if command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ]; then SUDO=""
    elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"
    else
      echo "setup.sh: $PY cannot make a virtual environment: Debian/Ubuntu's python${ver}-venv" \
           "package is missing. Install it as root (apt-get install python3-venv), then run" \
           "this again." >&2
      exit 1
    fi
    echo "setup.sh: installing python3-venv (Debian/Ubuntu) to make the virtual environment"
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq "python${ver}-venv" >/dev/null 2>&1 \
      || $SUDO apt-get install -y -qq python3-venv >/dev/null
  fi
  rm -rf .venv
  "$PY" -m venv .venv
fi

.venv/bin/python -m pip install --quiet --upgrade pip
if [ "${1:-}" = "test" ]; then
  .venv/bin/python -m pip install '.[test]'
else
  .venv/bin/python -m pip install .
fi
