"""Every file committed under ``configs/<stack>/``: the uploaded configs plus the compose file
(platform docker) or the Swarm stack file (platform swarm)."""

from pathlib import Path

from stacks.compose.compose import render_compose
from stacks.compose.swarm import STACK_FILE, render_stack_file
from stacks.model.spec import Topology

__all__ = ["COMPOSE_FILE", "rendered_files", "write_rendered_files"]

COMPOSE_FILE = "docker-compose.yml"


def rendered_files(topology: Topology) -> dict[str, str]:
    """Relative path -> content; ValueError if two containers render one path differently."""
    files: dict[str, str] = {}
    for spec in topology.containers:
        for config in spec.files.values():
            if files.setdefault(config.source, config.content) != config.content:
                raise ValueError(f"{config.source} rendered twice with different content")
    if topology.platform == "swarm":
        files[STACK_FILE] = render_stack_file(topology)
    else:
        files[COMPOSE_FILE] = render_compose(topology)
    return dict(sorted(files.items()))


def write_rendered_files(topology: Topology, directory: Path) -> list[Path]:
    """Write the files; delete rendered ones (``*.conf``, ``*.yml``, ``*.sh``) another mode left
    behind."""
    files = rendered_files(topology)
    directory.mkdir(parents=True, exist_ok=True)
    for stale in [*directory.rglob("*.conf"), *directory.rglob("*.yml"), *directory.rglob("*.sh")]:
        if stale.relative_to(directory).as_posix() not in files:
            stale.unlink()
    written = []
    for relative, content in files.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text() != content:
            path.write_text(content)
        written.append(path)
    return written
