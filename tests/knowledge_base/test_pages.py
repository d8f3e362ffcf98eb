"""The knowledge-base pages: editor with CSRF, revisions, images, votes, suggestions, deflection,
an article from a resolved ticket, and the admin views."""

import io
from datetime import date

import pytest

from knowledge_base import service
from knowledge_base.models import Article
from knowledge_base.models import ArticleImage
from knowledge_base.models import ArticleLink
from knowledge_base.models import ArticleVote
from knowledge_base.models import Deflection
from knowledge_base.search import search
from tests.conftest import csrf_from
from tests.conftest import csrf_token
from tests.knowledge_base.test_visibility import PNG


@pytest.fixture
def engineer(make_user):
    return make_user("engineer")


@pytest.fixture
def editor(client_for, engineer):
    return client_for(engineer)


@pytest.fixture
def reporter(make_user):
    return make_user("reporter")


@pytest.fixture
def reporter_client(client_for, reporter):
    return client_for(reporter)


def _new_article(client, **fields):
    page = client.get("/kb/new")
    assert page.status_code == 200
    data = {"title": "打印机脱机处理", "category": "打印", "tags": "打印机，脱机", "systems": "HIS、门诊",
            "visibility": "public", "status": "published", "summary": "", "body_md": "## 现象\n\n打印机脱机",
            "related": "", "csrf_token": csrf_from(page.get_data(as_text=True))}
    data.update(fields)
    return client.post("/kb/new", data=data)


def test_editor_creates_an_article(app, editor, engineer):
    response = _new_article(editor)
    assert response.status_code == 302
    slug = response.headers["Location"].rsplit("/", 1)[-1]
    with app.app_context():
        article = Article.get(Article.slug == slug)
        assert article.tag_list == ["打印机", "脱机"]
        assert article.system_names == ["HIS", "门诊"]
        assert article.vendor_id == engineer.organization_id
        assert article.author_id == engineer.id
    page = editor.get(f"/kb/{slug}").get_data(as_text=True)
    assert "打印机脱机处理" in page and 'id="kb-edit"' in page


def test_editor_post_without_csrf_is_refused(app, editor):
    response = editor.post("/kb/new", data={"title": "x", "body_md": "y"})
    assert response.status_code == 400
    with app.app_context():
        assert Article.select().count() == 0


def test_editor_shows_problems_and_saves_nothing(app, editor):
    response = _new_article(editor, title="", visibility="everyone", body_md="a\x00b")
    assert response.status_code in (200, 422)
    with app.app_context():
        assert Article.select().count() == 0


def test_edit_makes_a_revision_and_detects_concurrent_edits(app, editor):
    slug = _new_article(editor).headers["Location"].rsplit("/", 1)[-1]
    page = editor.get(f"/kb/{slug}/edit").get_data(as_text=True)
    token = csrf_from(page)
    form = {"title": "打印机脱机处理", "category": "打印", "tags": "打印机", "systems": "HIS", "related": "",
            "visibility": "public", "status": "published", "summary": "", "body_md": "## 处理\n\n重启 Spooler",
            "revision": "1", "csrf_token": token}
    assert editor.post(f"/kb/{slug}/edit", data=form).status_code == 302
    conflict = editor.post(f"/kb/{slug}/edit", data={**form, "body_md": "另一个人的修改"})
    assert conflict.status_code == 409
    with app.app_context():
        article = Article.get(Article.slug == slug)
        assert article.revision == 2 and "Spooler" in article.body_md
    history = editor.get(f"/kb/{slug}/revisions").get_data(as_text=True)
    assert "/diff?from=1&amp;to=2" in history or "from=1&amp;to=2" in history
    diff = editor.get(f"/kb/{slug}/diff?from=1&to=2").get_data(as_text=True)
    assert "kb-diff-add" in diff and "重启 Spooler" in diff
    assert editor.get(f"/kb/{slug}/diff?from=1&to=9").status_code == 404


def test_preview_renders_markdown(editor):
    response = editor.post("/kb/preview", data={"body_md": "# 标题\n\n| a | b |\n|---|---|\n| 1 | 2 |"},
                           headers={"X-CSRFToken": csrf_token(editor)})
    html = response.get_json()["html"]
    assert '<h1 id="kb-' in html and "<table>" in html


def test_editor_page_has_the_preview_script_from_our_static_folder(editor):
    page = editor.get("/kb/new").get_data(as_text=True)
    assert "/kb/static/kb_editor.js" in page
    script = editor.get("/kb/static/kb_editor.js")
    assert script.status_code == 200
    script.close()


@pytest.mark.parametrize(("name", "data"), [
    ("x.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    ("x.png", b"<html><script>alert(1)</script></html>"),
    ("x.gif", b"GIF8"),
    ("x.png", b""),
])
def test_upload_refuses_anything_but_real_images(app, editor, name, data):
    response = editor.post("/kb/images", data={"image": (io.BytesIO(data), name)},
                           headers={"X-CSRFToken": csrf_token(editor)})
    assert response.status_code == 415
    with app.app_context():
        assert ArticleImage.select().count() == 0


def test_uploaded_image_is_served_safely(app, editor):
    response = editor.post("/kb/images", data={"image": (io.BytesIO(PNG), "../../evil.html")},
                           headers={"X-CSRFToken": csrf_token(editor)})
    assert response.status_code == 201
    url = response.get_json()["url"]
    assert url.endswith(".png") and "evil" not in url
    served = editor.get(url)
    assert served.status_code == 200
    assert served.mimetype == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Disposition"] == "inline"
    assert served.data == PNG
    with app.app_context():
        image = ArticleImage.get()
        assert (app.instance_path + "/uploads/kb/") in str(__import__("knowledge_base.images").images.image_path(image))
    assert editor.get("/kb/images/../../secret_key").status_code == 404
    assert editor.get("/kb/images/" + "a" * 100).status_code == 404


def test_upload_needs_csrf_and_an_editor(editor, reporter_client):
    assert editor.post("/kb/images", data={"image": (io.BytesIO(PNG), "a.png")}).status_code == 400
    response = reporter_client.post("/kb/images", data={"image": (io.BytesIO(PNG), "a.png")},
                                    headers={"X-CSRFToken": csrf_token(reporter_client)})
    assert response.status_code == 403


def test_votes_count_once_per_user(app, starter, reporter_client):
    token = csrf_token(reporter_client)
    for helpful in ("1", "1", "0"):
        assert reporter_client.post("/kb/printer-offline/vote",
                                    data={"helpful": helpful, "csrf_token": token}).status_code == 302
    with app.app_context():
        article = Article.get(Article.slug == "printer-offline")
        assert (article.helpful_count, article.not_helpful_count) == (0, 1)
        assert ArticleVote.select().count() == 1


def test_suggest_while_typing_a_ticket_title(starter, reporter_client):
    response = reporter_client.get("/kb/suggest", query_string={"q": "打印机打不出来了"})
    items = response.get_json()["items"]
    assert items and items[0]["slug"] in ("printer-offline", "dot-matrix-printer-misalignment", "invoice-printing")
    assert {"slug", "title", "snippet", "url"} <= set(items[0])
    assert reporter_client.get("/kb/suggest?q=").get_json() == {"items": []}


def test_deflect_records_the_query(app, starter, reporter_client, reporter):
    token = csrf_token(reporter_client)
    response = reporter_client.post("/kb/printer-offline/deflect", data={"q": "打印机脱机", "csrf_token": token},
                                    headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.get_json() == {"ok": True}
    assert reporter_client.post("/kb/printer-offline/deflect", data={"q": "x"}).status_code == 400
    with app.app_context():
        row = Deflection.get()
        assert (row.query, row.user_id, row.article.slug) == ("打印机脱机", reporter.id, "printer-offline")


def test_list_page_filters_by_category(starter, reporter_client):
    page = reporter_client.get("/kb/", query_string={"category": "医保"}).get_data(as_text=True)
    assert "/kb/insurance-one-sided-account" in page
    assert "/kb/printer-offline" not in page


def test_article_page_counts_views(app, starter, reporter_client):
    reporter_client.get("/kb/printer-offline")
    reporter_client.get("/kb/printer-offline")
    with app.app_context():
        assert Article.get(Article.slug == "printer-offline").view_count == 2


def test_delete_needs_a_manager_and_a_confirmation(app, in_app, client_for, make_user, editor, starter):
    assert editor.post("/kb/printer-offline/delete", data={"confirm": "1", "csrf_token": csrf_token(editor)}).status_code == 403
    manager = client_for(make_user("manager"))
    token = csrf_token(manager)
    manager.post("/kb/printer-offline/delete", data={"csrf_token": token})
    with app.app_context():
        assert Article.select().where(Article.slug == "printer-offline").exists()
    manager.post("/kb/printer-offline/delete", data={"confirm": "1", "csrf_token": token})
    with app.app_context():
        assert not Article.select().where(Article.slug == "printer-offline").exists()
    assert "printer-offline" not in [a.slug for a, *_ in in_app(search, "打印机脱机", make_user("admin"), 10)]


def _ticket(app, hospital, vendor, title, description, resolution):
    ticket_cls = service.ticket_model()
    if ticket_cls is None:
        pytest.skip("portal.tickets.models is not available")
    from portal.accounts.models import utcnow
    from portal.contracts.models import Contract

    with app.app_context():
        contract = Contract.create(number=f"HT-{title}", title="维保合同", hospital=hospital, vendor=vendor,
                                   start_date=date(2026, 1, 1), end_date=date(2026, 12, 31))
        return ticket_cls.create(number=f"T-{title}", contract=contract, hospital=hospital, vendor=vendor,
                                 title=title, description=description, resolution=resolution, category="fault",
                                 priority="P3", status="resolved", reported_at=utcnow())


def test_new_article_from_a_resolved_ticket(app, editor, hospital, vendor):
    ticket = _ticket(app, hospital, vendor, "收费处打印机脱机", "打印机显示脱机<script>", "重启 Print Spooler 服务")
    page = editor.get(f"/kb/new?ticket_id={ticket.id}").get_data(as_text=True)
    assert "收费处打印机脱机" in page and "重启 Print Spooler 服务" in page
    assert "打印机显示脱机&lt;script&gt;" in page
    response = _new_article(editor, title="收费处打印机脱机", ticket_id=str(ticket.id), body_md="处理：重启服务")
    assert response.status_code == 302
    with app.app_context():
        link = ArticleLink.get(ArticleLink.ticket_id == ticket.id)
        assert link.article.title == "收费处打印机脱机"


def test_ticket_of_another_vendor_is_not_prefilled(app, editor, hospital):
    from portal.accounts.models import Organization

    other_vendor = Organization.create(name="别家厂商", kind="vendor")
    ticket = _ticket(app, hospital, other_vendor, "别家工单", "机密描述", "机密处理")
    page = editor.get(f"/kb/new?ticket_id={ticket.id}").get_data(as_text=True)
    assert "机密描述" not in page and "机密处理" not in page


def test_admin_views(app, client_for, make_user, starter):
    admin = client_for(make_user("admin"))
    assert admin.get("/admin/kb-home/").status_code == 200
    page = admin.get("/admin/kb-articles/").get_data(as_text=True)
    assert "insurance-one-sided-account-sql" in page


def test_admin_edit_writes_a_revision_and_reindexes(app, client_for, make_user, in_app, starter):
    user = make_user("admin")
    admin = client_for(user)
    with app.app_context():
        article = Article.get(Article.slug == "printer-offline")
    url = f"/admin/kb-articles/edit/?id={article.id}"
    token = csrf_from(admin.get(url).get_data(as_text=True))
    response = admin.post(url, data={"title": "打印机脱机（管理员改）", "category": "打印", "visibility": "public",
                                     "status": "published", "summary": "", "body_md": "曙光服务器", "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        article = Article.get(Article.slug == "printer-offline")
        assert article.revision == 2 and article.plain_text == "曙光服务器"
    assert [a.slug for a, *_ in in_app(search, "曙光", user, 5)] == ["printer-offline"]
