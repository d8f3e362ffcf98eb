"""Contracts API: create/read/patch, validation (all problems at once, nothing written), scoping."""

import json

import pytest

from portal.audit import AuditLog
from portal.contracts.models import Contract
from portal.contracts.models import CoveredSystem
from portal.contracts.models import Quota
from portal.contracts.models import SlaTarget
from tests.conftest import blns_strings


def counts():
    return (Contract.select().count(), CoveredSystem.select().count(), SlaTarget.select().count(),
            Quota.select().count())


def test_create_read_patch(client, payload, manager_headers):
    response = client.post("/api/v1/contracts", json=payload(), headers=manager_headers)
    assert response.status_code == 201
    body = response.get_json()
    assert body["amount"] == "1179000.00" and body["number"] == "MSZC2024-D3-00267"
    assert [s["class"] for s in body["systems"]] == ["HIS", "CIS", "other"]
    assert all(isinstance(s["id"], int) for s in body["systems"])
    assert body["sla"]["P1"]["resolve"] == {"minutes": 540, "clock": "business"}
    assert body["sla"]["P3"] == {"resolve": {"minutes": 1620, "clock": "business"}}
    assert {q["kind"] for q in body["quotas"]} == {"custom_requirement", "emergency_rescue", "secondary_modification"}
    got = client.get(f"/api/v1/contracts/{body['id']}", headers=manager_headers).get_json()
    assert got["systems"] == body["systems"] and got["sla"] == body["sla"]
    patched = client.patch(f"/api/v1/contracts/{body['id']}", headers=manager_headers, json={
        "title": "新标题", "uptime_target_percent": "99.5", "sla": {"P2": {"response": {"minutes": 60, "clock": "24x7"}},
                                                                 "P1": {"resolve": {"minutes": 480, "clock": "business"}}}})
    assert patched.status_code == 200, patched.get_json()
    after = patched.get_json()
    assert after["title"] == "新标题" and after["uptime_target_percent"] == "99.50"
    assert after["sla"]["P1"]["resolve"]["minutes"] == 480 and after["sla"]["P2"]["response"]["minutes"] == 60
    assert after["number"] == body["number"]
    listing = client.get("/api/v1/contracts", headers=manager_headers).get_json()
    assert [c["id"] for c in listing["items"]] == [body["id"]] and listing["next_cursor"] is None
    assert AuditLog.select().where((AuditLog.object_type == "Contract") & (AuditLog.action == "update")).exists()


def test_all_problems_reported_at_once_with_paths(client, payload, manager_headers):
    body = payload()
    body["systems"][2]["class"] = "ERP"
    body["sla"]["P1"]["response"]["minutes"] = -5
    body["sla"]["P1"]["onsite"]["clock"] = "weekdays"
    body["sla"]["P5"] = {"resolve": {"minutes": 10, "clock": "24x7"}}
    body["quotas"][0]["unit"] = "hours"
    body["amount"] = "lots"
    before = counts()
    response = client.post("/api/v1/contracts", json=body, headers=manager_headers)
    assert response.status_code == 422
    fields = {d["field"] for d in response.get_json()["error"]["details"]}
    assert {"systems[2].class", "sla.P1.response.minutes", "sla.P1.onsite.clock", "sla.P5", "quotas[0].unit",
            "amount"} <= fields
    assert counts() == before


@pytest.mark.parametrize("change, status, field", [
    ({"end_date": "2024-04-30"}, 422, "end_date"),
    ({"start_date": "2024-02-30"}, 422, "start_date"),
    ({"sla": {"P1": {"resolve": {"minutes": 0, "clock": "business"}}}}, 422, "sla.P1.resolve.minutes"),
    ({"sla": {"P1": {"resolve": {"minutes": 10**9, "clock": "business"}}}}, 422, "sla.P1.resolve.minutes"),
    ({"sla": {"P1": {"fix": {"minutes": 10, "clock": "business"}}}}, 422, "sla.P1.fix"),
    ({"quotas": [{"kind": "x", "limit": -1, "unit": "count", "period": "year"}]}, 422, "quotas[0].limit"),
    ({"quotas": [{"kind": "x", "limit": 1, "unit": "count", "period": "week"}]}, 422, "quotas[0].period"),
    ({"quotas": [{"kind": "x", "limit": 1, "unit": "count", "period": "year"},
                 {"kind": "x", "limit": 2, "unit": "count", "period": "year"}]}, 422, "quotas[1].kind"),
    ({"systems": [{"name": "", "class": "HIS"}]}, 422, "systems[0].name"),
    ({"systems": [{"name": "a", "class": "HIS", "quantity": 0}]}, 422, "systems[0].quantity"),
    ({"hospital_id": 999999}, 422, "hospital_id"),
    ({"amount": "1e400"}, 422, "amount"),
    ({"amount": True}, 422, "amount"),
    ({"penalty_cap_percent": 101}, 422, "penalty_cap_percent"),
    ({"title": "x\x00y"}, 422, "title"),
    ({"surprise": 1}, 422, "surprise"),
])
def test_bad_inputs_are_refused_and_write_nothing(client, payload, manager_headers, change, status, field):
    before = counts()
    response = client.post("/api/v1/contracts", json=payload(**change), headers=manager_headers)
    assert response.status_code == status, response.get_json()
    assert field in [d["field"] for d in response.get_json()["error"]["details"]]
    assert counts() == before


def test_vendor_must_be_a_vendor_and_the_managers_own(client, payload, manager_headers, hospital, other_hospital):
    response = client.post("/api/v1/contracts", json=payload(vendor_id=hospital.id), headers=manager_headers)
    assert response.status_code == 422 and "vendor_id" in json.dumps(response.get_json())
    response = client.post("/api/v1/contracts", json=payload(hospital_id=other_hospital.id, vendor_id=hospital.id),
                           headers=manager_headers)
    assert response.status_code == 422


def test_duplicate_number_is_a_conflict(client, payload, manager_headers, contract_id):
    before = counts()
    response = client.post("/api/v1/contracts", json=payload(), headers=manager_headers)
    assert response.status_code == 409 and response.get_json()["error"]["details"][0]["field"] == "number"
    assert counts() == before
    other = client.post("/api/v1/contracts", json=payload(number="B-2"), headers=manager_headers).get_json()
    clash = client.patch(f"/api/v1/contracts/{other['id']}", json={"number": "MSZC2024-D3-00267"}, headers=manager_headers)
    assert clash.status_code == 409


def test_bad_json_and_content_type(client, manager_headers):
    assert client.post("/api/v1/contracts", data="{", content_type="application/json",
                       headers=manager_headers).status_code == 400
    assert client.post("/api/v1/contracts", data="a=1", headers=manager_headers).status_code == 415
    assert client.post("/api/v1/contracts", json=[], headers=manager_headers).status_code == 422


def test_patch_validation(client, manager_headers, contract_id):
    for body, field in (({"end_date": "2020-01-01"}, "end_date"), ({"sla": {"P9": {}}}, "sla.P9"),
                        ({"title": ""}, "title"), ({"vendor_id": None}, "vendor_id")):
        response = client.patch(f"/api/v1/contracts/{contract_id}", json=body, headers=manager_headers)
        assert response.status_code == 422 and field in [d["field"] for d in response.get_json()["error"]["details"]]
    assert Contract.get_by_id(contract_id).end_date.isoformat() == "2027-04-30"


def test_roles(client, payload, bearer, contract_id):
    for role in ("hospital_it", "reporter", "engineer"):
        headers = bearer(role)
        assert client.post("/api/v1/contracts", json=payload(number=f"N-{role}"), headers=headers).status_code == 403
        assert client.patch(f"/api/v1/contracts/{contract_id}", json={"title": "x"}, headers=headers).status_code == 403
        assert client.get(f"/api/v1/contracts/{contract_id}", headers=headers).status_code == 200
    assert client.get("/api/v1/contracts").status_code == 401


def test_other_organisations_get_404_and_are_audited(app, client, bearer, other_hospital, contract_id):
    from portal.accounts.models import Organization

    rival = Organization.create(name="另一家维保公司", kind="vendor")
    for headers in (bearer("hospital_it", other_hospital), bearer("manager", rival)):
        for path in ("", "/quotas", "/uptime?year=2025"):
            response = client.get(f"/api/v1/contracts/{contract_id}{path}", headers=headers)
            assert response.status_code == 404, path
        assert client.patch(f"/api/v1/contracts/{contract_id}", json={"title": "x"}, headers=headers).status_code in (403, 404)
        assert client.get("/api/v1/contracts", headers=headers).get_json()["items"] == []
    denied = AuditLog.select().where((AuditLog.action == "access_denied") & (AuditLog.object_type == "Contract"))
    assert denied.count() >= 6
    assert Contract.get_by_id(contract_id).title != "x"


def test_blns_strings_in_every_text_field(client, payload, manager_headers):
    strings = blns_strings()
    stored = refused = 0
    for index, text in enumerate(strings):
        body = payload(number=f"{text[:80]}#{index}", title=text or "-", staffing=text, report_obligations=text,
                       inspection_obligations=text, notes=text)
        body["systems"] = [{"category": text, "name": text or "-", "class": "HIS", "unit": text[:20]}]
        body["quotas"] = [{"kind": text[:50] or "-", "limit": 1, "unit": "count", "period": "year"}]
        response = client.post("/api/v1/contracts", json=body, headers=manager_headers)
        assert response.status_code in (201, 409, 422), (index, response.status_code)
        if response.status_code != 201:
            assert response.get_json()["error"]["message"]
            refused += 1
            continue
        stored += 1
        got = client.get(f"/api/v1/contracts/{response.get_json()['id']}", headers=manager_headers).get_json()
        assert got["notes"] == text and got["systems"][0]["category"] == text
        assert got["title"] == (text or "-") and got["quotas"][0]["kind"] == (text[:50] or "-")
    assert stored > 400 and refused > 0


def test_openapi_lists_the_contract_and_calendar_paths(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/contracts", "/api/v1/contracts/{contract_id}", "/api/v1/contracts/{contract_id}/quotas",
                 "/api/v1/contracts/{contract_id}/uptime", "/api/v1/calendar/due", "/api/v1/calendar/days"):
        assert path in paths
