"""The layers of ``lib``: every import, function-level ones included, points
to the same layer or a lower one, and no module imports itself round a circle."""

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.backend_free

LIB = Path(__file__).resolve().parent.parent / "lib"
#: lower first (docs/design.md draws them)
LAYERS = ("store", "training", "campaign", "measure", "analysis", "cli")


def _module(path: Path) -> str:
    parts = path.relative_to(LIB.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The lib modules ``path`` imports anywhere in its body."""
    mod = _module(path)
    package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "lib"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "lib":
                continue
            # `from pkg import name` may name a submodule
            for a in node.names:
                sub = LIB.parent / Path(*f"{target}.{a.name}".split("."))
                out.add(f"{target}.{a.name}" if sub.with_suffix(".py").exists()
                        or (sub / "__init__.py").exists() else target)
    return out


def _layer(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 1:
        return -1                                  # lib/__init__: imports nothing of lib
    name = parts[1]
    return LAYERS.index("cli") if name in ("cli", "__main__") else LAYERS.index(name)


GRAPH = {_module(p): _imports(p) for p in LIB.rglob("*.py")}


def test_every_module_sits_in_a_layer():
    assert {m.split(".")[1] for m in GRAPH if "." in m} <= set(LAYERS) | {"__main__"}


def test_no_import_points_up_a_layer():
    upward = [(m, t) for m, ts in GRAPH.items() for t in ts if _layer(t) > _layer(m)]
    assert not upward, f"imports from a lower layer into a higher one: {upward}"


def test_no_import_circle():
    state: dict = {}

    def visit(m, path):
        state[m] = "open"
        for t in sorted(GRAPH.get(m, ())):
            if t == m or t not in GRAPH:
                continue
            if state.get(t) == "open":
                pytest.fail(f"import circle: {' -> '.join(path + [m, t])}")
            if t not in state:
                visit(t, path + [m])
        state[m] = "done"

    for m in sorted(GRAPH):
        if m not in state:
            visit(m, [])


def test_the_walk_sees_function_level_and_relative_imports():
    assert "lib.training.train" in GRAPH["lib.campaign.cache"]          # inside ensure()
    assert "lib.store.paths" in GRAPH["lib.store.runfiles"]              # from .paths import
    assert "lib.campaign.experiments" in GRAPH["lib.campaign.profiles"]  # from . import experiments
