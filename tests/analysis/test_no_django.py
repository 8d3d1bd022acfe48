"""The engine is Django-free: dependencies point one way, apps -> analysis."""

from __future__ import annotations

import ast
from pathlib import Path

import forum_helper.analysis

PACKAGE_DIR = Path(forum_helper.analysis.__file__).parent


def _imported_modules(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__":
            names.update(arg.value for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str))
    return names


def test_no_module_in_the_analysis_package_imports_django() -> None:
    modules = sorted(PACKAGE_DIR.rglob("*.py"))
    assert modules, "expected to find the analysis modules"
    offenders = {
        str(path.relative_to(PACKAGE_DIR)): sorted(name for name in _imported_modules(path.read_text()) if name.split(".")[0] == "django")
        for path in modules
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_no_module_in_the_analysis_package_uses_pythons_re_module() -> None:
    # Rule patterns must go through RE2; keeping `re` out entirely makes that easy to see.
    for path in PACKAGE_DIR.rglob("*.py"):
        assert "re" not in _imported_modules(path.read_text()), path
