"""Scripts, styles and figures go gzipped to a browser that accepts it, with their own ETag that
revalidates to a 304; pages and API answers never do (they carry the CSRF token beside what the
user typed: BREACH)."""

from __future__ import annotations

import gzip

GZIP = {"Accept-Encoding": "gzip, deflate, br"}


def get(client, path: str, **headers: str):  # type: ignore[no-untyped-def]
    """Fetch, read and close (a static file's answer holds the file open until closed)."""
    response = client.get(path, headers=headers)
    response.get_data()
    response.close()
    return response


def test_a_script_is_sent_gzipped_and_revalidates_with_its_own_etag(client):
    plain = get(client, "/static/js/player.js")
    packed = get(client, "/static/js/player.js", **GZIP)

    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert gzip.decompress(packed.data) == plain.data
    assert len(packed.data) < len(plain.data) / 2
    assert packed.headers["ETag"] != plain.headers["ETag"]

    again = get(client, "/static/js/player.js", **GZIP, **{"If-None-Match": packed.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert "Content-Security-Policy" not in again.headers  # a script is never a document
    weak = get(
        client, "/static/js/player.js", **GZIP, **{"If-None-Match": "W/" + packed.headers["ETag"]}
    )
    assert weak.status_code == 304
    # The plain ETag still revalidates the plain file.
    revalidated = get(client, "/static/js/player.js", **{"If-None-Match": plain.headers["ETag"]})
    assert revalidated.status_code == 304


def test_figures_are_gzipped_too(client, builtin_content):
    figure = get(client, "/figures/bird-dog.svg", **GZIP)
    assert figure.status_code == 200 and figure.headers["Content-Encoding"] == "gzip"


def test_pages_and_api_answers_are_never_compressed(client, make_patient, login):
    login(make_patient().user)
    for path in ("/today", "/progress", "/api/v1/me/today"):
        response = get(client, path, **GZIP)
        assert response.status_code == 200, path
        assert "Content-Encoding" not in response.headers, path
