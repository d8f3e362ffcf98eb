"""Organisation scoping beyond the list query: details, edit, delete, export and actions."""

import pytest

from portal.accounts.models import Department
from portal.audit import AuditLog
from tests.conftest import csrf_token
from tests.conftest import log_in


@pytest.fixture
def foreign_department(other_hospital):
    return Department.create(organization=other_hospital, name="检验科")


@pytest.fixture
def it_client(app, make_user):
    user = make_user("hospital_it")
    client = app.test_client()
    log_in(client, user.username)
    return client


def test_list_shows_only_own_departments(it_client, department, foreign_department):
    page = it_client.get("/admin/departments/").get_data(as_text=True)
    assert department.name in page
    assert foreign_department.name not in page


@pytest.mark.parametrize("path", ["details/?id={id}", "edit/?id={id}"])
def test_foreign_row_by_url_is_404_and_audited(it_client, foreign_department, path):
    response = it_client.get("/admin/departments/" + path.format(id=foreign_department.id))
    assert response.status_code == 404
    denied = AuditLog.get(AuditLog.action == "access_denied")
    assert denied.object_id == str(foreign_department.id)
    assert denied.object_type == "Department"


def test_foreign_row_delete_is_404_and_changes_nothing(it_client, foreign_department):
    token = csrf_token(it_client)
    response = it_client.post("/admin/departments/delete/", data={"id": foreign_department.id, "csrf_token": token})
    assert response.status_code == 404
    assert Department.get_or_none(Department.id == foreign_department.id) is not None
    assert AuditLog.select().where(AuditLog.action == "access_denied").count() == 1


def test_foreign_row_edit_post_is_404_and_changes_nothing(it_client, foreign_department):
    token = csrf_token(it_client)
    response = it_client.post(f"/admin/departments/edit/?id={foreign_department.id}",
                              data={"name": "hijacked", "organization": foreign_department.organization_id, "csrf_token": token})
    assert response.status_code == 404
    assert Department.get_by_id(foreign_department.id).name == "检验科"


def test_bulk_delete_action_cannot_reach_foreign_rows(it_client, department, foreign_department):
    token = csrf_token(it_client)
    it_client.post("/admin/departments/action/", data={
        "action": "delete", "rowid": [str(department.id), str(foreign_department.id)], "csrf_token": token,
    })
    assert Department.get_or_none(Department.id == foreign_department.id) is not None


def test_export_contains_only_own_rows_and_is_audited(it_client, department, foreign_department):
    response = it_client.get("/admin/departments/export/csv/")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert department.name in body
    assert foreign_department.name not in body
    assert AuditLog.select().where(AuditLog.action == "export").count() == 1


def test_export_neutralises_formulas(it_client, hospital):
    Department.create(organization=hospital, name="=HYPERLINK(\"http://x\")")
    body = it_client.get("/admin/departments/export/csv/").get_data(as_text=True)
    assert "'=HYPERLINK" in body


def test_hospital_it_cannot_create_department_in_another_hospital(it_client, other_hospital):
    token = csrf_token(it_client)
    it_client.post("/admin/departments/new/", data={"organization": other_hospital.id, "name": "偷偷建的", "csrf_token": token})
    assert not Department.select().where(Department.name == "偷偷建的").exists()


def test_audit_log_is_read_only_even_for_admin(app, make_user):
    admin = make_user("admin")
    client = app.test_client()
    log_in(client, admin.username)
    row = AuditLog.select().first()
    assert client.get("/admin/audit/new/").status_code == 403
    assert client.get(f"/admin/audit/edit/?id={row.id}").status_code == 403
    response = client.post("/admin/audit/delete/", data={"id": row.id, "csrf_token": csrf_token(client)})
    assert response.status_code == 403
    assert AuditLog.get_or_none(AuditLog.id == row.id) is not None
