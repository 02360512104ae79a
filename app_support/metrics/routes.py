"""Route templates of a request, read after the framework has routed it.

Starlette (and FastAPI) record the matched route in ``scope["route"]``; inside a ``Mount`` that is
the innermost route, whose ``path`` lacks the mount prefixes, so the full template is found once
per route object by walking the outermost router (``scope["router"]``) and then cached. Flask
records the matched rule on the request object Werkzeug keeps in ``environ["werkzeug.request"]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

from app_support.metrics.http import template_from_rule

__all__ = ["StarletteRouteTemplates", "flask_route_template"]


def _find_template(routes: Iterable[Any], target: object, prefix: str) -> str | None:
    for route in routes:
        path = getattr(route, "path", "")
        if route is target:
            # A mount of an app without routes (static files, a sub-app) handles a whole subtree.
            if getattr(route, "routes", None) == [] and hasattr(route, "app"):
                return f"{prefix}{path}/{{path}}"
            return f"{prefix}{path}"
        children = getattr(route, "routes", None)
        if children:
            found = _find_template(children, target, prefix + path)
            if found is not None:
                return found
    return None


class StarletteRouteTemplates:
    """Resolves ``scope`` to its full route template, or None when no route matched."""

    def __init__(self) -> None:
        self._cache: dict[int, tuple[object, str | None]] = {}

    def __call__(self, scope: MutableMapping[str, Any]) -> str | None:
        route = scope.get("route")
        if route is None:
            return None
        cached = self._cache.get(id(route))
        if cached is not None and cached[0] is route:
            return cached[1]
        template = self._resolve(scope, route)
        self._cache[id(route)] = (route, template)
        return template

    @staticmethod
    def _resolve(scope: Mapping[str, Any], route: object) -> str | None:
        children = getattr(route, "routes", None)
        if children:
            # The router inside this mount matched nothing: a 404 under the mount's prefix.
            return None
        router = scope.get("router")
        found = _find_template(getattr(router, "routes", ()), route, "") if router else None
        if found is not None:
            return found
        path = getattr(route, "path", None)
        return path if isinstance(path, str) else None


def flask_route_template(environ: Mapping[str, Any]) -> str | None:
    """The matched Flask URL rule of a routed request as a ``{name}`` template, or None."""
    request = environ.get("werkzeug.request")
    rule = getattr(request, "url_rule", None)
    text = getattr(rule, "rule", None)
    return template_from_rule(text) if isinstance(text, str) else None
