"""Imports point down: a module never imports one of a higher layer.

The layers are the README's: the shared data at the bottom, then the infrastructure (the
network, the store, the index), reading, the stages that find and fetch footage, the pipeline
that wires them, the scheduled job and upkeep, and the command line on top. A new module must
be given a layer here, or this test fails.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import embedarc

ROOT = Path(embedarc.__file__).resolve().parent

LAYERS: dict[str, tuple[str, ...]] = {
    "base": (
        "embedarc", "model", "errors", "clock", "units", "network.once", "network.guard", "config",
        "records", "keeping.mp4", "keeping.spool", "keeping.sidecar_record", "reading", "network",
        "keeping", "job", "upkeep", "evidence",
    ),
    "infrastructure": (
        "reading.urls", "reading.decoding", "reading.markup", "network.deadline", "network.guarded",
        "network.net", "keeping.store", "keeping.changes", "keeping.media", "keeping._sqlite_utils",
        "keeping.index", "keeping.lock", "network.capture", "network.capture_record",
        "keeping.catalog",
    ),
    "reading": (
        "reading.content", "reading.links", "reading.articles", "job.itemcheck", "platforms",
        "platforms.*",
    ),
    "stages": (
        "network.resolve", "footage", "footage.*", "keeping.sidecar", "job.retries",
        "evidence.perceptual", "evidence.credentials", "evidence.timestamps", "evidence.kept",
        "evidence.similar", "keeping.exchanges", "keeping.thumbs",
    ),
    "pipeline": (
        "job.pipeline",
    ),
    "job and upkeep": (
        "job.schedule", "job.sources", "job.status", "job.linkrot", "job.doctor", "upkeep.verify",
        "upkeep.maintenance", "evidence.verify_evidence", "evidence.verify_export", "evidence.warc",
        "evidence.wacz", "evidence.export", "report", "report.*", "upkeep.query", "upkeep.search",
    ),
    "command line": (
        "cli", "cli.*",
    ),
}  # fmt: skip
ORDER = list(LAYERS)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts) or "embedarc"


def layer_of(module: str) -> str:
    for layer, members in LAYERS.items():
        for member in members:
            if module == member or (member.endswith(".*") and module.startswith(member[:-1])):
                return layer
    raise AssertionError(f"{module} has no layer in tests/test_layers.py")


def imported(path: Path, module: str) -> set[str]:
    """The embedarc modules a module imports (at run time or for type checking alike)."""
    known = {module_name(p) for p in ROOT.rglob("*.py")}
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = (node.module or "").removeprefix("embedarc").lstrip(".")
                if not (node.module or "").startswith("embedarc"):
                    continue
            target = target or "embedarc"
            for alias in node.names:
                candidate = f"{target}.{alias.name}" if target != "embedarc" else alias.name
                if candidate in known:
                    found.add(candidate)
            if target in known:
                found.add(target)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("embedarc."):
                    found.add(alias.name.removeprefix("embedarc."))
    found.discard(module)
    return found


MODULES = sorted(ROOT.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_a_module_imports_only_its_own_layer_or_lower_ones(path: Path) -> None:
    module = module_name(path)
    mine = ORDER.index(layer_of(module))
    higher = {
        other: layer_of(other)
        for other in imported(path, module)
        if ORDER.index(layer_of(other)) > mine
    }
    assert higher == {}, f"{module} ({layer_of(module)}) imports from higher layers: {higher}"


def test_the_layer_test_sees_imports() -> None:
    """The reader of imports itself: it finds relative, absolute and package imports."""
    pipeline = ROOT / "job" / "pipeline.py"
    found = imported(pipeline, "job.pipeline")
    assert {
        "keeping.store",
        "keeping.index",
        "footage.collect",
        "network.resolve",
        "model",
    } <= found


def test_test_modules_share_helpers_through_one_module() -> None:
    """What several test modules need lives in tests/helpers.py (or conftest.py, simweb/):
    a test module never imports another, so each can change without breaking the rest."""
    tests = Path(__file__).resolve().parent
    crossing = []
    for path in sorted(tests.glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            if any(n.startswith("tests.test_") for n in names):
                crossing.append(f"{path.name}:{node.lineno}")
    assert crossing == []


def test_the_groups_packages_are_namespaces_only() -> None:
    """reading/, network/, keeping/, job/, upkeep/ and evidence/ name the README's groups; their
    __init__ imports nothing, so a module's layer is its own and importing one module of a
    group loads no other."""
    for group in ("reading", "network", "keeping", "job", "upkeep", "evidence"):
        tree = ast.parse((ROOT / group / "__init__.py").read_text(encoding="utf-8"))
        assert [type(node).__name__ for node in tree.body] == ["Expr"], group
