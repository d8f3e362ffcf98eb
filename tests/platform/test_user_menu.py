"""The user menu on every page, written in Python (portal/user_menu.py): the links url_for would
build, hostile names and paths escaped, the packages' items, and a log-out form that works."""

import re

import pytest
from flask import url_for
from markupsafe import escape

from portal.notify.views import UNREAD_CAP
from portal.user_menu import user_menu
from tests.conftest import blns_strings
from tests.conftest import log_in

#: Query strings and path segments a crawler or an attacker sends; the links must come back to them.
HOSTILE = [text for text in blns_strings() if text.strip()][:300]


def _logged_in(app, user):
    client = app.test_client()
    assert log_in(client, user.username).status_code == 302
    return client


def test_language_links_come_back_to_any_page_as_url_for_writes_them(app):
    codes = app.config["LANGUAGES"]
    for text in HOSTILE:
        with app.test_request_context("/login", query_string={"q": text, "next": text}):
            html = str(user_menu())
            expected = [str(escape(url_for("accounts.set_language", lang=code, next=_full_path()))) for code in codes]
        assert re.findall(r'class="dropdown-item" href="([^"]*)"', html) == expected, text


def _full_path():
    from flask import request

    return request.full_path


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_a_logged_in_users_menu_in_each_language(app, make_user, language):
    hostile = '<img src=x onerror=alert(1)>"李工"'
    user = make_user("manager", display_name=hostile)
    client = _logged_in(app, user)
    client.get(f"/language/{language}")
    page = client.get("/tickets/queue").get_data(as_text=True)
    assert "<img src=x" not in page and str(escape(hostile)) in page
    role, log_out = ("项目经理", "退出登录") if language == "zh_CN" else ("Project manager", "Log out")
    assert f'id="profile-link" href="/profile">{escape(hostile)} · {role}</a>' in page
    assert f'id="logout-button" class="btn btn-link nav-link">{log_out}</button>' in page
    assert page.index('id="notifications-link"') < page.index('id="profile-link"')


def test_the_menus_log_out_form_ends_the_session(app, make_user):
    client = _logged_in(app, make_user("engineer"))
    page = client.get("/tickets/queue").get_data(as_text=True)
    form = re.search(r'<form method="post" action="([^"]+)" class="form-inline">\s*'
                     r'<input type="hidden" name="csrf_token" value="([^"]+)">', page)
    assert form and form.group(1) == "/logout"
    assert client.post(form.group(1), data={"csrf_token": form.group(2)}).status_code == 302
    assert client.get("/tickets/queue").status_code == 302  # back to the log-in page


def test_anonymous_visitors_get_the_language_choice_only(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'id="lang-menu"' in page and "简体中文" in page and "English" in page
    assert 'id="profile-link"' not in page and 'id="logout-button"' not in page
    assert 'id="notifications-link"' not in page


def test_a_plugins_item_shows_for_logged_in_users_in_order(app, make_user):
    from markupsafe import Markup

    items = app.extensions["weibao"].registry("user menu item")
    items.add("duty", lambda: Markup('<li class="nav-item" id="duty-item">值班</li>'))
    page = _logged_in(app, make_user("engineer")).get("/tickets/queue").get_data(as_text=True)
    assert page.index('id="notifications-link"') < page.index('id="duty-item"') < page.index('id="profile-link"')
    assert 'id="duty-item"' not in app.test_client().get("/login").get_data(as_text=True)


def test_the_unread_badge_is_capped(app, make_user, monkeypatch):
    from portal.notify import views

    client = _logged_in(app, make_user("engineer"))
    for unread, badge in ((0, None), (7, "7"), (UNREAD_CAP - 1, str(UNREAD_CAP - 1)), (UNREAD_CAP, f"{UNREAD_CAP - 1}+")):
        monkeypatch.setattr(views, "unread_count", lambda user, unread=unread: unread)
        page = client.get("/tickets/queue").get_data(as_text=True)
        shown = re.search(r'id="unread-count">([^<]+)<', page)
        assert (shown.group(1) if shown else None) == badge, unread
