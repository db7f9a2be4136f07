"""The type stubs (python/diffeo/_core.pyi) name exactly what the compiled core defines."""

import ast
from pathlib import Path

import diffeo._core as core

STUBS = Path(__file__).resolve().parents[1] / "diffeo" / "_core.pyi"


def test_stubs_and_module_define_the_same_names():
    tree = ast.parse(STUBS.read_text())
    stubbed = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    public = {name for name in dir(core) if not name.startswith("_")}
    assert stubbed == public


def test_stubbed_methods_exist():
    tree = ast.parse(STUBS.read_text())
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name != "Error":
            cls = getattr(core, node.name)
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name != "__init__":
                    assert hasattr(cls, item.name), f"{node.name}.{item.name}"


def test_help_is_useful():
    assert "log p(x | context)" in core.Flow.log_prob.__doc__
    assert "normalizing flow" in core.Flow.__doc__
