"""The form-type and submission endpoints of API.md, over HTTP with bearer tokens."""

import time

from forms.models import FormSubmission
from forms.models import FormVersion
from tests.forms.helpers import NETWORK_V1
from tests.forms.helpers import NETWORK_V2
from tests.forms.helpers import VALID_NETWORK_DATA
from tests.forms.helpers import problems_by_field


def _create(client, headers, source, as_json=False):
    if as_json:
        return client.post("/api/v1/form-types", json={"yaml": source}, headers=headers)
    return client.post("/api/v1/form-types", data=source.encode("utf-8"), headers=headers,
                       content_type="application/yaml")


def test_builtins_are_published_without_demo(client, admin_headers):
    body = client.get("/api/v1/form-types", headers=admin_headers).get_json()
    keys = {item["key"]: item for item in body["items"]}
    assert set(keys) == {"requirement_assessment", "quarterly_inspection", "pre_holiday_inspection",
                         "onsite_service_sheet", "satisfaction_survey", "emergency_drill_record"}
    assert all(item["latest_version"] == 1 for item in keys.values())
    one = client.get("/api/v1/form-types/requirement_assessment", headers=admin_headers).get_json()
    assert one["version"] == 1 and one["status"] == "published"
    computed = {entry["key"]: entry for entry in one["computed"]}
    assert computed["free"]["expr"]["deps"] == ["total_days"]


def test_every_role_may_read_definitions(client, make_user, token_for):
    for role in ("reporter", "hospital_it", "engineer", "manager"):
        headers = token_for(make_user(role))
        assert client.get("/api/v1/form-types/quarterly_inspection", headers=headers).status_code == 200
        assert _create(client, headers, NETWORK_V1).status_code == 403


def test_create_draft_from_yaml_and_json_then_publish(client, admin_headers):
    response = _create(client, admin_headers, NETWORK_V1)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "draft" and response.get_json()["version"] == 1
    assert client.get("/api/v1/form-types/network_check", headers=admin_headers).status_code == 404
    again = _create(client, admin_headers, NETWORK_V1, as_json=True)
    assert again.status_code == 201  # the same draft, updated
    published = client.post("/api/v1/form-types/network_check/publish", headers=admin_headers)
    assert published.status_code == 200 and published.get_json()["version"] == 1
    compiled = client.get("/api/v1/form-types/network_check", headers=admin_headers).get_json()
    assert compiled["key"] == "network_check" and compiled["version"] == 1
    assert client.post("/api/v1/form-types/network_check/publish",
                       headers=admin_headers).status_code == 409  # no draft left
    second = _create(client, admin_headers, NETWORK_V2)
    assert second.status_code == 201 and second.get_json()["compatible"] is True
    assert client.post("/api/v1/form-types/network_check/publish",
                       headers=admin_headers).get_json()["version"] == 2


def test_wrong_version_number_is_located(client, admin_headers):
    response = _create(client, admin_headers, NETWORK_V1.replace("version: 1", "version: 5"))
    assert response.status_code == 422
    detail = problems_by_field(response)["version"]
    assert detail["line"] == 3 and detail["column"] == 1


def test_unsupported_type_and_oversize(client, admin_headers):
    assert client.post("/api/v1/form-types", data="x", content_type="text/plain",
                       headers=admin_headers).status_code == 415
    big = "a: " + "x" * (3 * 1024 * 1024)
    started = time.monotonic()
    response = client.post("/api/v1/form-types", data=big, content_type="application/yaml",
                           headers=admin_headers)
    assert response.status_code == 413
    assert time.monotonic() - started < 2
    middle = "# " + "x" * (300 * 1024) + "\nformdef: 1\n"
    assert client.post("/api/v1/form-types", data=middle, content_type="application/yaml",
                       headers=admin_headers).status_code == 413
    assert client.post("/api/v1/form-types", json={"nope": 1},
                       headers=admin_headers).status_code == 422


def test_submission_create_read_transition(client, make_user, token_for, contract):
    engineer, it = make_user("engineer"), make_user("hospital_it")
    eng_headers, it_headers = token_for(engineer), token_for(it)
    data = {"title": "新增接口", "kind": "interface", "description": "HIS 与 LIS 接口",
            "tasks": [{"task": "开发", "person_days": 1.5}, {"task": "联调", "person_days": 0.3}]}
    refused = client.post("/api/v1/form-types/requirement_assessment/submissions",
                          json={"data": data, "contract_id": contract.id}, headers=eng_headers)
    assert refused.status_code == 422
    fields = problems_by_field(refused)
    assert set(fields) == {"tasks[1].person_days", "partner"}  # all problems at once, row paths
    data["tasks"][1]["person_days"] = 0.5
    data["partner"] = "某 LIS 厂商"
    created = client.post("/api/v1/form-types/requirement_assessment/submissions",
                          json={"data": data, "contract_id": contract.id}, headers=eng_headers)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["number"].startswith("XQ-") and body["form_key"] == "requirement_assessment"
    assert body["form_version"] == 1 and body["state"] == "draft"
    assert body["computed"] == {"total_days": 2, "free": True, "quota_item": True}
    sid = body["id"]
    assert client.get(f"/api/v1/submissions/{sid}", headers=it_headers).get_json()["number"] == \
        body["number"]
    # hospital_it may not submit; engineers may not approve; approve before submit is 409
    assert client.post(f"/api/v1/submissions/{sid}/transitions", json={"action": "approve"},
                       headers=it_headers).status_code == 409
    assert client.post(f"/api/v1/submissions/{sid}/transitions", json={"action": "submit"},
                       headers=it_headers).status_code == 403
    assert client.post(f"/api/v1/submissions/{sid}/transitions", json={"action": "submit"},
                       headers=eng_headers).get_json()["state"] == "in_review"
    assert client.post(f"/api/v1/submissions/{sid}/transitions", json={"action": "approve"},
                       headers=eng_headers).status_code == 403
    missing_comment = client.post(f"/api/v1/submissions/{sid}/transitions",
                                  json={"action": "reject"}, headers=it_headers)
    assert missing_comment.status_code == 422 and "comment" in problems_by_field(missing_comment)
    assert client.post(f"/api/v1/submissions/{sid}/transitions", json={"action": "fly"},
                       headers=it_headers).status_code == 409
    done = client.post(f"/api/v1/submissions/{sid}/transitions", json={"action": "approve"},
                       headers=it_headers)
    assert done.status_code == 200 and done.get_json()["state"] == "approved"


def test_draft_skips_required_until_submitted(client, make_user, token_for, contract):
    headers = token_for(make_user("engineer"))
    created = client.post("/api/v1/form-types/requirement_assessment/submissions",
                          json={"data": {"title": "半成品"}, "contract_id": contract.id,
                                "draft": True}, headers=headers)
    assert created.status_code == 201 and created.get_json()["draft"] is True
    sid = created.get_json()["id"]
    refused = client.post(f"/api/v1/submissions/{sid}/transitions", json={"action": "submit"},
                          headers=headers)
    assert refused.status_code == 422
    assert {"kind", "description", "tasks"} <= set(problems_by_field(refused))
    assert FormSubmission.get_by_id(sid).state == "draft"


def test_contract_is_required_and_must_be_visible(client, make_user, token_for, other_contract):
    headers = token_for(make_user("hospital_it"))
    data = {"year": 2026, "quarter": 1, "department": "信息科"}
    response = client.post("/api/v1/form-types/satisfaction_survey/submissions",
                           json={"data": data}, headers=headers)
    assert response.status_code == 422 and "contract_id" in problems_by_field(response)
    response = client.post("/api/v1/form-types/satisfaction_survey/submissions",
                           json={"data": data, "contract_id": other_contract.id}, headers=headers)
    assert response.status_code == 422 and "contract_id" in problems_by_field(response)


def test_unknown_fields_and_bad_shapes_are_422(client, make_user, token_for, contract):
    headers = token_for(make_user("engineer"))
    for data in ({"nope": 1}, {"tasks": "x"}, {"tasks": [1, 2]}, {"title": ["a"]},
                 {"title": "\x00"}, {"kind": {"a": 1}}):
        response = client.post("/api/v1/form-types/requirement_assessment/submissions",
                               json={"data": data, "contract_id": contract.id}, headers=headers)
        assert response.status_code == 422, data
    response = client.post("/api/v1/form-types/requirement_assessment/submissions",
                           json={"data": [], "contract_id": contract.id}, headers=headers)
    assert response.status_code == 422
    assert client.post("/api/v1/form-types/no_such/submissions", json={"data": {}},
                       headers=headers).status_code == 404


def test_numbers_follow_the_definition_per_year(app, client, make_user, token_for, contract):
    headers = token_for(make_user("engineer"))
    numbers = []
    for _ in range(3):
        response = client.post("/api/v1/form-types/requirement_assessment/submissions",
                               json={"data": {"title": "t"}, "draft": True,
                                     "contract_id": contract.id}, headers=headers)
        numbers.append(response.get_json()["number"])
    year = numbers[0].split("-")[1]
    assert numbers == [f"XQ-{year}-0001", f"XQ-{year}-0002", f"XQ-{year}-0003"]
    assert FormVersion.select().count() == 6
