"""Every string of the Big List of Naughty Strings as an organisation name and a display name,
through the admin forms and the API: never a 5xx; stored exactly, or refused with a message."""

import pytest

from portal.accounts import commands
from portal.accounts.models import Organization
from portal.accounts.models import User
from tests.conftest import blns_strings
from tests.conftest import csrf_token
from tests.conftest import log_in

BLNS = blns_strings()


@pytest.fixture
def admin_client(app, make_user):
    admin = make_user("admin")
    client = app.test_client()
    log_in(client, admin.username)
    return client


@pytest.fixture
def admin_headers(app, make_user):
    admin = make_user("admin", username="api-admin")
    with app.app_context():
        return {"Authorization": f"Bearer {commands.create_token(admin.username)}"}


def _refused_with_message(response):
    if response.is_json:
        body = response.get_json()
        return response.status_code in (400, 409, 413, 422) and body["error"]["message"]
    page = response.get_data(as_text=True)
    return response.status_code in (200, 400) and ("alert-danger" in page or "invalid-feedback" in page or "help-block" in page)


def test_organization_names_through_admin_form(admin_client):
    token = csrf_token(admin_client)
    problems = []
    for index, name in enumerate(BLNS):
        before = Organization.select().count()
        response = admin_client.post("/admin/organizations/new/", data={"name": name, "kind": "hospital", "csrf_token": token})
        stored = Organization.get_or_none(Organization.name == name)
        if response.status_code >= 500:
            problems.append((index, name, response.status_code))
        elif response.status_code == 302:
            if stored is None or Organization.select().count() != before + 1:
                problems.append((index, name, "accepted but not stored exactly"))
        elif not _refused_with_message(response) or Organization.select().count() != before:
            problems.append((index, name, "neither stored nor refused with a message"))
    assert not problems, problems[:10]
    # Most strings are fine names and must be kept; only empty, control-character or duplicate ones go.
    assert Organization.select().count() > len(BLNS) * 0.8


def test_organization_names_through_api(app, admin_headers):
    client = app.test_client()
    problems = []
    for index, name in enumerate(BLNS):
        response = client.post("/api/v1/organizations", json={"name": name, "kind": "vendor"}, headers=admin_headers)
        if response.status_code == 201:
            if Organization.get_by_id(response.get_json()["id"]).name != name:
                problems.append((index, name, "not stored exactly"))
        elif response.status_code >= 500 or not _refused_with_message(response):
            problems.append((index, name, response.status_code))
    assert not problems, problems[:10]


def test_display_names_through_admin_form(admin_client, make_user):
    target = make_user("engineer", username="target")
    token = csrf_token(admin_client)
    problems = []
    for index, name in enumerate(BLNS):
        response = admin_client.post(f"/admin/users/edit/?id={target.id}", data={
            "username": "target", "display_name": name, "role": "engineer",
            "organization": target.organization_id, "active": "y", "locale": "", "csrf_token": token,
        })
        stored = User.get_by_id(target.id).display_name
        if response.status_code >= 500:
            problems.append((index, name, response.status_code))
        elif response.status_code == 302 and stored != name:
            problems.append((index, name, f"stored {stored!r}"))
        elif response.status_code != 302 and not _refused_with_message(response):
            problems.append((index, name, "neither stored nor refused with a message"))
    assert not problems, problems[:10]


def test_display_names_through_api(app, admin_headers, vendor):
    client = app.test_client()
    problems = []
    for index, name in enumerate(BLNS):
        response = client.post("/api/v1/users", headers=admin_headers, json={
            "username": f"blns{index}", "password": "long enough 1", "display_name": name,
            "role": "engineer", "organization_id": vendor.id,
        })
        if response.status_code == 201:
            if User.get_by_id(response.get_json()["id"]).display_name != name:
                problems.append((index, name, "not stored exactly"))
        elif response.status_code >= 500 or not _refused_with_message(response):
            problems.append((index, name, response.status_code))
    assert not problems, problems[:10]
