#!/usr/bin/env bash
# Set everything up (see scripts/setup.sh) and open the demo: JupyterLab on notebooks/.
# Extra arguments go to `jupyter lab`, e.g. `scripts/demo.sh --port 8899`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
extra=()
[ "$(id -u)" = 0 ] && extra+=(--allow-root)
exec .venv/bin/jupyter lab --notebook-dir=notebooks "${extra[@]}" "$@"
