"""scripts/stack_health.py imported as a module (scripts/ is not a package)."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

__all__ = ["load_stack_health"]

_PATH = Path(__file__).resolve().parents[2] / "scripts" / "stack_health.py"


def load_stack_health() -> ModuleType:
    """The module, loaded once (dataclasses need it in sys.modules while they are made)."""
    if "stack_health" not in sys.modules:
        spec = importlib.util.spec_from_file_location("stack_health", _PATH)
        assert spec is not None, _PATH
        assert spec.loader is not None, _PATH
        module = importlib.util.module_from_spec(spec)
        sys.modules["stack_health"] = module
        spec.loader.exec_module(module)
    return sys.modules["stack_health"]
