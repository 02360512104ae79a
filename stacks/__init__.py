"""The ha-stack Pulumi project: a validated stack model and two deployers of it.

The house reads program -> {components, compose} -> model: ``stacks.model`` is pure Python (the
settings, the topology, the config files its containers carry, the stack-to-app contract);
``stacks.components`` and ``stacks.program`` declare it with pulumi-docker; ``stacks.compose``
renders it as a docker-compose file. tests/stacks/test_layering.py keeps the arrows pointing down.
"""

__all__: list[str] = []
