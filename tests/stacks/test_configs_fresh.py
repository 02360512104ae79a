"""configs/<stack>/ is committed: it must equal a fresh render of Pulumi.<stack>.yaml."""

from pathlib import Path

import pytest

from stacks.compose.files import rendered_files
from stacks.model import stack_topology

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("stack", ["dev", "prod", "prod-swarm"])
def test_committed_configs_equal_a_fresh_render(stack: str) -> None:
    fresh = rendered_files(stack_topology(stack))
    directory = ROOT / "configs" / stack
    committed = {
        p.relative_to(directory).as_posix(): p.read_text()
        for p in directory.rglob("*")
        # .env and a Swarm stack's secrets/ are generated, git-ignored files.
        if p.is_file() and p.name != ".env" and "secrets" not in p.relative_to(directory).parts
    }
    stale = sorted(
        path for path in fresh.keys() & committed.keys() if fresh[path] != committed[path]
    )
    assert not stale, f"stale: {stale}; run scripts/render"
    assert committed.keys() == fresh.keys(), "run scripts/render"


def test_every_stack_file_has_rendered_configs() -> None:
    stacks = {p.name.split(".")[1] for p in ROOT.glob("Pulumi.*.yaml")}
    assert stacks == {"dev", "prod", "dev-cluster", "prod-swarm"}
    assert {p.name for p in (ROOT / "configs").iterdir() if p.is_dir()} == stacks
