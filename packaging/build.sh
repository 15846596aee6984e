#!/usr/bin/env bash
# Build the one-folder app dist/SimilarButFaster/ with PyInstaller (`make package`), then report its
# size. Runs with the project's .venv (PY=... for another interpreter); builds for this OS only.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
started=$(date +%s)
nice -n 10 "$PY" -m PyInstaller --noconfirm --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/sbf.spec
if compgen -G "dist/SimilarButFaster/_internal/torch*" > /dev/null; then
    echo "torch ended up in the bundle (750 MB): see EXCLUDES in packaging/sbf.spec" >&2
    exit 1
fi
echo "Built dist/SimilarButFaster in $(( $(date +%s) - started )) s: $(du -sh dist/SimilarButFaster | cut -f1)"
