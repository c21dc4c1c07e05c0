"""`pip install .` gives a working zsar: pyproject's dependencies name every third-party module
that zsar/ and the workflow's scripts import (many imports sit inside functions), and
requirements.txt pins each of them."""

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def third_party_imports(*folders: Path) -> dict[str, str]:
    """{top-level module: the first file:line importing it}, outside the standard library and zsar."""
    found = {}
    for folder in folders:
        for path in sorted(folder.rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top != "zsar":
                        found.setdefault(top, f"{path.relative_to(REPO)}:{node.lineno}")
    return found


def requirement_names(lines) -> set[str]:
    return {normalised(re.split(r"[<>=!~\[; ]", line.strip(), maxsplit=1)[0])
            for line in lines if line.strip() and not line.lstrip().startswith(("#", "-"))}


def test_pyproject_names_every_third_party_import_and_requirements_pin_them():
    declared = requirement_names(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"])
    pinned = requirement_names((REPO / "requirements.txt").read_text().splitlines())
    distributions = packages_distributions()
    imports = third_party_imports(REPO / "zsar", REPO / "workflow_scripts")
    assert {"torch", "h5py", "sentence_transformers", "tqdm"} <= set(imports)  # the scan finds nested imports
    missing = {module: where for module, where in imports.items()
               if not {normalised(d) for d in distributions.get(module, [module])} & declared}
    assert not missing, f"imported but not in pyproject's dependencies: {missing}"
    assert declared <= pinned, f"in pyproject but not pinned in requirements.txt: {sorted(declared - pinned)}"
