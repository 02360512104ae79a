"""The ha-stack Pulumi project: a validated stack model, rendered configs and Pulumi components.

``stacks.model`` is pure Python; ``stacks.render`` turns the model into config files and a compose
file; ``stacks.components`` and ``stacks.program`` declare the same model with pulumi-docker.
"""

__all__: list[str] = []
