"""Build the OpenAPI 3.1 document from the endpoints the app really serves."""

import re

from portal.api.validation import object_schema

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "array", "items": {"type": "object"}},
            },
        }
    },
}

_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


def _path_and_params(rule):
    params = []

    def replace(match):
        converter, name = match.group(1) or "string", match.group(2)
        params.append({"name": name, "in": "path", "required": True,
                       "schema": {"type": "integer"} if converter == "int" else {"type": "string"}})
        return "{" + name + "}"

    return _CONVERTER.sub(replace, rule.rule), params


def _operation(spec, method, params):
    operation = {"summary": spec.summary, "parameters": list(params), "responses": {}}
    for name, check in spec.query.items():
        operation["parameters"].append({"name": name, "in": "query", "required": check.required, "schema": check.schema()})
    if spec.body is not None and method in ("POST", "PUT", "PATCH"):
        content = {kind: {"schema": object_schema(spec.body) if kind == "application/json" else {"type": "string"}}
                   for kind in spec.body_kinds}
        operation["requestBody"] = {"required": True, "content": content}
    success = {"description": "OK"}
    if spec.response is not None:
        success["content"] = {"application/json": {"schema": spec.response}}
    operation["responses"][str(spec.status)] = success
    error = {"description": "Error", "content": {"application/json": {"schema": ERROR_SCHEMA}}}
    codes = ("400", "404", "409", "413", "415", "422") if method in ("POST", "PUT", "PATCH") else ("400", "404", "422")
    for code in codes:
        operation["responses"][code] = error
    if spec.public:
        operation["responses"]["503"] = {"description": "A dependency is down"}
    if not spec.public:
        operation["responses"]["401"] = error
        operation["responses"]["403"] = error
        operation["security"] = [{"bearer": []}]
    else:
        operation["security"] = []
    return operation


def build_openapi(app, version):
    """Return the OpenAPI document for every endpoint decorated with api_endpoint."""
    paths = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        spec = getattr(app.view_functions.get(rule.endpoint), "api_spec", None)
        if spec is None:
            continue
        path, params = _path_and_params(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(spec, method, params)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Weibao API", "version": version},
        "paths": paths,
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
