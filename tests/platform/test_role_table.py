"""Access tests generated from the role table: every admin view and every API endpoint, every role."""

import re

import pytest

from portal.accounts import commands
from portal.accounts.models import ApiToken
from portal.accounts.models import utcnow
from portal.permissions import ALL_ROLES
from portal.permissions import allowed
from tests.conftest import log_in

ROLES = sorted(ALL_ROLES)
_ARG = re.compile(r"<(?:\w+:)?\w+>")


def _admin_views(app):
    return [view for view in app.extensions["weibao"].admin._views if getattr(view, "resource", None)]


def _api_rules(app):
    found = []
    for rule in app.url_map.iter_rules():
        spec = getattr(app.view_functions.get(rule.endpoint), "api_spec", None)
        if spec is not None:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                found.append((rule, method, spec))
    return found


def _concrete(rule):
    return _ARG.sub("999999", rule.rule)


def test_every_admin_view_has_a_resource_in_the_table(app):
    resources = app.extensions["weibao"].registry("resource")
    for view in app.extensions["weibao"].admin._views:
        assert getattr(view, "resource", None) in resources, f"{type(view).__name__} has no resource"


def test_anonymous_admin_pages_redirect_to_login(app, client):
    for view in app.extensions["weibao"].admin._views:
        response = client.get(view.url + "/" if not view.url.endswith("/") else view.url)
        assert response.status_code == 302, view.url
        assert "/login" in response.headers["Location"]


def test_anonymous_api_gets_401_except_public(app, client):
    for rule, method, spec in _api_rules(app):
        response = client.open(_concrete(rule), method=method, json={})
        if spec.public:
            assert response.status_code in (200, 503), rule.rule
        else:
            assert response.status_code == 401, f"{method} {rule.rule}"
            assert response.get_json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("role", ROLES)
def test_admin_views_follow_the_role_table(app, make_user, role):
    user = make_user(role)
    client = app.test_client()
    assert log_in(client, user.username).status_code == 302
    resources = app.extensions["weibao"].registry("resource")
    for view in _admin_views(app):
        rules = resources.get(view.resource)
        url = view.url if view.url.endswith("/") else view.url + "/"
        status = client.get(url, follow_redirects=True).status_code
        expected = 200 if allowed(user, rules, "view") else 403
        assert status == expected, f"{role} on {url}: {status}, table says {expected}"
        if hasattr(view, "create_view") and not allowed(user, rules, "create") and allowed(user, rules, "view"):
            assert client.get(url + "new/").status_code == 403, f"{role} may not create in {url}"


@pytest.mark.parametrize("role", ROLES)
def test_api_endpoints_follow_the_role_table(app, make_user, role):
    user = make_user(role)
    with app.app_context():
        token = commands.create_token(user.username)
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    resources = app.extensions["weibao"].registry("resource")
    for rule, method, spec in _api_rules(app):
        if spec.public or spec.resource is None:
            continue
        response = client.open(_concrete(rule), method=method, json={}, headers=headers)
        may = allowed(user, resources.get(spec.resource), spec.action)
        if may:
            assert response.status_code != 403, f"{role} {method} {rule.rule} refused, table allows"
            assert response.status_code < 500
        else:
            assert response.status_code == 403, f"{role} {method} {rule.rule}: {response.status_code}, table refuses"


@pytest.fixture
def admin_api(app, make_user):
    """(client, bearer headers, user) for an admin's API token that has answered once."""
    user = make_user("admin")
    with app.app_context():
        token = commands.create_token(user.username)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/users", headers=headers).status_code == 200
    return client, headers, user


def test_revoked_token_is_refused(admin_api):
    client, headers, _user = admin_api
    ApiToken.update(revoked_at=utcnow()).execute()
    assert client.get("/api/v1/users", headers=headers).status_code == 401


def test_a_deactivated_users_token_is_refused_and_the_token_loads_in_one_statement(admin_api):
    from bench.querycount import count_queries
    from portal.accounts.models import User

    client, headers, user = admin_api
    with count_queries() as queries:
        assert client.get("/api/v1/users", headers=headers).status_code == 200
    token_reads = [sql for sql, _ in queries if 'FROM "api_token"' in sql]
    assert len(token_reads) == 1 and '"organization"' in token_reads[0]
    User.update(active=False).where(User.id == user.id).execute()
    assert client.get("/api/v1/users", headers=headers).status_code == 401


def test_each_app_builds_its_own_admin(make_app):
    first, second = make_app(), make_app()
    assert first.extensions["weibao"].admin is not second.extensions["weibao"].admin
    assert first.extensions["weibao"].admin.app is first


def test_access_answers_follow_a_log_in_within_the_request(app, make_user):
    """AccessMixin.may keeps the request's user and answers (portal.auth.request_access); a log-in
    or log-out in the same request must not leave the previous user's answers behind."""
    from portal.auth import log_out
    from portal.auth import start_session
    from portal.db import db

    admin, reporter = make_user("admin"), make_user("reporter")
    resources = app.extensions["weibao"].registry("resource")
    view = next(view for view in _admin_views(app) if not allowed(reporter, resources.get(view.resource), "view"))
    with app.test_request_context("/login", method="POST"):
        db.connect(reuse_if_open=True)
        assert view.may("view") is False  # nobody logged in yet
        start_session(admin)
        assert view.may("view") is True
        log_out()
        assert view.may("view") is False
        start_session(reporter)
        assert view.may("view") is False
        assert view.may("view") is False
