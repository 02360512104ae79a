"""The compose deployer: the stack model as a docker-compose file next to its rendered config files
(``scripts/render``), and the git-ignored ``.env`` of secrets compose reads (``scripts/gen-env``).

A sibling of ``stacks.components`` (the Pulumi deployer): both read ``stacks.model``, neither is
read by it.
"""

__all__: list[str] = []
