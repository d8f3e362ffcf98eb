"""Every user-facing string is translated, and the shipped .mo files match their .po sources."""

import re
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from portal.catalog import LANGUAGES
from portal.catalog import ROOT
from portal.catalog import catalog_dirs
from portal.catalog import extract_package
from tests.conftest import log_in

PACKAGES = catalog_dirs()


def _po(package, language="zh_Hans_CN"):
    with open(package / "translations" / language / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle, locale=language)


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_every_marked_string_has_a_chinese_translation(package):
    catalog = _po(package)
    missing = []
    for message in extract_package(package):
        if not message.id:
            continue
        translated = catalog.get(message.id)
        strings = translated.string if translated is not None else None
        if isinstance(strings, tuple):
            strings = strings[0]
        if not strings or (translated is not None and translated.fuzzy):
            missing.append(message.id)
    assert not missing, f"untranslated in {package.name}: {missing[:20]}"


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_compiled_catalog_matches_its_source(package):
    source = {message.id: message.string for message in _po(package) if message.id and message.string}
    with open(package / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.mo", "rb") as handle:
        compiled = {message.id: message.string for message in read_mo(handle) if message.id}
    assert compiled == source, f"run `python -m portal.catalog {package.name}` to recompile"


# flask-babel merges every package's catalog into one table and the last folder loaded wins, so a
# msgid translated two ways shows one package's wording on the other's pages (the reports' count
# column "Tickets" = 工单数 once named the tickets' admin menu and list). Give a contextual
# translation its own msgid instead. These are known, with the translations seen, and read
# acceptably whichever catalog wins:
KNOWN_CONFLICTS = {
    "Action": ({"操作", "动作"}, "audit log column vs the forms' history: both read as 'action'"),
    "Category": ({"分类", "分项", "类别", "问题类别"}, "each names a category where it stands"),
    "Changes": ({"变更", "变更内容"}, "synonyms"),
    "Channel": ({"渠道", "登记渠道"}, "the tickets' longer wording, same meaning"),
    "Comment": ({"意见", "备注"}, "both are a workflow transition's comment"),
    "Comment (optional)": ({"意见（选填）", "备注（可选）"}, "as 'Comment'"),
    "Done.": ({"已完成。", "操作成功。"}, "a flash after an action: either reads well"),
    "E-mail": ({"电子邮箱", "电子邮件"}, "synonyms"),
    "Invalid cursor.": ({"无效的分页游标。", "分页游标无效。"}, "API error wording"),
    "Invalid limit.": ({"无效的条数限制。", "每页数量无效。"}, "API error wording"),
    "New": ({"新", "新登记"}, ("notify's unread badge vs a ticket's status, which may read 新: "
                              "understandable; for the tickets' and notify's owners to settle")),
    "No contracts.": ({"暂无合同。", "没有合同。"}, "wording"),
    "No such contract.": ({"合同不存在。", "没有这个合同。"}, "wording"),
    "SLA breached": ({"SLA 超时", "服务时限已超"}, "synonyms"),
    "SLA warning": ({"SLA 预警", "服务时限预警"}, "synonyms"),
    "Summary": ({"摘要", "概要"}, "synonyms"),
    "Title": ({"标题", "名称"}, "either names a contract"),
    "Uptime target (%)": ({"可用率目标（%）", "正常运行率目标（%）"}, "synonyms"),
    "Vendor": ({"厂商", "服务商", "供应商", "维保单位"}, "all name the vendor"),
    "You may only manage contracts of your own organization.": (
        {"只能管理本机构的合同。", "只能管理本单位的合同。"}, "synonyms"),
    "must be a time like 2026-09-30T10:00:00+08:00": (
        {"必须是时间，例如 2026-09-30T10:00:00+08:00", "须为时间，如 2026-09-30T10:00:00+08:00"},
        "API validation wording"),
    "must be an integer": ({"必须是整数", "须为整数"}, "API validation wording"),
    "must be one of: %(choices)s": (
        {"必须是以下之一：%(choices)s", "须为以下之一：%(choices)s"}, "API validation wording"),
}


def _conflicts(language):
    """{(context, msgid): {package: translation}} for msgids two catalogs translate differently."""
    seen = {}
    for package in PACKAGES:
        for message in _po(package, language):
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if message.id and any(strings) and not message.fuzzy:
                found = seen.setdefault((message.context, message.id), {})
                found[str(package.relative_to(ROOT))] = message.string
    return {key: found for key, found in seen.items() if len(set(found.values())) > 1}


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_msgid_is_translated_two_ways_across_catalogs(language):
    unknown = {key: found for key, found in _conflicts(language).items()
               if not set(found.values()) <= KNOWN_CONFLICTS.get(key[1], (set(),))[0]}
    assert not unknown, f"one msgid, several translations (only one wins at run time): {unknown}"


def test_the_ticket_admin_reads_the_tickets_own_translation(app, make_user):
    tickets = _po(ROOT / "portal" / "tickets").get("Tickets").string
    client = app.test_client()
    log_in(client, make_user("admin").username)
    page = client.get("/admin/ticket_admin/").get_data(as_text=True)
    assert "工单数" not in page  # the reports' count column once won
    assert re.search(r"<title>\s*" + re.escape(tickets), page)
    assert page.count(tickets) >= 3  # title, menu category and item, list heading


def test_language_switch_to_english_and_back(client):
    assert "登录" in client.get("/login").get_data(as_text=True)
    client.get("/language/en?next=/login")
    assert "Log in" in client.get("/login").get_data(as_text=True)
    client.get("/language/zh_CN?next=/login")
    assert "登录" in client.get("/login").get_data(as_text=True)


def test_unknown_language_is_ignored(client):
    response = client.get("/language/xx?next=/login")
    assert response.status_code == 302
    assert "登录" in client.get("/login").get_data(as_text=True)


def test_admin_pages_are_chinese_including_flask_admin_strings(app, make_user):
    admin = make_user("admin")
    client = app.test_client()
    log_in(client, admin.username)
    page = client.get("/admin/users/").get_data(as_text=True)
    assert "用户名" in page  # our column label
    assert "新建" in page or "创建" in page  # flask-admin's own "Create" link, from its catalog


@pytest.mark.parametrize("code", ["zh_CN", "en", "zh_Hant_TW", "sr_Latn_RS"])
def test_a_parsed_locale_keeps_babels_identifier_and_equality(code):
    from babel import Locale

    from portal.i18n import parsed_locale

    ours, babels = parsed_locale(code), Locale.parse(code)
    assert str(ours) == str(babels) and str(ours) == str(ours)  # asked twice: the kept identifier
    assert ours == babels and hash(ours) == hash(babels) and ours is parsed_locale(code)
    assert ours.get_display_name("en") == babels.get_display_name("en")


def test_language_is_flask_babels_choice(app, make_user):
    import flask_babel
    from flask import session

    from portal.i18n import language

    user = make_user("engineer", locale="en")
    chinese = "zh_Hans_CN"  # babel's identifier of zh_CN
    with app.app_context():
        assert language() == str(flask_babel.get_locale())
    with app.test_request_context("/"):
        assert language() == str(flask_babel.get_locale()) == chinese  # chosen on the first ask
        session["lang"] = "en"
        assert language() == chinese  # chosen once a request, as flask-babel does
        flask_babel.refresh()
        assert language() == str(flask_babel.get_locale()) == "en"
    with app.test_request_context("/"):
        from flask_login import login_user

        login_user(user)
        assert language() == str(flask_babel.get_locale()) == "en"  # the user's own preference


@pytest.mark.parametrize("code", ["zh_CN", "en"])
def test_a_pages_catalog_translates_as_flask_admins_gettext(app, code):
    from flask import session
    from flask_admin import babel as admin_babel
    from flask_admin import translations as admin_translations

    from portal.i18n import catalog_gettext

    with open(Path(admin_translations.__path__[0]) / "zh_Hans_CN" / "LC_MESSAGES" / "admin.po", encoding="utf-8") as po:
        messages = [message.id for message in read_po(po) if isinstance(message.id, str) and message.id]
    assert len(messages) > 100
    with app.test_request_context("/"):
        session["lang"] = code
        gettext = catalog_gettext(admin_babel.domain.get_translations())
        for message in messages:
            assert gettext(message) == admin_babel.gettext(message), message
        for message, variables in (("Sort by %(name)s", {"name": "<编号>"}), ("Tickets", {}),
                                   ("%(name)s", {"name": "%(x)s"})):
            assert gettext(message, **variables) == admin_babel.gettext(message, **variables)


def test_admin_pages_follow_the_language_switch(app, make_user):
    client = app.test_client()
    log_in(client, make_user("admin").username)
    # the page's tab, a header's title, the search box's placeholder
    english = (">List<", "Sort by Number", 'placeholder="Search: Title, Description"')
    chinese = (">列表<", "进行排序", 'placeholder="搜索：')
    for code, words, absent in (("en", english, chinese), ("zh_CN", chinese, english), ("en", english, chinese)):
        client.get(f"/language/{code}?next=/")
        page = client.get("/admin/ticket_admin/").get_data(as_text=True)
        assert all(word in page for word in words), (code, words)
        assert not any(word in page for word in absent), (code, absent)
