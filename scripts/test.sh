#!/usr/bin/env bash
# The whole test suite: installs what it needs, runs the quality gates, then pytest.
# Extra arguments go to pytest (e.g. scripts/test.sh -k audit).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# PostgreSQL: the catalog tests run against a real server the suite starts itself. The
# workspace tests run the whole platform (Podman, the proxy, the image: bootstrap installs
# them; the suite builds the image when it is missing and caches it by content hash).
bash scripts/bootstrap.sh postgresql
source .venv/bin/activate

echo "== ruff (lint)";   ruff check src tests bench
echo "== ruff (format)"; ruff format --check src tests bench
echo "== mypy";          mypy

# The packages were installed just above, so PostgreSQL not starting, or the native
# pseudonymiser missing, is a failure, not a skip.
echo "== pytest"
AGORIA_REQUIRE_POSTGRES=1 AGORIA_REQUIRE_NATIVE=1 exec python -m pytest "$@"
