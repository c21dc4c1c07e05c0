"""Snakemake's lock on a working directory, after a run was killed.

Snakemake locks the files a run writes in .snakemake/locks/ and removes the lock when it ends; a run
killed by the scheduler, by hand or by a power loss leaves it behind, and the next run refuses to
start until `snakemake --unlock`. zsar records which process holds the lock (host, process id and
the process's start time) when a run starts, and removes that record when it ends. When the next
Snakemake parses the workflow and finds a lock whose process is gone from this host, it removes the
lock and says so; a lock held from another host (a cluster's login nodes) cannot be checked from
here, and the message says exactly what to run.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path

from zsar.io import pid_alive

LOCKS = Path(".snakemake/locks")
OWNER = Path(".snakemake/zsar-lock-owner.json")


def _process_stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat's fields after the command name (Linux), None where it cannot be read."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _process_start(pid: int) -> str | None:
    """The start of process `pid`, with the boot it belongs to (Linux), None where it cannot be read."""
    stat = _process_stat(pid)
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None
    return None if stat is None else f"{boot}:{stat[19]}"  # field 22, starttime


def _running(owner: dict) -> bool:
    pid = int(owner["pid"])
    if not pid_alive(pid):
        return False
    stat = _process_stat(pid)
    if stat is not None and stat[0] == "Z":
        return False  # ended, not yet reaped by its parent
    start = _process_start(pid)
    return start is None or owner.get("start") is None or start == owner["start"]  # else: the id was reused


def record_owner() -> None:
    """This Snakemake holds the lock now (call from `onstart`)."""
    OWNER.parent.mkdir(exist_ok=True)
    OWNER.write_text(json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "start": _process_start(os.getpid()),
                                 "since": time.strftime("%Y-%m-%d %H:%M:%S"), "command": " ".join(sys.argv)}))


def release_owner() -> None:
    """The run ended and Snakemake removed its lock (call from `onsuccess` and `onerror`)."""
    OWNER.unlink(missing_ok=True)


def clear_stale(log=None) -> None:
    """Remove a lock left by a Snakemake that no longer runs on this host; explain one that cannot be checked."""
    log = log or sys.stderr
    if not LOCKS.is_dir() or not any(LOCKS.iterdir()):
        return
    try:
        owner = json.loads(OWNER.read_text())
    except (OSError, ValueError):
        return  # not a lock zsar saw taken: Snakemake's own message (snakemake --unlock) stands
    who = f"snakemake (process {owner['pid']} on {owner['host']}, since {owner['since']}: {owner['command']})"
    if owner["host"] != socket.gethostname():
        print(f"zsar: {LOCKS.resolve()} holds the lock of {who}; it cannot be checked from "
              f"{socket.gethostname()}. If that run has ended, run `snakemake --unlock` here once, then your "
              f"command again; if it still runs, wait for it (two runs in one directory would write the same "
              f"files).", file=log)
        return
    if _running(owner):
        print(f"zsar: {who} is still running in this directory: wait for it, or stop it first.", file=log)
        return
    for lock in LOCKS.iterdir():
        lock.unlink(missing_ok=True)
    OWNER.unlink(missing_ok=True)
    print(f"zsar: removed the lock left by {who}, which no longer runs (killed?). Its unfinished jobs run "
          f"again (rerun-incomplete).", file=log)
