"""The web app: read-only views of the store. It never fetches upstream."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, render_template, request

from feedsvc.config import Settings
from feedsvc.errors import NotFound
from feedsvc.links import Links
from feedsvc.storage import ReadStore, Store
from feedsvc.text import xml_safe
from feedsvc.web.cache import RenderCache


class WebState:
    """What every request needs: settings, store, links, the render cache."""

    def __init__(self, settings: Settings, store: ReadStore) -> None:
        self.settings = settings
        self.store = store
        self.links = Links(settings.service.base_url)
        self.cache = RenderCache()

    def apply_settings(self, settings: Settings) -> None:
        """A reloaded config: new and removed feeds are served (or not) from
        the next request on. Every cached rendering may name a feed, so the
        cache starts afresh."""
        self.links = Links(settings.service.base_url)
        self.settings = settings
        self.cache = RenderCache()


def state_of(app: Flask) -> WebState:
    value: WebState = app.extensions["feedsvc"]
    return value


def state() -> WebState:
    from flask import current_app

    value: WebState = current_app.extensions["feedsvc"]
    return value


def create_app(settings: Settings, store: ReadStore | None = None) -> Flask:
    app = Flask(__name__)
    app.config["JSON_SORT_KEYS"] = False
    # Block tags leave no blank lines behind in the HTML.
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    # Every value a page prints loses the characters XML forbids (text.xml_safe).
    app.jinja_env.finalize = xml_safe
    app.extensions["feedsvc"] = WebState(settings, store or Store(settings.service.database))
    from feedsvc.web import (
        api,
        exports,
        feeds,
        health,
        metrics,
        pages,
        params,
        search,
        security,
        stats,
    )

    params.init_app(app)
    security.init_app(app)
    exports.init_app(app, settings.service.max_exports)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(health.bp)
    metrics.init_app(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(stats.bp)
    app.register_blueprint(search.bp)

    @app.errorhandler(NotFound)
    def _not_found(exc: NotFound) -> Any:
        return _error(404, str(exc))

    @app.errorhandler(404)
    def _404(exc: Exception) -> Any:
        return _error(404, "not found")

    @app.errorhandler(400)
    def _400(exc: Exception) -> Any:
        return _error(400, getattr(exc, "description", "bad request"))

    @app.errorhandler(405)
    def _405(exc: Exception) -> Any:
        response = _error(405, "method not allowed")
        response.headers["Allow"] = ", ".join(getattr(exc, "valid_methods", None) or ())
        return response

    @app.errorhandler(500)
    def _500(exc: Exception) -> Any:
        return _error(500, "internal error")

    return app


def _error(status: int, message: str) -> Response:
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        response = jsonify(error=message, status=status)
    else:
        response = Response(
            render_template("error.html", status=status, message=message), mimetype="text/html"
        )
    response.status_code = status
    return response
