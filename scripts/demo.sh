#!/usr/bin/env bash
# Set everything up (see scripts/setup.sh) and open the demo: JupyterLab on notebooks/.
# Extra arguments go to `jupyter lab`, e.g. `scripts/demo.sh --port 8899`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
extra=()
[ "$(id -u)" = 0 ] && extra+=(--allow-root)
printf '\n==> nbexplain demo: JupyterLab starts below; open the http://127.0.0.1:... URL it prints\n'
printf '    (the one with ?token=), then notebooks dashboard.ipynb (the Dashboard) or quickstart.ipynb.\n'
printf '    Stop it with Ctrl+C.\n\n'
exec .venv/bin/jupyter lab --notebook-dir=notebooks "${extra[@]}" "$@"
