#!/usr/bin/env bash
# Sets up Agoria TRE on its embedded default (SQLite in $AGORIA_HOME) and loads a demo
# project. Safe to run again: what exists is left as it is.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/bootstrap.sh"
source "$ROOT/.venv/bin/activate"

export AGORIA_HOME="${AGORIA_HOME:-/var/lib/agoria-tre}"
agoria-tre init

demo=demo-eap
if agoria-tre project show "$demo" >/dev/null 2>&1; then
  echo "project $demo already exists"
else
  agoria-tre project create "$demo" \
    --title "Early access programme: synthetic demo cohort" --legal-basis "MR-004"
fi
# Each role on its own, so that a run interrupted half-way is completed by the next one.
for member in alice:researcher bob:reviewer carol:reviewer dana:lead; do
  user="${member%%:*}" role="${member#*:}"
  if ! out=$(agoria-tre member add "$demo" "$user" --role "$role" 2>&1); then
    grep -q "is already $role of project" <<<"$out" || { echo "$out" >&2; exit 1; }
  else
    echo "$out"
  fi
done

echo
agoria-tre project show "$demo"
echo
agoria-tre audit verify
cat <<MSG

Agoria TRE catalog ready in $AGORIA_HOME.
Try: source .venv/bin/activate && AGORIA_HOME=$AGORIA_HOME agoria-tre --help
MSG
