#!/usr/bin/env python3
"""Print a SLURM job's state as cluster-generic's status command wants it: running, success or failed.

snakemake-executor-plugin-cluster-generic calls `status.py JOBID` with the id submit.py printed
(sbatch --parsable: `ID` or `ID;CLUSTER`) every few seconds while the job is active, and expects one
line on stdout. A non-zero exit stops the whole run, so a scheduler that does not answer (busy
controller, timeout) is reported as running and asked again at the next check.

Where the answer comes from: squeue, which knows a job for MinJobAge (300 s by default) after it
ended; then sacct, where accounting (slurmdbd) is set up. scontrol would ask the same controller
as squeue and is not asked. A job neither knows is reported as failed: it ended long ago and its
fate is unknown, so Snakemake checks its outputs anew by rerunning it rather than trusting them.
"""

import subprocess
import sys

# Every job state SLURM documents (squeue --states, sacct --state); sacct writes "CANCELLED by UID".
RUNNING = {"PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED", "REQUEUE_FED",
           "REQUEUE_HOLD", "RESIZING", "RESV_DEL_HOLD", "SIGNALING", "STAGE_OUT", "STOPPED", "POWER_UP_NODE"}
SUCCESS = {"COMPLETED"}
FAILED = {"FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "BOOT_FAIL", "DEADLINE", "PREEMPTED",
          "REVOKED", "SPECIAL_EXIT"}


def verdict(states: list[str]) -> str:
    """running while any part of the job is active, success when every part completed, else failed.

    A state not listed above (a newer SLURM's) counts as failed, so that a job that ended in it is noticed;
    the state is named on stderr.
    """
    names = [state.split()[0].rstrip("+").upper() for state in states if state.strip()]
    for name in names:
        if name not in RUNNING | SUCCESS | FAILED:
            print(f"status.py: unknown SLURM job state {name!r}, taken as failed", file=sys.stderr)
    if any(name in RUNNING for name in names):
        return "running"
    return "success" if names and all(name in SUCCESS for name in names) else "failed"


class Unanswered(Exception):
    """The scheduler did not answer (as opposed to answering that it does not know the job)."""


def ask(command: list[str]) -> list[str]:
    """The states the command prints, one per line; [] when it does not know the job."""
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise Unanswered(f"{command[0]}: {error}") from error
    if result.returncode != 0:
        if "Invalid job id" in result.stderr:
            return []
        raise Unanswered(f"{' '.join(command)} exited with {result.returncode}: {result.stderr.strip()}")
    return [line for line in result.stdout.splitlines() if line.strip()]


def status(external_id: str) -> str:
    job, _, cluster = external_id.strip().partition(";")
    clusters = ["--clusters", cluster] if cluster else []
    try:
        states = ask(["squeue", *clusters, "--noheader", "--states=all", "--jobs", job, "--format=%T"])
    except Unanswered as error:
        print(f"status.py: {error}; job {job} taken as running until the next check", file=sys.stderr)
        return "running"
    if states:
        return verdict(states)
    try:  # squeue has forgotten the job: accounting, where there is one
        states = ask(["sacct", *clusters, "--noheader", "--parsable2", "--allocations", "--jobs", job,
                      "--format=State"])
    except Unanswered as error:  # no slurmdbd: "Slurm accounting storage is disabled"
        states, why = [], str(error)
    else:
        why = "sacct does not know it either"
    if states:
        return verdict(states)
    print(f"status.py: SLURM no longer knows job {job} ({why}); taken as failed", file=sys.stderr)
    return "failed"


if __name__ == "__main__":
    print(status(sys.argv[-1]))
