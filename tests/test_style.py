"""The workflow's files keep the Snakemake ecosystem's format (snakefmt, configured in pyproject.toml)."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_the_snakefile_and_rules_are_snakefmt_formatted():
    result = subprocess.run([sys.executable, "-m", "snakefmt", "--check", "Snakefile", "rules"], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0, f"run `snakefmt Snakefile rules` to format them:\n{result.stderr[-2000:]}"
