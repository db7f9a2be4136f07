"""The type stubs (python/diffeo/_core.pyi) name exactly what the compiled core defines."""

import ast
from pathlib import Path

import diffeo._core as core

STUBS = Path(__file__).resolve().parents[1] / "diffeo" / "_core.pyi"


def stub_classes():
    """{name: ClassDef} of the stubs' classes, private bases (shared methods) included."""
    return {node.name: node for node in ast.parse(STUBS.read_text()).body if isinstance(node, ast.ClassDef)}


def test_stubs_and_module_define_the_same_names():
    tree = ast.parse(STUBS.read_text())
    stubbed = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    public = {name for name in dir(core) if not name.startswith("_")}
    assert {name for name in stubbed if not name.startswith("_")} == public


def test_stubbed_methods_exist():
    classes = stub_classes()
    for name, node in classes.items():
        if name.startswith("_") or name == "Error":
            continue
        cls = getattr(core, name)
        bodies, pending = [], [node]
        while pending:  # the class and its stubbed bases, theirs too
            body = pending.pop()
            bodies.append(body)
            pending += [classes[base.id] for base in body.bases if isinstance(base, ast.Name)]
        for body in bodies:
            for item in body.body:
                if isinstance(item, ast.FunctionDef) and item.name != "__init__":
                    assert hasattr(cls, item.name), f"{name}.{item.name}"


def test_help_is_useful():
    assert "log p(x | context)" in core.Flow.log_prob.__doc__
    assert "normalizing flow" in core.Flow.__doc__
