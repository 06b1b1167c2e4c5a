#!/usr/bin/env bash
# Installs what Agoria TRE needs on a Debian 12 machine, idempotently, then prints nothing
# more than what it did. Usage: scripts/bootstrap.sh [DEBIAN_PACKAGE ...]
#   - Debian packages named on the command line (plus the base ones) are installed if missing;
#   - the project's virtual environment (.venv) is created and the package installed in it,
#     again only when pyproject.toml changed since the last time;
#   - the platform's runtime pieces: Podman (with netavark, which sets up container networks
#     through the iptables command, and runc; configured by the platform itself at run time),
#     nftables, debootstrap for the workspace image, and the
#     proxy (configurable-http-proxy, from npm, inside the environment).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PYTHON="${PYTHON:-python3}"

log() { printf '\033[1m[bootstrap]\033[0m %s\n' "$*" >&2; }

# --- Debian packages ----------------------------------------------------------------------
# gcc and libssl-dev build the native pseudonymiser (hatch_build.py) against OpenSSL's SHA-256.
packages=(ca-certificates gcc libc6-dev libssl-dev
  podman runc netavark iptables nftables debootstrap e2fsprogs iproute2 "$@")
if ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi
if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  packages+=(python3-venv)
fi
missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    log "missing Debian packages: ${missing[*]}; run this as root (or install them) first"
    exit 1
  fi
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- the audit witness's own account (agoria-tre audit witness --user agoria-witness) ----
if [ "$(id -u)" -eq 0 ] && ! id agoria-witness >/dev/null 2>&1; then
  log "creating the system user agoria-witness (the audit witness runs as it)"
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
    agoria-witness
fi

# --- trust the host's extra certificate authorities (TLS-intercepting proxies) -----------
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null && [ "$(id -u)" -eq 0 ]; then
  update-ca-certificates >/dev/null 2>&1 || true
fi
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  export PIP_CERT="${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}"
fi

# --- Python --------------------------------------------------------------------------------
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  log "Python 3.11 or newer is needed; $PYTHON is $("$PYTHON" --version 2>&1)"
  exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
  log "creating the virtual environment $VENV"
  "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.agoria-installed"
# The editable install compiles the native pseudonymiser (hatch_build.py): reinstall when
# its source or the build hook changes too.
want="$( (cat "$ROOT/pyproject.toml" "$ROOT/hatch_build.py" "$ROOT/src/agoria_tre/ingest/native/pseudonym.c"
  "$VENV/bin/python" --version) | sha256sum | cut -c1-64)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log "installing agoria-tre and its development tools into $VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  AGORIA_REQUIRE_NATIVE=1 "$VENV/bin/python" -m pip install --quiet -e "$ROOT[dev]"
  echo "$want" >"$stamp"
fi

# --- the proxy in front of the hub (configurable-http-proxy, from npm) --------------------
proxy_version=5.3.0
proxy_dir="$VENV/lib/agoria-node"
if [ "$(cat "$proxy_dir/.version" 2>/dev/null)" != "$proxy_version" ]; then
  log "installing configurable-http-proxy $proxy_version into $proxy_dir"
  npm install --silent --no-audit --no-fund --prefix "$proxy_dir" \
    "configurable-http-proxy@$proxy_version" >/dev/null
  echo "$proxy_version" >"$proxy_dir/.version"
fi
