"""The reference application the stacks deploy: CSV sales import + analytics on app_support.

``python -m reference_app web`` serves the ASGI app (uvicorn, ``$PORT``); ``python -m reference_app
worker`` runs the import and analytics worker. See reference_app/README.md for the CSV shape and
the HTTP API.
"""

__all__: list[str] = []
