#!/usr/bin/env bash
# Stops the single-node Slurm cluster that scripts/ci/slurm-up.sh started (jobs are cancelled first).
set -uo pipefail

say() { echo "slurm-down: $*" >&2; }

if command -v scancel >/dev/null 2>&1 && sinfo -h >/dev/null 2>&1; then
  scancel --user="$(id -un)" >/dev/null 2>&1 || true
fi

stop() {
  local name=$1 pidfile=$2 pid=""
  [ -f "$pidfile" ] && pid=$(cat "$pidfile" 2>/dev/null || true)
  [ -z "$pid" ] && pid=$(pgrep -x "$name" | head -1 || true)
  [ -z "$pid" ] && return 0
  say "stopping $name ($pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.25; done
  kill -KILL "$pid" 2>/dev/null || true
}

stop slurmd /run/slurmd.pid
stop slurmctld /run/slurmctld.pid
if [ "${1:-}" = "--all" ]; then
  stop munged /run/munge/munged.pid
fi
exit 0
