"""Pure functions from the stack model to config files and a docker-compose file."""

__all__: list[str] = []
