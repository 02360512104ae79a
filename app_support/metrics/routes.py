"""Route templates of a request, read after the framework has routed it.

Starlette records the matched route in ``scope["route"]``; inside a ``Mount`` that is the innermost
route, whose ``path`` lacks the mount prefixes, so the full template is found once per route
object by walking the outermost router (``scope["router"]``) and then cached.

FastAPI (>= 0.116) serves the routes of ``include_router`` through an included-router object: its
``effective_route_contexts()`` give every route with the include prefixes applied, and the context
that served a request is in ``scope["fastapi"]["effective_route_context"]`` while
``scope["route"]`` is the router's own ``APIRoute`` (the same object for every place the router is
included, its ``path`` without any prefix). So the context, not the route, keys the cache. FastAPI
sets no ``scope["route"]`` for the plain Starlette routes and mounts of a FastAPI app; those
requests are matched again against the router's routes (what prometheus-fastapi-instrumentator does
for every request), from the path as it arrived.

Flask records the matched rule on the request object Werkzeug keeps in
``environ["werkzeug.request"]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import Any

from app_support.metrics.http import template_from_rule

__all__ = ["StarletteRouteTemplates", "flask_route_template"]


def _entries(routes: Iterable[Any]) -> Iterator[tuple[object, Any]]:
    """(identity, routable) per route: an included router expands into its effective routes,
    each with the include prefixes in its ``path`` (a plain route or mount is its own ``routable``
    there, in its prefixed copy)."""
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if not callable(contexts):
            yield route, route
            continue
        for context in contexts():
            inner = getattr(context, "starlette_route", None)
            yield context, context if inner is None else inner


def _opaque_mount(route: Any) -> bool:
    # A mount of an app without routes (static files, a sub-app) handles a whole subtree.
    return getattr(route, "routes", None) == [] and hasattr(route, "app")


def _find_template(routes: Iterable[Any], target: object, prefix: str) -> str | None:
    for identity, route in _entries(routes):
        path = getattr(route, "path", "")
        if identity is target or route is target:
            return f"{prefix}{path}/{{path}}" if _opaque_mount(route) else f"{prefix}{path}"
        children = getattr(route, "routes", None)
        if children:
            found = _find_template(children, target, prefix + path)
            if found is not None:
                return found
    return None


def _match_template(routes: Iterable[Any], scope: Mapping[str, Any], prefix: str) -> str | None:
    """The template of the route that matches ``scope``, as the router itself would pick it: the
    first full match, else the first partial one (a known path with another method)."""
    partial: str | None = None
    for _, route in _entries(routes):
        match, child_scope = route.matches(scope)
        kind = getattr(match, "name", "NONE")
        path = getattr(route, "path", None)
        if kind == "NONE" or not isinstance(path, str):
            continue
        children = getattr(route, "routes", None)
        if _opaque_mount(route):
            template: str | None = f"{prefix}{path}/{{path}}"
        elif children:
            template = _match_template(children, {**scope, **child_scope}, prefix + path)
        else:
            template = f"{prefix}{path}"
        if template is None:
            continue
        if kind == "FULL":
            return template
        partial = partial or template
    return partial


# Cached for a mount whose router recorded no route of its own: match again each time. Not a
# template: those start with "/".
_REMATCH = "<rematch>"


class StarletteRouteTemplates:
    """Resolves ``scope`` to its full route template, or None when no route matched."""

    def __init__(self) -> None:
        self._cache: dict[int, tuple[object, str | None]] = {}

    def __call__(self, scope: MutableMapping[str, Any]) -> str | None:
        route = scope.get("route")
        if route is None:
            return self._rematch(scope)
        key: object = route
        extension = scope.get("fastapi")
        if isinstance(extension, dict):
            # The effective route context that served ``route``, when FastAPI recorded one.
            context = extension.get("effective_route_context")
            if getattr(context, "original_route", None) is route:
                key = context
        cached = self._cache.get(id(key))
        if cached is not None and cached[0] is key:
            template = cached[1]
        else:
            # Only the mount the request went into: its router (a FastAPI app's) recorded no
            # route, or matched nothing (a 404 under the mount's prefix).
            template = _REMATCH if getattr(route, "routes", None) else self._resolve(scope, key)
            self._cache[id(key)] = (key, template)
        return self._rematch(scope) if template is _REMATCH else template

    @staticmethod
    def _resolve(scope: Mapping[str, Any], key: object) -> str | None:
        router = scope.get("router")
        found = _find_template(getattr(router, "routes", ()), key, "") if router else None
        if found is not None:
            return found
        path = getattr(key, "path", None)
        return path if isinstance(path, str) else None

    @staticmethod
    def _rematch(scope: Mapping[str, Any]) -> str | None:
        router = scope.get("router")
        if router is None:
            return None
        # Mounts the request went through have moved their prefixes into root_path; the path
        # is matched again from the top, with the root path the app was called with.
        root = scope.get("app_root_path", scope.get("root_path", ""))
        probe = {**scope, "root_path": root, "path_params": {}}
        return _match_template(getattr(router, "routes", ()), probe, "")


def flask_route_template(environ: Mapping[str, Any]) -> str | None:
    """The matched Flask URL rule of a routed request as a ``{name}`` template, or None."""
    request = environ.get("werkzeug.request")
    rule = getattr(request, "url_rule", None)
    text = getattr(rule, "rule", None)
    return template_from_rule(text) if isinstance(text, str) else None
