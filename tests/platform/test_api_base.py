"""The API base: health, OpenAPI, error shape, body limits, validation details and keyset pages."""

import pytest

from portal.accounts import commands
from portal.accounts.models import Organization
from portal.api.pagination import encode_cursor
from tests.conftest import log_in


@pytest.fixture
def headers(app, make_user):
    admin = make_user("admin")
    with app.app_context():
        return {"Authorization": f"Bearer {commands.create_token(admin.username)}"}


def test_health_reports_database_and_queue(client):
    body = client.get("/api/v1/health").get_json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["queue"] == "ok"
    assert body["version"]


def test_openapi_lists_every_api_endpoint(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    served = {rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")}
    assert served == set(document["paths"])
    create = document["paths"]["/api/v1/organizations"]["post"]
    schema = create["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["name", "kind"]
    assert schema["properties"]["kind"]["enum"] == ["hospital", "vendor"]


def test_validation_reports_every_problem_at_once(client, headers):
    response = client.post("/api/v1/users", headers=headers, json={"username": "", "role": "king", "extra": 1})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    fields = {detail["field"] for detail in error["details"]}
    assert {"username", "role", "extra", "password", "organization_id"} <= fields


def test_wrong_content_type_is_415(client, headers):
    response = client.post("/api/v1/organizations", headers=headers, data="name=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415


def test_malformed_json_is_400(client, headers):
    response = client.post("/api/v1/organizations", headers=headers, data=b"{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


def test_invalid_utf8_is_400(client, headers):
    response = client.post("/api/v1/organizations", headers=headers, data=b'{"name": "\xff\xfe"}', content_type="application/json")
    assert response.status_code == 400


def test_oversized_body_is_413_and_writes_nothing(make_app, make_user):
    app = make_app(API_MAX_BODY_BYTES=1000)
    admin = make_user("admin")
    with app.app_context():
        token = commands.create_token(admin.username)
    response = app.test_client().post("/api/v1/organizations", headers={"Authorization": f"Bearer {token}"},
                                      json={"name": "x" * 5000, "kind": "hospital"})
    assert response.status_code == 413
    assert not Organization.select().where(Organization.name == "x" * 5000).exists()


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_keyset_pages_walk_every_row_once(client, headers):
    for index in range(7):
        Organization.create(name=f"医院{index}", kind="hospital")
    seen, cursor = [], None
    while True:
        url = "/api/v1/organizations?limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url, headers=headers).get_json()
        seen.extend(item["id"] for item in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == Organization.select().count()


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "limit=abc", "cursor=%%%", "cursor=bm90IGpzb24"])
def test_bad_paging_arguments_are_400(client, headers, query):
    response = client.get(f"/api/v1/organizations?{query}", headers=headers)
    assert response.status_code == 400


@pytest.mark.parametrize("last_id", [2**63, -(2**63) - 1, 10**30, "12x", None])
@pytest.mark.parametrize("path", ["/api/v1/organizations", "/api/v1/tickets", "/api/v1/contracts"])
def test_forged_cursor_out_of_range_is_400(client, headers, path, last_id):
    # 2**63 made SQLite raise OverflowError: a 500 (found by the OpenAPI fuzz).
    response = client.get(path, headers=headers, query_string={"cursor": encode_cursor([last_id])})
    assert response.status_code == 400
    assert response.get_json()["error"]["message"]


def test_session_write_without_csrf_header_is_refused(app, make_user):
    admin = make_user("admin")
    client = app.test_client()
    log_in(client, admin.username)
    response = client.post("/api/v1/organizations", json={"name": "x", "kind": "hospital"})
    assert response.status_code == 403
    assert not Organization.select().where(Organization.name == "x").exists()


def test_duplicate_organization_is_409(client, headers):
    client.post("/api/v1/organizations", headers=headers, json={"name": "同名医院", "kind": "hospital"})
    response = client.post("/api/v1/organizations", headers=headers, json={"name": "同名医院", "kind": "hospital"})
    assert response.status_code == 409
