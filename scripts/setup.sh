#!/usr/bin/env bash
# Set up everything nbexplain needs, idempotently: a virtual environment in .venv with nbexplain
# installed in editable mode (its front-end bundle built), and, with --browser, Chromium for the
# browser tests. Safe to run again: finished steps are skipped quickly.
#
#   scripts/setup.sh            # the demo's needs
#   scripts/setup.sh --browser  # plus test tools and Chromium
set -euo pipefail
cd "$(dirname "$0")/.."

want_browser=0
[ "${1:-}" = "--browser" ] && want_browser=1

step() { printf '\n==> %s\n' "$*"; }

command -v node >/dev/null || { echo "nbexplain setup: node (>= 18) and npm are needed to build the widget bundle; install Node.js first" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  step "creating .venv with ${PYTHON:-python3}"
  "${PYTHON:-python3}" -m venv .venv
fi
PY=.venv/bin/python

# torch first and pinned when absent: an open range with no torch installed makes pip fetch a
# multi-GB CUDA build; 2.13.0 has a CPU build available here. Users elsewhere may use any torch>=2.2.
# (find_spec, not import: importing torch costs a second or two on every warm run.)
if ! "$PY" -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('torch') is None)" 2>/dev/null; then
  step "installing torch"
  "$PY" -m pip install -q --upgrade pip
  "$PY" -m pip install -q "torch==2.13.0"
fi

# The bundle is rebuilt only when js/, package.json or the lock file changed since the last build
# (or an output is missing): a warm start skips esbuild.
built=nbexplain/static/widget.js
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "installing the front end's build tools (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  rm -f "$built"
fi
if [ ! -f "$built" ] || [ ! -f nbexplain/static/widget.css ] || [ ! -f nbexplain/static/loader.js ] \
   || [ -n "$(find js/src package.json package-lock.json -newer "$built" -print -quit)" ]; then
  step "building the front end (esbuild)"
  npm run --silent build
fi

# The editable install is redone only when pyproject.toml changes (the stamp records it).
if [ ! -f .venv/.nbexplain-stamp ] || [ pyproject.toml -nt .venv/.nbexplain-stamp ]; then
  step "installing nbexplain (editable) with its test extras"
  "$PY" -m pip install -q -e ".[test]"
  touch .venv/.nbexplain-stamp
fi

if [ "$want_browser" = 1 ] && ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then
  step "installing Chromium for the browser tests"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium chromium-driver
fi
step "setup done"
