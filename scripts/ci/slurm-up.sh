#!/usr/bin/env bash
# A real single-node Slurm cluster on this host (localhost), for the sweep launcher's integration test.
# Installs Debian's slurm-wlm and munge when missing (root + apt-get), writes a minimal slurm.conf
# (NodeName=localhost, no cgroups, no accounting database), starts munged, slurmctld and slurmd, and
# waits until sinfo shows the node idle. Idempotent: a cluster that is already up is left as it is.
# Stop it with scripts/ci/slurm-down.sh.
set -euo pipefail

CONF_DIR=/etc/slurm
STATE=/var/spool/slurmctld
SPOOL=/var/spool/slurmd
LOGS=/var/log/slurm
WAIT_S=${SLURM_UP_TIMEOUT_S:-90}

say() { echo "slurm-up: $*" >&2; }

if [ "$(id -u)" != 0 ]; then
  say "must run as root (it installs packages and starts daemons)"
  exit 1
fi

if ! command -v slurmctld >/dev/null 2>&1 || ! command -v slurmd >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1 || ! command -v sbatch >/dev/null 2>&1; then
  say "installing slurm-wlm and munge"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi

if sinfo -h -o '%T' 2>/dev/null | grep -Eq '^(idle|mixed|allocated)'; then
  say "already up: $(sinfo -h -o '%N %T' | head -1)"
  exit 0
fi

mkdir -p "$CONF_DIR" "$STATE" "$SPOOL" "$LOGS" /run/munge /var/lib/munge /var/log/munge /etc/munge

# --- munge ------------------------------------------------------------------------------------------
if [ ! -s /etc/munge/munge.key ]; then
  if command -v mungekey >/dev/null 2>&1; then mungekey --create --force >/dev/null 2>&1 || true; fi
  if [ ! -s /etc/munge/munge.key ]; then dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none; fi
fi
chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge
chmod 0700 /etc/munge /var/lib/munge /var/log/munge
chmod 0755 /run/munge
chmod 0400 /etc/munge/munge.key
if ! pgrep -u munge -x munged >/dev/null 2>&1; then
  say "starting munged"
  runuser -u munge -- /usr/sbin/munged
fi
for _ in $(seq 1 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.2; done
munge -n | unmunge >/dev/null || { say "munge does not work"; exit 1; }

# --- slurm.conf ---------------------------------------------------------------------------------------
CPUS=$(nproc)
MEM_MB=$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.8 }' /proc/meminfo)
cat >"$CONF_DIR/slurm.conf" <<EOF
# Written by scripts/ci/slurm-up.sh: one node, this host, no cgroups, no accounting database.
ClusterName=dfdet-ci
SlurmctldHost=localhost(127.0.0.1)
AuthType=auth/munge
CryptoType=crypto/munge
SlurmUser=root
SlurmdUser=root
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$STATE
SlurmdSpoolDir=$SPOOL
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
SlurmdParameters=config_overrides
ReturnToService=2
MinJobAge=600
KillWait=30
SchedulerParameters=sched_interval=2
MaxArraySize=10001
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF

if ! pgrep -x slurmctld >/dev/null 2>&1; then
  say "starting slurmctld"
  slurmctld -c -i
fi
if ! pgrep -x slurmd >/dev/null 2>&1; then
  say "starting slurmd"
  slurmd -N localhost
fi

for _ in $(seq 1 $((WAIT_S * 2))); do
  state=$(sinfo -h -n localhost -o '%T' 2>/dev/null | head -1 || true)
  case "$state" in
    idle | mixed | allocated) say "up: node localhost $state ($CPUS CPUs, ${MEM_MB} MB)"; exit 0 ;;
    down* | drain* | fail*) scontrol update NodeName=localhost State=RESUME >/dev/null 2>&1 || true ;;
  esac
  sleep 0.5
done
say "the node did not become idle within ${WAIT_S}s; state: $(sinfo -h -o '%N %T %E' 2>&1 | head -3)"
tail -n 20 "$LOGS/slurmctld.log" "$LOGS/slurmd.log" >&2 || true
exit 1
