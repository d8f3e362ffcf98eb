"""A new admin's path through HTTP: write a form type in the editor, see located mistakes,
publish, fill it in, change it compatibly and incompatibly (with a migration), and every old
submission still shows, validates with its own version and exports."""

import csv
import io

import pytest
from openpyxl import load_workbook

from forms.models import FormSubmission
from forms.models import FormVersion
from forms.models import ImmutableVersion
from tests.conftest import log_in
from tests.forms.helpers import NETWORK_V1
from tests.forms.helpers import NETWORK_V2
from tests.forms.helpers import NETWORK_V3
from tests.forms.helpers import NETWORK_V3_NO_MIGRATION
from tests.forms.helpers import page_csrf


@pytest.fixture
def admin_client(app, make_user):
    client = app.test_client()
    log_in(client, make_user("admin").username)
    return client


@pytest.fixture
def engineer_client(app, make_user):
    client = app.test_client()
    log_in(client, make_user("engineer").username)
    return client


def save(client, source, key=""):
    token = page_csrf(client, "/admin/form-types/new")
    return client.post("/admin/form-types/save",
                       data={"yaml": source, "original_key": key, "csrf_token": token})


def publish(client, key):
    token = page_csrf(client, f"/admin/form-types/{key}/edit")
    return client.post(f"/admin/form-types/{key}/publish", data={"csrf_token": token})


def fill(client, key, fields, contract):
    token = page_csrf(client, f"/admin/submissions/new/{key}")
    data = {"csrf_token": token, "WB_CONTRACT": str(contract.id), "WB_TICKET": "",
            "WB_SAVE": "submit", **fields}
    return client.post(f"/admin/submissions/new/{key}", data=data)


def test_editor_publish_fill_change_and_export(admin_client, engineer_client, contract):
    # a mistake: the page says where
    wrong = NETWORK_V1.replace("sum(ports, 'errors')", "sum(ports, 'erors')")
    response = save(admin_client, wrong)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-line="33"' in html and "erors" in html
    # fixed: saved as draft v1, then published
    response = save(admin_client, NETWORK_V1)
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/admin/form-types/network_check/edit")
    editor = admin_client.get("/admin/form-types/network_check/edit").get_data(as_text=True)
    assert 'id="publish"' in editor
    assert publish(admin_client, "network_check").status_code == 302
    history = admin_client.get("/admin/form-types/network_check/history").get_data(as_text=True)
    assert 'data-version="1"' in history

    # an engineer fills it in through the page
    response = fill(engineer_client, "network_check",
                    {"device": "核心交换机", "status": "ok", "cause": "会被丢弃",
                     "ports-0-port": "g0/1", "ports-0-errors": "2"}, contract)
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    first = FormSubmission.select().order_by(FormSubmission.id.desc()).first()
    assert first.data["device"] == "核心交换机" and "cause" not in first.data  # hidden: dropped
    assert first.computed == {"total_errors": 2}
    assert first.number.startswith("WL-")

    # a compatible change publishes directly
    assert save(admin_client, NETWORK_V2, "network_check").status_code == 302
    assert publish(admin_client, "network_check").status_code == 302

    # an incompatible one is refused without a migration, pointing at the lines
    assert save(admin_client, NETWORK_V3_NO_MIGRATION, "network_check").status_code == 302
    editor = admin_client.get("/admin/form-types/network_check/edit").get_data(as_text=True)
    assert 'id="breaking"' in editor
    refused = publish(admin_client, "network_check")
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "migrations" in html and "device" in html and 'data-line="' in html
    assert FormVersion.select().where(FormVersion.status == "published",
                                      FormVersion.version == 3).count() == 0
    # with the migration it publishes
    assert save(admin_client, NETWORK_V3, "network_check").status_code == 302
    assert publish(admin_client, "network_check").status_code == 302

    response = fill(engineer_client, "network_check",
                    {"device_name": "=HYPERLINK(\"http://x\")", "status": "down", "cause": "光模块故障",
                     "ports-0-port": "g0/2", "ports-0-errors": "7"}, contract)
    assert response.status_code == 302
    third = FormSubmission.select().order_by(FormSubmission.id.desc()).first()
    assert third.version.version == 3

    # the old submission still shows with its own version's labels
    page = engineer_client.get(f"/admin/submissions/{first.id}").get_data(as_text=True)
    assert "核心交换机" in page and "设备" in page and "v1" in page
    printed = engineer_client.get(f"/admin/submissions/{first.id}/print").get_data(as_text=True)
    assert "@page" in printed and "A4" in printed and first.number in printed
    assert contract.number in printed

    # export: the union of fields over v1..v3, old values in their old column
    table = admin_client.get("/admin/submissions/export/network_check/csv")
    assert table.status_code == 200
    rows = list(csv.reader(io.StringIO(table.get_data(as_text=True).lstrip("\ufeff"))))
    header = rows[0]
    by_number = {row[0]: dict(zip(header, row)) for row in rows[1:]}
    assert "设备名称" in header and "设备名称 (device)" in header  # v3's device_name, v1/v2's device
    old, new = by_number[first.number], by_number[third.number]
    assert old["设备名称 (device)"] == "核心交换机" and old["设备名称"] == ""
    assert new["原因"] == "光模块故障"
    assert "'=HYPERLINK(\"http://x\")" in new.values()  # neutralised
    book = load_workbook(io.BytesIO(admin_client.get(
        "/admin/submissions/export/network_check/xlsx").get_data()))
    cells = [[c.value for c in row] for row in book.active.iter_rows()]
    assert len(cells) == 3 and any("核心交换机" == v for v in cells[1] + cells[2])
    assert all(not (isinstance(v, str) and v.startswith("=")) for row in cells for v in row)

    # the version diff is escaped text
    diff = admin_client.get("/admin/form-types/network_check/diff?a=2&b=3").get_data(as_text=True)
    assert "+      - {key: device_name" in diff and "-      - {key: device," in diff


def test_old_submission_validates_with_its_own_version(app, client, admin_headers, make_user,
                                                       token_for, contract):
    headers = token_for(make_user("engineer"))
    data = {"title": "报表", "kind": "report", "description": "月报",
            "tasks": [{"task": "开发", "person_days": 1}]}
    created = client.post("/api/v1/form-types/requirement_assessment/submissions",
                          json={"data": data, "contract_id": contract.id}, headers=headers)
    sid = created.get_json()["id"]
    source = FormVersion.get(FormVersion.version == 1,
                             FormVersion.form_type == FormSubmission.get_by_id(sid).form_type_id
                             ).source_yaml
    v2 = (source.replace("version: 1", "version: 2")
          .replace("{key: title, type: text", "{key: subject, type: text")
          .replace("list_columns: [title,", "list_columns: [subject,")
          + "migrations:\n  from: 1\n  rename: {title: subject}\n")
    assert client.post("/api/v1/form-types", data=v2.encode(), headers=admin_headers,
                       content_type="application/yaml").status_code == 201
    assert client.post("/api/v1/form-types/requirement_assessment/publish",
                       headers=admin_headers).status_code == 200
    moved = client.post(f"/api/v1/submissions/{sid}/transitions", json={"action": "submit"},
                        headers=headers)
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["form_version"] == 1 and moved.get_json()["data"]["title"] == "报表"
    fresh = client.post("/api/v1/form-types/requirement_assessment/submissions",
                        json={"data": data, "contract_id": contract.id}, headers=headers)
    assert fresh.status_code == 422 and any(d["field"] == "subject"
                                            for d in fresh.get_json()["error"]["details"])


def test_published_versions_are_immutable(app):
    version = FormVersion.select().where(FormVersion.status == "published").first()
    version.source_yaml += "\n# changed"
    with pytest.raises(ImmutableVersion):
        version.save()
    version = FormVersion.get_by_id(version.id)
    version.status = "draft"
    with pytest.raises(ImmutableVersion):
        version.save()
    with pytest.raises(ImmutableVersion):
        FormVersion.get_by_id(version.id).delete_instance()
    retired = FormVersion.get_by_id(version.id)
    retired.status = "retired"
    retired.save()  # moving on is allowed; the content stays
    assert FormVersion.get_by_id(version.id).checksum == version.checksum


def test_key_cannot_be_renamed_in_the_editor(admin_client):
    assert save(admin_client, NETWORK_V1).status_code == 302
    response = save(admin_client, NETWORK_V1.replace("key: network_check", "key: net2"),
                    "network_check")
    assert response.status_code == 422 and 'data-line="2"' in response.get_data(as_text=True)


def test_conditional_rule_is_enforced_when_the_browser_is_bypassed(engineer_client, contract):
    # status "down" makes `cause` required; post straight to the server without it
    response = fill(engineer_client, "quarterly_inspection", {}, contract)
    assert response.status_code == 422
    response = fill(engineer_client, "requirement_assessment",
                    {"title": "接口", "kind": "interface", "description": "d",
                     "tasks-0-task": "开发", "tasks-0-person_days": "1"}, contract)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-path="partner"' in html and "此项必填" in html
    assert FormSubmission.select().count() == 0


def test_add_and_remove_rows_on_the_server(engineer_client, contract):
    token = page_csrf(engineer_client, "/admin/submissions/new/requirement_assessment")
    base = {"csrf_token": token, "WB_CONTRACT": str(contract.id), "tasks-0-task": "甲",
            "tasks-0-person_days": "1"}
    added = engineer_client.post("/admin/submissions/new/requirement_assessment",
                                 data={**base, "WB_ROW": "add:tasks"}).get_data(as_text=True)
    assert 'name="tasks-1-task"' in added and 'value="甲"' in added
    removed = engineer_client.post("/admin/submissions/new/requirement_assessment",
                                   data={**base, "tasks-1-task": "乙", "tasks-1-person_days": "2",
                                         "WB_ROW": "remove:tasks:0"}).get_data(as_text=True)
    assert 'value="乙"' in removed and 'value="甲"' not in removed
    assert 'name="tasks-1-task"' not in removed
    assert FormSubmission.select().count() == 0


def test_checklist_renders_as_a_table_of_radio_groups(engineer_client):
    html = engineer_client.get("/admin/submissions/new/quarterly_inspection").get_data(as_text=True)
    assert 'class="table table-sm table-bordered wb-checklist"' in html
    assert html.count('name="client_checks-client_version"') == 3  # pass / fail / n.a.
