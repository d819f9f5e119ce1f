#!/usr/bin/env bash
# Start a single-node SLURM cluster (munged + slurmctld + slurmd) on localhost.
#
#   STATE=/tmp/binnet-slurm .ci/slurm/start.sh
#
# Needs root and the Debian packages slurm-wlm and munge (.ci/run installs them).
# Everything lives under $STATE: config, munge key and socket, spool, logs, pid files.
# Prints the daemons' pids and the `export SLURM_CONF=...` line to use; the same line is
# written to $STATE/env. Running it again while the daemons are up changes nothing.
# Stop with .ci/slurm/stop.sh (same STATE).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STATE=${STATE:-/tmp/binnet-slurm}
CTLD_PORT=${SLURMCTLD_PORT:-6817}
SLURMD_PORT=${SLURMD_PORT:-6818}

die() { echo "start.sh: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "must run as root (slurmd and munged run as root here)"
for tool in munged mungekey slurmctld slurmd sinfo; do
  command -v "$tool" >/dev/null || die "'$tool' not found: install the Debian packages slurm-wlm and munge"
done

alive() {  # pidfile command-name -> true when that pid is alive and is that program
  [ -s "$1" ] || return 1
  local pid; pid=$(cat "$1")
  kill -0 "$pid" 2>/dev/null && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ]
}
export SLURM_CONF=$STATE/slurm.conf
node_state() { sinfo -h -n localhost -o %t 2>/dev/null || true; }
report() {
  echo "pids: munged=$(cat "$STATE/munge/munged.pid") slurmctld=$(cat "$STATE/slurmctld.pid") slurmd=$(cat "$STATE/slurmd.pid")"
  echo "export SLURM_CONF=$SLURM_CONF" | tee "$STATE/env"
}

running=0
alive "$STATE/munge/munged.pid" munged && running=$((running + 1))
alive "$STATE/slurmctld.pid" slurmctld && running=$((running + 1))
alive "$STATE/slurmd.pid" slurmd && running=$((running + 1))
if [ "$running" -eq 3 ]; then
  case "$(node_state)" in
    idle | mix | alloc) echo "already running under $STATE"; report; exit 0 ;;
  esac
fi
[ "$running" -eq 0 ] || die "some daemons under $STATE are running and some are not: run .ci/slurm/stop.sh first"

# Fresh state: only the directories this script owns are recreated.
mkdir -p "$STATE"
rm -rf "$STATE/munge" "$STATE/slurmctld" "$STATE/slurmd"
mkdir -p "$STATE/munge" "$STATE/slurmctld" "$STATE/slurmd"
chmod 0755 "$STATE" "$STATE/munge"   # munged refuses a socket directory others cannot enter

cpus=$(nproc)
memory_mb=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 * 8 / 10 ))  # 80% of RAM
sed -e "s#@STATE@#$STATE#g" -e "s#@CPUS@#$cpus#g" -e "s#@MEMORY_MB@#$memory_mb#g" \
    -e "s#@CTLD_PORT@#$CTLD_PORT#g" -e "s#@SLURMD_PORT@#$SLURMD_PORT#g" \
    "$HERE/slurm.conf.in" > "$SLURM_CONF"

mungekey --create --keyfile="$STATE/munge/munge.key" --force
chmod 0600 "$STATE/munge/munge.key"
munged --socket="$STATE/munge/munge.socket" --key-file="$STATE/munge/munge.key" \
       --log-file="$STATE/munge/munged.log" --pid-file="$STATE/munge/munged.pid" \
       --seed-file="$STATE/munge/munged.seed"
for _ in $(seq 100); do [ -S "$STATE/munge/munge.socket" ] && break; sleep 0.1; done
[ -S "$STATE/munge/munge.socket" ] || die "munged did not create its socket; see $STATE/munge/munged.log"

slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF" -N localhost   # the host name is not "localhost" on these machines

for _ in $(seq 300); do [ "$(node_state)" = idle ] && break; sleep 0.1; done
if [ "$(node_state)" != idle ]; then
  tail -n 20 "$STATE/slurmctld.log" "$STATE/slurmd.log" >&2 || true
  die "node localhost is not idle (state '$(node_state)'); logs under $STATE"
fi
echo "SLURM up: $cpus CPUs, ${memory_mb} MB on node localhost, partition debug"
report
