"""The core stays pure: stdlib and numpy only, so every decision is testable without devices."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[1] / "coach" / "core"
FORBIDDEN = ("cv2", "mediapipe", "pyttsx3", "matplotlib", "typer", "rich")

IMPORT_ALL_CORE = """
import importlib, json, pkgutil, sys
import coach.core
names = [m.name for m in pkgutil.walk_packages(coach.core.__path__, "coach.core.")]
for name in names:
    importlib.import_module(name)
print(json.dumps({"modules": names, "loaded": sorted(sys.modules)}))
"""


@pytest.mark.slow
def test_importing_every_core_module_loads_no_outside_library():
    out = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL_CORE],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert "coach.core.features" in report["modules"]
    assert len(report["modules"]) >= 8
    loaded = {name.split(".")[0] for name in report["loaded"]}
    assert not loaded & set(FORBIDDEN), sorted(loaded & set(FORBIDDEN))


def imported_roots(path: Path) -> set[str]:
    """Top-level names of every import in a file, including those inside functions."""
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_no_core_file_imports_an_outside_library_anywhere():
    files = sorted(CORE.rglob("*.py"))
    assert files
    offenders = {
        str(f.relative_to(CORE)): sorted(imported_roots(f) & set(FORBIDDEN)) for f in files
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_core_does_not_reach_into_adapters_or_app():
    outward = {}
    for f in sorted(CORE.rglob("*.py")):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            bad = [n for n in names if n.startswith(("coach.adapters", "coach.app"))]
            if bad:
                outward[str(f.relative_to(CORE))] = bad
    assert outward == {}


def test_core_imports_only_stdlib_numpy_and_itself():
    allowed = set(sys.stdlib_module_names) | {"numpy", "coach"}
    strays = {
        str(f.relative_to(CORE)): sorted(imported_roots(f) - allowed)
        for f in sorted(CORE.rglob("*.py"))
    }
    assert {k: v for k, v in strays.items() if v} == {}
