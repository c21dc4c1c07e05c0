"""The workflow's files keep the Snakemake ecosystem's format (snakefmt, configured in pyproject.toml)."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_the_snakefile_and_rules_are_snakefmt_formatted():
    result = subprocess.run([sys.executable, "-m", "snakefmt", "--check", "Snakefile", "rules"], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0, f"run `snakefmt Snakefile rules` to format them:\n{result.stderr[-2000:]}"


def test_snakemake_lint_finds_nothing(tmp_path):
    # The repository's config.yaml, linted from a scratch directory so that no artefact is touched.
    from conftest import snakemake

    (tmp_path / "config.yaml").write_text((REPO / "config.yaml").read_text())
    result = snakemake(tmp_path, "--lint", check=False)
    out = result.stdout + result.stderr
    assert result.returncode == 0 and "Congratulations, your workflow is in a good condition" in out, out[-3000:]
