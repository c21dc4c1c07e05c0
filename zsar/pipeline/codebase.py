"""The code a stage runs, as rerun triggers: its script and the zsar modules the script imports.

Snakemake tracks a rule's script by its time alone (a fresh clone or a checkout reruns everything;
an edit of the library it calls reruns nothing). Here each module the script imports, directly or
through other zsar modules, imports inside functions included, becomes one parameter of the rule:
its path and a digest of its syntax tree, docstrings left out (comments and layout never reach the
tree). A stage reruns when that code changed and only then, and `snakemake -n` names the module
("Params have changed ... before: zsar/zeroshot/scoring.py 1a2b... now: zsar/zeroshot/scoring.py 3c4d...").

A method's package is imported by name at run time, never by a static import: a run's stages take
the run's method package as a whole (every module in it), and no other method's code.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def modules() -> dict[str, Path]:
    """zsar module name -> its file."""
    found = {}
    for path in sorted((ROOT / "zsar").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _module_of(name: str) -> str | None:
    known = modules()
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


@functools.cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


@functools.cache
def imports_of(path: Path, package: str = "") -> frozenset[str]:
    """The zsar modules a file imports, at any depth of its code (`package`: the file's own, for
    relative imports)."""
    known = modules()
    imported = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            imported |= {_module_of(alias.name) for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            imported.add(_module_of(base))
            imported |= {f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in known}
    return frozenset(imported - {None})


def import_graph() -> dict[str, set[str]]:
    """zsar module -> the zsar modules it imports."""
    return {name: set(imported) for name, imported in _graph().items()}


@functools.cache
def _graph() -> dict[str, frozenset[str]]:
    graph = {}
    for name, path in modules().items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        graph[name] = imports_of(path, package) - {name}
    return graph


def method_package(module: str) -> str | None:
    """The method package a zsar module belongs to (zsar.methods.<name>), if any."""
    parts = module.split(".")
    if len(parts) >= 3 and parts[:2] == ["zsar", "methods"] and parts[2] != "spec":
        return ".".join(parts[:3])
    return None


@functools.cache
def closure(script: Path) -> tuple[str, ...]:
    """The zsar modules a script runs: what it imports, and what those import, method packages left out."""
    graph = _graph()
    seen, todo = set(), list(imports_of(Path(script)))
    while todo:
        name = todo.pop()
        if name in seen or method_package(name) or name == "zsar":  # zsar/__init__.py: the version, provenance
            continue
        seen.add(name)
        todo.extend(graph.get(name, ()))
    return tuple(sorted(seen))


def _docstring_free(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return tree


@functools.cache
def file_digest(path: Path) -> str:
    """A digest of a Python file's code: its syntax tree without docstrings (so without comments,
    blank lines or layout)."""
    tree = _docstring_free(ast.parse(Path(path).read_text(encoding="utf-8"), str(path)))
    return hashlib.blake2b(ast.dump(tree).encode(), digest_size=8).hexdigest()


@functools.cache
def script_code(script: str, basedir: str) -> dict[str, str]:
    """A stage's code as parameters: {name: "<file> <digest>"} for its script (named from the
    workflow's folder, so that a moved project keeps its parameters) and each zsar module it runs."""
    script = Path(script).resolve()
    entries = {"code_script": f"{os.path.relpath(script, basedir)} {file_digest(script)}"}
    for name in closure(script):
        path = modules()[name]
        entries["code_" + name.replace(".", "_")] = f"{path.relative_to(ROOT)} {file_digest(path)}"
    return entries


@functools.cache
def package_code(package: str) -> str:
    """A method package's code as one parameter: "<package> <digest>" of its modules and of every
    zsar module they run (the stage's closure leaves method packages out, so what only a method
    imports, e.g. zsar.models.clip, or another method's package it builds on, is tracked here)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(f"method package {package!r} cannot be found on the Python path")
    folder = Path(next(iter(spec.submodule_search_locations)))
    files = sorted(folder.rglob("*.py"))
    parts = [f"{p.relative_to(folder)} {file_digest(p)}" for p in files]
    graph, seen, todo = _graph(), set(), []
    for path in files:
        own = ".".join([package, *path.relative_to(folder).parent.parts])
        todo.extend(imports_of(path, own))
    while todo:
        name = todo.pop()
        if name in seen or name == "zsar" or name == package or name.startswith(package + "."):
            continue
        seen.add(name)
        todo.extend(graph.get(name, ()))
    known = modules()
    parts += [f"{known[name].relative_to(ROOT)} {file_digest(known[name])}" for name in sorted(seen) if name in known]
    return f"{package} {hashlib.blake2b(chr(10).join(parts).encode(), digest_size=8).hexdigest()}"
