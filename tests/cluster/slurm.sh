#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, for tests/test_cluster.py: `slurm.sh start` installs
# Debian's slurm-wlm and munge when they are missing (root only), writes /etc/slurm/slurm.conf
# (the Snakemake SLURM plugin clears SLURM_CONF, so it must be there), starts munged, slurmctld
# and slurmd, and waits until the node takes jobs. `slurm.sh stop` stops them.
# Partitions: cpu (default) and gpu, both this node; no GPU is declared, so nothing may ask for one.
set -euo pipefail
state=/tmp/zsar-slurm
action=${1:?usage: slurm.sh start|stop}

stop() {
    for daemon in slurmd slurmctld munged; do
        pkill -x "$daemon" 2>/dev/null || true
    done
}

if [[ $action == stop ]]; then
    stop
    exit 0
fi

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    if [[ $(id -u) != 0 ]]; then
        echo "slurm-wlm and munge are not installed and this user cannot install them (not root):" \
             "apt-get install slurm-wlm munge" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi

stop
mkdir -p "$state"/{ctld,d} /etc/slurm /run/munge /var/log/munge /var/lib/munge
[[ -s /etc/munge/munge.key ]] || mungekey --create --keyfile=/etc/munge/munge.key
chown -R munge:munge /etc/munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
chmod 0700 /etc/munge
chmod 0400 /etc/munge/munge.key
munged --force

node=$(hostname -s)
cpus=$(nproc)
memory=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512 ))
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=zsar
SlurmctldHost=$node
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/d
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$node CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=cpu Nodes=$node Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=$node MaxTime=INFINITE State=UP
CONF

slurmctld
slurmd
for _ in $(seq 60); do
    if sinfo -h -N -o %T 2>/dev/null | grep -qx idle; then
        exit 0
    fi
    sleep 0.5
done
echo "the SLURM node did not become idle in 30 s:" >&2
sinfo -N >&2 || true
tail -n 20 "$state/slurmctld.log" "$state/slurmd.log" >&2 || true
exit 1
