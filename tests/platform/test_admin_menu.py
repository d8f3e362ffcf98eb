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
