"""Gzip for the static scripts, styles and the figures: a patient's first load on a phone is
counted in bytes transferred (DESIGN §5), and a Spanish page carries longer words and the
scripts' dictionary. Pages and API answers are never compressed: they hold the CSRF token or
health data next to text the user typed — the BREACH pattern. A proxy in front (nginx) leaves an
already encoded answer as it is.
"""

from __future__ import annotations

import gzip
from functools import lru_cache

from flask import Flask, Response, request

COMPRESSED_ENDPOINTS = {"static", "figures.figure", "figures.poses"}
COMPRESSIBLE = {"text/css", "text/javascript", "image/svg+xml", "application/json"}
SMALLEST = 1024  # below this, the header costs about what gzip saves


@lru_cache(maxsize=512)
def _gzip(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=9, mtime=0)


def init_app(app: Flask) -> None:
    @app.after_request
    def _compress(response: Response) -> Response:
        if (
            request.endpoint not in COMPRESSED_ENDPOINTS
            or response.status_code != 200
            or response.mimetype not in COMPRESSIBLE
            or "Content-Encoding" in response.headers
        ):
            return response
        response.vary.add("Accept-Encoding")
        if request.accept_encodings["gzip"] <= 0:
            return response
        response.direct_passthrough = False
        body = response.get_data()
        if len(body) < SMALLEST:
            return response
        # The encoded answer is another representation: its own ETag, revalidated here.
        etag, weak = response.get_etag()
        if etag:
            etag = f"{etag}-gz"
            if request.if_none_match.contains_weak(etag):  # RFC 9110: a weak comparison
                response.close()  # the file it read from
                not_modified = Response(status=304, mimetype=response.mimetype)
                not_modified.set_etag(etag, weak)
                not_modified.vary.add("Accept-Encoding")
                if "Cache-Control" in response.headers:
                    not_modified.headers["Cache-Control"] = response.headers["Cache-Control"]
                return not_modified
            response.set_etag(etag, weak)
        response.set_data(_gzip(body))
        response.headers["Content-Encoding"] = "gzip"
        return response
