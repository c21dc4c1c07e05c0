"""`pip install .` gives a working zsar: pyproject's dependencies name every third-party module
that zsar/ and the workflow's scripts import (many imports sit inside functions), and
requirements.txt pins each of them."""

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

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


# envs/zsar.yaml (the conda route, `snakemake --sdm conda`) names a few packages as conda's channels do.
CONDA_TO_PYPI = {"snakemake-minimal": "snakemake", "matplotlib-base": "matplotlib", "pytorch": "torch"}


def pins(lines, separator: str) -> dict[str, str]:
    """{normalised name: version} of `name<separator>version` lines; other lines are errors."""
    found = {}
    for line in lines:
        name, sep, version = line.partition(separator)
        assert sep and version and not re.search(r"[<>=!~*,; ]", name + version), f"not pinned exactly: {line!r}"
        name = normalised(name.strip())
        assert name not in found, f"listed twice: {name}"
        found[name] = version.strip()
    return found


def test_the_conda_environment_pins_what_requirements_pin():
    """Only what can be checked without conda's channels: the file's shape and its versions."""
    env = yaml.safe_load((REPO / "envs/zsar.yaml").read_text())
    assert env["channels"][0] == "conda-forge" and "nodefaults" in env["channels"]
    conda_lines = [dep for dep in env["dependencies"] if isinstance(dep, str)]
    pip_lines = next(dep["pip"] for dep in env["dependencies"] if isinstance(dep, dict))

    python = next(line for line in conda_lines if line.startswith("python="))
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    assert python == "python=3.11" and Version("3.11") in SpecifierSet(requires)
    assert "pip" in conda_lines
    conda = {CONDA_TO_PYPI.get(name, name): version
             for name, version in pins([line for line in conda_lines if line not in (python, "pip")], "==").items()}
    # Snakemake copies only this file before it builds the environment: no -r, and zsar by absolute path.
    assert "-e ${ZSAR_ROOT}" in pip_lines and 'os.environ["ZSAR_ROOT"]' in (REPO / "Snakefile").read_text()
    pip = pins([line for line in pip_lines if line != "-e ${ZSAR_ROOT}"], "==")

    requirements = pins([line for line in (REPO / "requirements.txt").read_text().splitlines()
                         if line.strip() and not line.startswith("#")], "==")
    parser = pins([line.split()[0] for line in (REPO / "requirements-parser.txt").read_text().splitlines()
                   if line.strip() and not line.startswith("#")], "==")
    assert not conda.keys() & pip.keys(), f"both from conda and from pip: {sorted(conda.keys() & pip.keys())}"
    listed = {**conda, **pip}
    wrong = {name: (version, listed.get(name)) for name, version in {**requirements, **parser}.items()
             if listed.get(name) != version}
    assert not wrong, f"requirements' pin, envs/zsar.yaml's (None: missing): {wrong}"
    assert listed.keys() <= requirements.keys() | parser.keys(), \
        f"in envs/zsar.yaml but not in requirements: {sorted(listed.keys() - requirements.keys() - parser.keys())}"
