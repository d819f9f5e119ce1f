#!/usr/bin/env bash
# Stop what .ci/slurm/start.sh started under $STATE: cancel all jobs, then stop slurmd,
# slurmctld and munged, each by its pid file (never by name). Safe to run any number of
# times, also when nothing is running.
set -uo pipefail
STATE=${STATE:-/tmp/binnet-slurm}
export SLURM_CONF=$STATE/slurm.conf

alive() {  # pidfile command-name
  [ -s "$1" ] || return 1
  local pid; pid=$(cat "$1")
  kill -0 "$pid" 2>/dev/null && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ]
}

if alive "$STATE/slurmctld.pid" slurmctld && [ -f "$SLURM_CONF" ]; then
  jobs=$(squeue -h -o %i 2>/dev/null || true)
  if [ -n "$jobs" ]; then
    # shellcheck disable=SC2086
    scancel $jobs 2>/dev/null || true
    for _ in $(seq 100); do [ -z "$(squeue -h -t R,CG -o %i 2>/dev/null)" ] && break; sleep 0.1; done
  fi
fi

stop() {  # pidfile command-name
  local f=$1 name=$2 pid
  if alive "$f" "$name"; then
    pid=$(cat "$f")
    kill -TERM "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
    echo "stopped $name (pid $pid)"
  fi
  rm -f "$f"
}
stop "$STATE/slurmd.pid" slurmd
stop "$STATE/slurmctld.pid" slurmctld
stop "$STATE/munge/munged.pid" munged
exit 0
