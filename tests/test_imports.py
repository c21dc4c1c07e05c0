"""The library's imports flow one way: no module imports another that imports it back (directly or
around a loop), and no generic module imports a method's package or a workflow script. Read from
the source, imports inside functions included."""

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

from zsar.pipeline.codebase import import_graph

REPO = Path(__file__).resolve().parents[1]


def test_no_modules_import_each_other_in_a_loop():
    try:
        TopologicalSorter(import_graph()).prepare()
    except CycleError as error:
        raise AssertionError(f"an import loop: {' -> '.join(error.args[1])}") from None


def test_generic_modules_name_no_methods_package_and_no_script():
    from zsar.methods import REGISTRY

    packages = {f"zsar.methods.{name}" for name in REGISTRY}
    for module, imported in import_graph().items():
        if module.startswith("zsar.methods"):
            continue  # the registry and the methods themselves
        assert not {m for m in imported if m.rpartition(".")[0] in packages or m in packages}, module
    scripts = {path.stem for path in (REPO / "workflow_scripts").glob("*.py")}
    for path in (REPO / "zsar").rglob("*.py"):
        tree = ast.parse(path.read_text())
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert not {n for n in names if n.split(".")[0] in scripts | {"workflow_scripts"}}, path


def test_the_registry_holds_every_method_package():
    from zsar.methods import REGISTRY

    packages = {p.name for p in (REPO / "zsar/methods").iterdir() if (p / "__init__.py").is_file()}
    assert set(REGISTRY) == packages and {"e2e", "rest", "jigsaw", "clip", "vificlip", "maxi"} <= packages


def test_the_graph_sees_the_imports_it_checks():
    graph = import_graph()
    assert "zsar.methods" in graph["zsar.pipeline.plan"] and "zsar.methods.spec" in graph["zsar.methods"]
    assert "zsar.models.training" in graph["zsar.methods.e2e.model"]  # a nested package's imports are read


def test_a_methods_code_covers_the_modules_it_alone_runs(monkeypatch):
    """A change to zsar/models/clip.py (which only the CLIP methods import) reruns their runs' training,
    not E2E's; so does a change to another method's package a method builds on (MAXI on ViFi-CLIP)."""
    from zsar.pipeline import codebase

    before = {name: codebase.package_code(f"zsar.methods.{name}") for name in ("e2e", "clip", "maxi")}
    original = codebase.file_digest
    for changed in ("zsar/models/clip.py", "zsar/methods/vificlip/model.py"):
        monkeypatch.setattr(codebase, "file_digest", lambda path: "x" if str(path).endswith(changed) else original(path))
        codebase.package_code.cache_clear()
        after = {name: codebase.package_code(f"zsar.methods.{name}") for name in before}
        assert after["e2e"] == before["e2e"] and after["maxi"] != before["maxi"], changed
        assert (after["clip"] != before["clip"]) == (changed == "zsar/models/clip.py")
    codebase.package_code.cache_clear()
