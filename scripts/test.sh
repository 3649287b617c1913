#!/usr/bin/env bash
# Set everything up (see scripts/setup.sh, Chromium included) and run every test:
# ruff, TypeScript type check, vitest unit tests, then pytest (unit, notebook execution, wheel, and
# browser tests in a real JupyterLab / Notebook 7 in headless Chromium).
# Extra arguments go to pytest, e.g. `scripts/test.sh -m "not browser"`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --browser
printf '\n==> Lint: ruff\n'
.venv/bin/ruff check .
printf '\n==> TypeScript: tsc --noEmit and vitest\n'
npm run --silent typecheck
npm test --silent
printf '\n==> Python: pytest\n'
exec .venv/bin/python -m pytest "$@"
