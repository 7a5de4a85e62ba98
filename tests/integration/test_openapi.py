"""The OpenAPI document is complete: every route is in it and every reference resolves."""

import json
import re


def test_every_reference_in_the_openapi_document_resolves(client):
    document = client.get("/api/v1/openapi.json").get_json()
    text = json.dumps(document)
    references = set(re.findall(r'"\$ref": "([^"]+)"', text))
    assert references
    for reference in references:
        assert reference.startswith("#/components/schemas/"), reference
        assert reference.rsplit("/", 1)[1] in document["components"]["schemas"], reference


def test_every_api_route_is_documented(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    documented = {
        (path, method.upper()) for path, item in document["paths"].items() for method in item
    }
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint == "api.openapi":
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method) in documented, (path, method)
