"""HTTP answers built from cached renderings: ETag, Last-Modified, 304."""

from __future__ import annotations

from flask import Response, request

from feedsvc.web.cache import Rendered


def send(rendered: Rendered, max_age: int) -> Response:
    response = Response(rendered.body, mimetype=rendered.mimetype)
    response.set_etag(rendered.etag)
    if rendered.last_modified is not None:
        response.last_modified = rendered.last_modified
    response.cache_control.public = True
    response.cache_control.max_age = max_age
    response.vary.add("Accept-Encoding")
    response.make_conditional(request)
    return response
