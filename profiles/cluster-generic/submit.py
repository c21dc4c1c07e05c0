#!/usr/bin/env python3
"""Submit one Snakemake job script with sbatch; print the job id (cluster-generic's submit command).

Reads the job's threads and resources from the properties line Snakemake writes into the script.
"""

import json
import os
import re
import subprocess
import sys

script = sys.argv[-1]
with open(script) as handle:
    properties = json.loads(re.search(r"^# properties = (.*)$", handle.read(), re.M).group(1))
resources = properties.get("resources", {})
name = properties.get("rule") or properties.get("groupid") or "group"
gpus = int(resources.get("gpu", 0) or 0)
gres = resources.get("gres") or ""  # a run on several nodes asks its GPUs a node: gpu:N
nodes = int(resources.get("nodes", 1) or 1)
os.makedirs("logs/cluster", exist_ok=True)
command = ["sbatch", "--parsable", f"--job-name=zsar-{name}", f"--output=logs/cluster/{name}-%j.log",
           f"--cpus-per-task={properties.get('threads', 1)}", f"--mem={resources.get('mem_mb', 4000)}",
           f"--time={resources.get('runtime', 120)}", f"--partition={'gpu' if gpus or gres else 'cpu'}",
           f"--nodes={nodes}"]
if gpus:
    command.append(f"--gpus={gpus}")
if gres:
    command.append(f"--gres={gres}")
print(subprocess.run([*command, script], check=True, capture_output=True, text=True).stdout.strip())
