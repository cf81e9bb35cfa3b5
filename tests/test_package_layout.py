"""The package's layout rules: no module reaches into another module's private names."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted((ROOT / "companion").rglob("*.py"))


def _private_imports(path: Path) -> list[str]:
    """``module.name`` for every ``from companion... import _name`` in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("companion"):
            found += [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
    return found


def test_the_check_sees_a_private_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from companion.exercises.feedback import Exercise, _Checkable\n")
    assert _private_imports(module) == ["companion.exercises.feedback._Checkable"]
    assert len(MODULES) > 50


def test_no_module_imports_another_modules_private_names() -> None:
    offenders = {
        str(path.relative_to(ROOT)): names for path in MODULES if (names := _private_imports(path))
    }
    assert offenders == {}, f"private names imported across modules: {offenders}"
