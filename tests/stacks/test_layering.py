"""The house reads program -> {components, compose} -> model: no import arrow runs back up.

Read with ast (nothing imported), so a violation fails here even in code no test exercises.
"""

import ast
import sys
from pathlib import Path

import pytest

STACKS = Path(__file__).resolve().parents[2] / "stacks"
# Third-party modules the pure model may use: PyYAML for the stack files, nothing that deploys.
MODEL_THIRD_PARTY = {"yaml"}


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, absolute (relative imports resolved against its package)."""
    package = ".".join(path.relative_to(STACKS.parent).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - node.level + 1], *filter(None, [base])])
            found.add(base)
            # ``from stacks import compose`` imports a package, not just a name.
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _modules(package: str) -> dict[str, set[str]]:
    directory = STACKS.parent / package.replace(".", "/")
    return {
        path.relative_to(STACKS.parent).as_posix(): _imports(path)
        for path in sorted(directory.rglob("*.py"))
    }


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(f"{package}.")


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("stacks.model", ("stacks.components", "stacks.compose", "stacks.program")),
        ("stacks.components", ("stacks.compose", "stacks.program")),
        ("stacks.compose", ("stacks.components", "stacks.program", "pulumi", "pulumi_docker")),
    ],
)
def test_no_arrow_runs_back_up_or_across(package: str, forbidden: tuple[str, ...]) -> None:
    modules = _modules(package)
    assert len(modules) >= 3, f"{package}: no modules found"
    wrong = {
        module: sorted(name for name in names if any(_within(name, f) for f in forbidden))
        for module, names in modules.items()
    }
    assert not {m: names for m, names in wrong.items() if names}


def test_the_model_is_pure_python() -> None:
    """The model imports the standard library, PyYAML and itself: no Pulumi, no app_support."""
    for module, names in _modules("stacks.model").items():
        roots = {name.split(".")[0] for name in names}
        foreign = roots - set(sys.stdlib_module_names) - MODEL_THIRD_PARTY - {"stacks"}
        assert not foreign, f"{module} imports {sorted(foreign)}"
        outside = sorted(
            name for name in names if _within(name, "stacks") and not _within(name, "stacks.model")
        )
        assert not outside, f"{module} imports {outside}"


def test_the_old_render_package_is_gone() -> None:
    assert not (STACKS / "render").exists()
    packages = ("stacks", "tests.stacks", "tests.infra", "tests.drills")
    every = set().union(*(names for p in packages for names in _modules(p).values()))
    assert not [name for name in every if _within(name, "stacks.render")]
