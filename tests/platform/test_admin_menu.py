"""The admin's main menu is rendered once per language, current view and set of items shown
(portal/admin_menu.py): whoever asks, it must read exactly as flask-admin renders it for them."""

import re

from portal.accounts.models import User
from tests.conftest import log_in

MENU = re.compile(r'<ul class="nav navbar-nav mr-auto">(.*?)</ul>\s*<ul class="nav navbar-nav navbar-right"', re.S)


def _menu(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return MENU.search(response.get_data(as_text=True)).group(1)


def _links(menu):
    return [href for href in re.findall(r'href="([^"]+)"', menu) if href.startswith("/")]


def _active(menu):
    return re.findall(r'<a class="dropdown-item active[^"]*" href="([^"]+)"', menu)


def _logged_in(app, user):
    client = app.test_client()
    assert log_in(client, user.username).status_code == 302
    return client


def test_each_role_sees_its_own_items_whoever_asked_first(app, make_user):
    admin, hospital_it = make_user("admin"), make_user("hospital_it")
    admins, hospitals = _logged_in(app, admin), _logged_in(app, hospital_it)
    for _ in range(2):  # the second round is served from the cache
        admin_links, hospital_links = _links(_menu(admins, "/admin/ticket_admin/")), \
            _links(_menu(hospitals, "/admin/ticket_admin/"))
        assert "/admin/users/" in admin_links and "/admin/users/" not in hospital_links
        assert "/admin/ticket_admin/" in admin_links and "/admin/ticket_admin/" in hospital_links


def test_the_current_page_is_highlighted(app, make_user):
    client = _logged_in(app, make_user("admin"))
    assert _active(_menu(client, "/admin/ticket_admin/")) == ["/admin/ticket_admin/"]
    assert _active(_menu(client, "/admin/contract/")) == ["/admin/contract/"]
    assert _active(_menu(client, "/admin/ticket_admin/")) == ["/admin/ticket_admin/"]


def test_the_menu_follows_the_language(app, make_user):
    client = _logged_in(app, make_user("admin"))
    assert "首页" in _menu(client, "/admin/ticket_admin/")
    client.get("/language/en")
    english = _menu(client, "/admin/ticket_admin/")
    assert "Tickets" in english and "首页" not in english


def test_a_role_change_shows_at_the_next_request(app, make_user):
    user = make_user("hospital_it")
    client = _logged_in(app, user)
    assert "/admin/users/" not in _links(_menu(client, "/admin/ticket_admin/"))
    User.update(role="admin").where(User.id == user.id).execute()
    assert "/admin/users/" in _links(_menu(client, "/admin/ticket_admin/"))


def _head(client, url):
    page = client.get(url).get_data(as_text=True)
    return re.search(r"<title>(.*?)</title>", page, re.S).group(1).strip(), re.findall(r'<(?:link|script)[^>]+>', page)


def test_fixed_parts_are_kept_per_view_and_language(app, make_user):
    """Title, style sheets and scripts are rendered once per view and language (once_per_view):
    each view keeps its own, and a language switch is not served the other language's."""
    client = _logged_in(app, make_user("admin"))
    tickets, departments = _head(client, "/admin/ticket_admin/"), _head(client, "/admin/departments/")
    assert tickets[0] != departments[0]
    assert _head(client, "/admin/ticket_admin/") == tickets and _head(client, "/admin/departments/") == departments
    assert any("jquery" in tag for tag in tickets[1]) and any("weibao.css" in tag for tag in tickets[1])
    client.get("/language/en")
    english = _head(client, "/admin/ticket_admin/")
    assert english[0] != tickets[0] and "Weibao" in english[0]
    assert english[1] == tickets[1]  # the same files


def test_a_nonce_per_request_is_never_served_from_the_kept_parts(app, make_user):
    client = _logged_in(app, make_user("admin"))
    client.get("/admin/ticket_admin/")  # kept without a nonce
    nonces = iter(range(1000))
    app.extensions["weibao"].admin.csp_nonce_generator = lambda: f"n{next(nonces)}"
    try:
        first, second = (client.get("/admin/ticket_admin/").get_data(as_text=True) for _ in range(2))
    finally:
        app.extensions["weibao"].admin.csp_nonce_generator = None
    scripts = [re.findall(r'<script nonce="(n\d+)" src="[^"]+jquery', page) for page in (first, second)]
    assert scripts[0] and scripts[1] and scripts[0] != scripts[1]


def test_kept_fragments_are_built_once_and_bounded():
    from portal.admin_menu import Kept

    built = []

    def build(name):
        built.append(name)
        return f"<p>{name}</p>"

    kept = Kept(2)
    assert kept.get_or_build("a", lambda: build("a")) == kept.get_or_build("a", lambda: build("b")) == "<p>a</p>"
    kept.get_or_build("b", lambda: build("b"))
    assert built == ["a", "b"] and len(kept) == 2
    kept.get_or_build("c", lambda: build("c"))  # full: emptied, never grown past its limit
    assert list(kept) == ["c"] and built == ["a", "b", "c"]


def _asking_every_item(items):
    """The items shown as flask-admin decides it: every item asked (the menu before plans)."""
    shown = []
    for item in items:
        if item.is_category():
            children = _asking_every_item(item._children)
            if children:
                shown.append((id(item), children))
        elif item.is_accessible() and item.is_visible():
            shown.append(id(item))
    return tuple(shown)


def test_the_planned_menu_is_what_asking_every_item_shows(app, make_user):
    from flask_login import login_user

    from portal.admin_menu import shown_items

    users = [make_user(role) for role in ("admin", "hospital_it", "reporter", "engineer", "manager")]
    users.append(make_user("manager", active=False))
    items = app.extensions["weibao"].admin.menu()
    for _ in range(2):  # planned, then from the plan
        for user in users:
            with app.test_request_context("/admin/"):
                login_user(user, force=True)
                assert shown_items(items) == _asking_every_item(items), user.role
        with app.test_request_context("/admin/"):
            assert shown_items(items) == _asking_every_item(items) == ()  # nobody logged in


def test_an_item_that_answers_in_its_own_way_is_asked_on_every_request(app, make_user, monkeypatch):
    from portal.accounts.admin import UserView
    from portal.reports.views import ReportsView

    answers = {"users": True, "reports": True}
    monkeypatch.setattr(UserView, "is_accessible", lambda self: answers["users"])  # no longer the role table's
    monkeypatch.setattr(ReportsView, "is_visible", lambda self: answers["reports"])  # its own, as ever
    client = _logged_in(app, make_user("hospital_it"))
    for users, reports in ((True, True), (False, True), (True, False), (False, False), (True, True)):
        answers.update(users=users, reports=reports)
        links = _links(_menu(client, "/admin/ticket_admin/"))
        assert ("/admin/users/" in links) is users and ("/admin/reports/" in links) is reports, (users, reports)
