#!/usr/bin/env bash
# The whole test suite: installs what it needs, runs the quality gates, then pytest.
# Extra arguments go to pytest (e.g. scripts/test.sh -k audit).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# PostgreSQL: the catalog tests run against a real server the suite starts itself. The
# workspace tests run the whole platform (Podman, the proxy, the image: bootstrap installs
# them; the suite builds the image when it is missing and caches it by content hash). The
# airlock's pages are tried in Debian's headless Chromium, driven by Playwright.
bash scripts/bootstrap.sh postgresql chromium
source .venv/bin/activate

# The login tests run a real OpenID provider (the oidc-provider library, from npm).
export AGORIA_TEST_NODE="$ROOT/.venv/lib/agoria-test-node"
if [ "$(cat "$AGORIA_TEST_NODE/.version" 2>/dev/null)" != "oidc-provider@9.13.3" ]; then
  npm install --silent --no-audit --no-fund --prefix "$AGORIA_TEST_NODE" oidc-provider@9.13.3 >/dev/null
  echo "oidc-provider@9.13.3" >"$AGORIA_TEST_NODE/.version"
fi

echo "== ruff (lint)";   ruff check src tests bench
echo "== ruff (format)"; ruff format --check src tests bench
echo "== mypy";          mypy

# The JupyterLab extension's logic, in jest (its dependencies are npm's, installed once per
# lock file; the wheel's build installed them already on a fresh clone).
echo "== jest (extensions/jupyterlab)"
(
  cd extensions/jupyterlab
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --silent --no-audit --no-fund >/dev/null
  fi
  npm test --silent
)

# The packages were installed just above, so PostgreSQL not starting, or the native
# pseudonymiser missing, is a failure, not a skip. Coverage counts branches and the
# processes the tests start (the CLI, the hub and its services); its data file is absolute
# because those processes run in other folders.
echo "== pytest (with branch coverage)"
export COVERAGE_FILE="$ROOT/.coverage"
rm -f "$ROOT"/.coverage "$ROOT"/.coverage.*
status=0
AGORIA_REQUIRE_POSTGRES=1 AGORIA_REQUIRE_NATIVE=1 python -m coverage run -m pytest "$@" || status=$?
python -m coverage combine --quiet || true
echo "== coverage"
python -m coverage report | tail -n 60
exit "$status"
