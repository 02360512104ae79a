"""The ASGI web service: routes, upload reading and the app factory."""

__all__: list[str] = []
