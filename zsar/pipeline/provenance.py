"""What produced a result: the package version and the git commit of the checkout."""

from __future__ import annotations

import subprocess
from pathlib import Path

import zsar

REPO = Path(__file__).resolve().parents[2]


def code_version() -> dict[str, str]:
    version = {"zsar": zsar.__version__}
    try:
        described = subprocess.run(
            ["git", "-C", str(REPO), "describe", "--always", "--dirty", "--abbrev=12"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()
        version["git"] = described
    except (OSError, subprocess.SubprocessError):
        version["git"] = "unknown (not a git checkout)"
    return version
