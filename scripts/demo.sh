#!/usr/bin/env bash
# The whole platform on this machine, on its embedded default (SQLite in $AGORIA_HOME):
# installs what is missing, builds the workspace image (no registry needed), generates the
# synthetic early-access cohort as raw hospital extracts and ingests them (pseudonymised),
# makes the demo project (a lead, two researchers, two reviewers, their passwords printed
# once), grants the datasets, puts a starter notebook in each member's new home, starts the
# hub and prints its URL. Ctrl-C stops everything it started (workspaces, networks,
# firewall rules, the runtime).
#
# Safe to run again: what exists is kept, and a second run starts in seconds. Options are
# passed to `agoria-tre hub` (e.g. --url http://127.0.0.1:9000 --api-port 9081); set
# AGORIA_DEMO_SETUP_ONLY=1 to prepare everything without starting the hub.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
started=$SECONDS
step() { printf '\033[1m[demo]\033[0m %s\n' "$*" >&2; }

step "checking what is installed"
bash "$ROOT/scripts/bootstrap.sh"
source "$ROOT/.venv/bin/activate"

export AGORIA_HOME="${AGORIA_HOME:-/var/lib/agoria-tre}"
# The platform key lives outside the data directory, readable by its owner only.
export AGORIA_KEY_FILE="${AGORIA_KEY_FILE:-$(dirname "$AGORIA_HOME")/agoria-tre-keys/platform.key}"
agoria-tre init >/dev/null
[ -f "$AGORIA_KEY_FILE" ] || agoria-tre key create "$AGORIA_KEY_FILE"

# --- the workspace image: built once, then found by its content hash ---------------------
# The sources it is made of are hashed first: when they have not changed since the image
# recorded last time, nothing is rebuilt (building the wheel again would cost seconds).
stamp="$AGORIA_HOME/demo-image.stamp"
sources="$(cd "$ROOT" && find pyproject.toml hatch_build.py src extensions/jupyterlab/src \
  extensions/jupyterlab/style extensions/jupyterlab/package.json -type f \
  ! -path '*/__pycache__/*' ! -name '*.so' -print0 2>/dev/null | sort -z | xargs -0 sha256sum |
  sha256sum | cut -c1-64)"
if [ "$(cat "$stamp" 2>/dev/null)" = "$sources" ] && agoria-tre image list --json | grep -q reference; then
  step "workspace image: up to date"
else
  step "workspace image: building (the first time takes a few minutes)"
  agoria-tre image build
  echo "$sources" >"$stamp"
fi

# --- the demo project and its members ----------------------------------------------------
demo=demo-eap
if ! agoria-tre project show "$demo" >/dev/null 2>&1; then
  agoria-tre project create "$demo" \
    --title "Early access programme: synthetic demo cohort" --legal-basis "MR-004"
fi
members=(dana:lead alice:researcher erin:researcher bob:reviewer carol:reviewer)
# Each role on its own, so that a run interrupted half-way is completed by the next one.
for member in "${members[@]}"; do
  user="${member%%:*}" role="${member#*:}"
  if ! out=$(agoria-tre member add "$demo" "$user" --role "$role" 2>&1); then
    grep -q "is already $role of project" <<<"$out" || { echo "$out" >&2; exit 1; }
  fi
done

# Logins: a password is generated for each new demo user and shown this once.
passwords=()
for member in "${members[@]}"; do
  user="${member%%:*}" role="${member#*:}"
  if out=$(agoria-tre hub demo-user "$user" 2>&1); then
    passwords+=("$(printf '  %-8s %-11s %s' "$user" "$role" "${out#*$'\t'}")")
  elif ! grep -q "already exists" <<<"$out"; then
    echo "$out" >&2
    exit 1
  fi
done

# --- the synthetic cohort, ingested ------------------------------------------------------
# Raw extracts (synthetic, with invented names and NIRs) go to a scratch folder that is
# removed once they are ingested.
extracts="$(mktemp -d)"
trap 'rm -rf "$extracts"' EXIT
existing="$(agoria-tre dataset list --json)"
has() { grep -q "\"$1@1\"" <<<"$existing"; }
if ! has patients || ! has treatments || ! has adverse_events || ! has outcomes; then
  step "generating and ingesting the synthetic cohort"
  agoria-tre demo-data --patients 2000 --seed 2026 --out "$extracts" >/dev/null
fi
for name in patients treatments adverse_events outcomes; do
  has "$name" || agoria-tre dataset ingest "$extracts/$name.csv" --name "$name" \
    --profile "$extracts/$name.toml" >/dev/null
done

until_day="$(date -d '+1 year' +%F)"
granted="$(agoria-tre grant list "$demo" --json)"
for name in patients treatments adverse_events outcomes; do
  if ! grep -q "\"$name@1\"" <<<"$granted"; then
    agoria-tre grant add "$demo" "$name@1" --reference "CESREES-DEMO-2026" --until "$until_day"
  fi
done
agoria-tre dataset reconcile --project "$demo" >/dev/null

# The starter notebook lands in each member's home the first time it is made.
install -d -m 0700 "$AGORIA_HOME/starters/$demo"
install -m 0600 "$ROOT/scripts/demo/starter.ipynb" "$AGORIA_HOME/starters/$demo/starter.ipynb"
agoria-tre audit verify >/dev/null

echo
echo "Agoria TRE demo: project $demo, data in $AGORIA_HOME"
if ((${#passwords[@]})); then
  echo "Demo logins (shown this once; 'agoria-tre hub demo-user NAME' cannot show them again):"
  printf '%s\n' "${passwords[@]}"
else
  echo "Demo logins: dana (lead), alice and erin (researchers), bob and carol (reviewers),"
  echo "with the passwords printed by the first run."
fi
if [ -n "${AGORIA_DEMO_SETUP_ONLY:-}" ]; then
  echo "Ready in $((SECONDS - started)) s; start it with: agoria-tre hub --demo"
  exit 0
fi
echo "Starting the platform ($((SECONDS - started)) s so far); its URL follows once it answers."
echo
rm -rf "$extracts"
exec agoria-tre hub --demo "$@"
