"""A hospital user never sees an internal (or draft) article, by any path: one test per path."""

import io

import pytest

from knowledge_base import service
from knowledge_base.models import Article
from knowledge_base.models import ArticleImage
from portal.accounts.models import Organization
from tests.conftest import csrf_token

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89" \
      b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7V\xbd\xfa\x00\x00\x00\x00IEND\xaeB`\x82"

SECRET_WORD = "机密口令"


@pytest.fixture
def engineer(make_user):
    return make_user("engineer")


@pytest.fixture
def engineer_client(client_for, engineer):
    return client_for(engineer)


@pytest.fixture
def kb(app, in_app, engineer, engineer_client):
    """An internal article with two revisions and a picture, a draft, and a public article linking to both."""
    response = engineer_client.post("/kb/images", data={"image": (io.BytesIO(PNG), "shot.png")},
                                    headers={"X-CSRFToken": csrf_token(engineer_client)})
    assert response.status_code == 201, response.get_data(as_text=True)
    image_url = response.get_json()["url"]
    internal = in_app(service.save_article, {
        "title": f"医保前置机{SECRET_WORD}", "slug": "internal-secret", "visibility": "internal", "status": "published",
        "body_md": f"前置机密码规则：{SECRET_WORD}\n\n![截图]({image_url})", "tags": ["医保"], "systems": ["HIS"],
    }, engineer, vendor_id=engineer.organization_id).article
    in_app(service.save_article, {"body_md": f"第二版：{SECRET_WORD}\n\n![截图]({image_url})"}, engineer,
           article=internal)
    draft = in_app(service.save_article, {
        "title": f"草稿{SECRET_WORD}", "slug": "public-draft", "visibility": "public", "status": "draft",
        "body_md": f"医保草稿 {SECRET_WORD}",
    }, engineer, vendor_id=engineer.organization_id).article
    public = in_app(service.save_article, {
        "title": "医保结算公开说明", "slug": "public-note", "visibility": "public", "status": "published",
        "body_md": "医保结算说明，另见内部文章。",
    }, engineer, vendor_id=engineer.organization_id, related=["internal-secret", "public-draft"]).article
    with app.app_context():
        image = ArticleImage.get()
    assert image.article_id == internal.id
    return {"internal": internal, "draft": draft, "public": public, "image_url": image_url}


@pytest.fixture(params=["reporter", "hospital_it"])
def hospital_user(request, make_user):
    return make_user(request.param)


@pytest.fixture
def hospital_client(client_for, hospital_user):
    return client_for(hospital_user)


@pytest.fixture
def hospital_headers(token_for, hospital_user):
    return token_for(hospital_user)


def _page(client, path, **kwargs):
    response = client.get(path, **kwargs)
    return response.status_code, response.get_data(as_text=True)


def test_engineer_sees_everything_the_hospital_may_not(engineer_client, kb):
    assert engineer_client.get("/kb/internal-secret").status_code == 200
    assert engineer_client.get("/kb/public-draft").status_code == 200
    assert SECRET_WORD in engineer_client.get("/kb/?q=医保").get_data(as_text=True)
    assert engineer_client.get(kb["image_url"]).status_code == 200


def test_list_page(hospital_client, kb):
    status, html = _page(hospital_client, "/kb/")
    assert status == 200
    assert "医保结算公开说明" in html
    assert SECRET_WORD not in html


def test_search_page(hospital_client, kb):
    status, html = _page(hospital_client, "/kb/", query_string={"q": "医保"})
    assert status == 200
    assert "医保结算公开说明" in html
    assert SECRET_WORD not in html
    status, html = _page(hospital_client, "/kb/", query_string={"q": f"前置机 草稿 {SECRET_WORD}"})
    assert status == 200
    assert "/kb/internal-secret" not in html and "/kb/public-draft" not in html


def test_starter_internal_articles_stay_out_of_search(hospital_client, starter):
    for query in ("单边账 SQL", "数据库备份", "年库"):
        html = hospital_client.get("/kb/", query_string={"q": query}).get_data(as_text=True)
        for slug in ("insurance-one-sided-account-sql", "database-backup-check", "year-end-archive-migration"):
            assert f"/kb/{slug}" not in html


def test_api_list(app, hospital_headers, kb):
    items = app.test_client().get("/api/v1/kb/articles", headers=hospital_headers).get_json()["items"]
    assert [item["slug"] for item in items] == ["public-note"]


def test_api_search(app, hospital_headers, kb):
    client = app.test_client()
    for query in (SECRET_WORD, "医保", "前置机", "草稿"):
        items = client.get("/api/v1/kb/search", query_string={"q": query}, headers=hospital_headers).get_json()["items"]
        assert {item["slug"] for item in items} <= {"public-note"}, query


def test_api_detail(app, hospital_headers, kb):
    client = app.test_client()
    for slug in ("internal-secret", "public-draft"):
        response = client.get(f"/api/v1/kb/articles/{slug}", headers=hospital_headers)
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/kb/articles/public-note", headers=hospital_headers).status_code == 200


def test_api_detail_related_hides_internal(app, hospital_headers, token_for, engineer, kb):
    client = app.test_client()
    assert client.get("/api/v1/kb/articles/public-note", headers=hospital_headers).get_json()["related"] == []
    related = client.get("/api/v1/kb/articles/public-note", headers=token_for(engineer)).get_json()["related"]
    assert sorted(related) == ["internal-secret", "public-draft"]


def test_article_page(hospital_client, kb):
    for slug in ("internal-secret", "public-draft"):
        status, html = _page(hospital_client, f"/kb/{slug}")
        assert status == 404
        assert SECRET_WORD not in html


def test_revisions(hospital_client, kb):
    assert hospital_client.get("/kb/internal-secret/revisions").status_code == 404
    assert hospital_client.get("/kb/internal-secret/revisions/1").status_code == 404


def test_diff(hospital_client, engineer_client, kb):
    assert engineer_client.get("/kb/internal-secret/diff?from=1&to=2").status_code == 200
    status, html = _page(hospital_client, "/kb/internal-secret/diff?from=1&to=2")
    assert status == 404
    assert SECRET_WORD not in html


def test_image(hospital_client, kb):
    assert hospital_client.get(kb["image_url"]).status_code == 404


def test_unattached_image_is_for_editors_of_the_uploading_vendor(app, hospital_client, engineer_client, make_user,
                                                                 client_for):
    response = engineer_client.post("/kb/images", data={"image": (io.BytesIO(PNG), "a.png")},
                                    headers={"X-CSRFToken": csrf_token(engineer_client)})
    url = response.get_json()["url"]
    assert engineer_client.get(url).status_code == 200
    assert hospital_client.get(url).status_code == 404
    other_vendor = Organization.create(name="另一家厂商", kind="vendor")
    assert client_for(make_user("engineer", organization=other_vendor)).get(url).status_code == 404


def test_suggest(hospital_client, engineer_client, kb):
    items = hospital_client.get("/kb/suggest", query_string={"q": f"医保 {SECRET_WORD}"}).get_json()["items"]
    assert [item["slug"] for item in items] == ["public-note"]
    # Suggestions are public, published articles for everyone: they are what a reporter sees.
    items = engineer_client.get("/kb/suggest", query_string={"q": f"医保 {SECRET_WORD}"}).get_json()["items"]
    assert [item["slug"] for item in items] == ["public-note"]


def test_link_from_another_article(hospital_client, engineer_client, kb):
    status, html = _page(hospital_client, "/kb/public-note")
    assert status == 200
    assert "internal-secret" not in html and "public-draft" not in html and SECRET_WORD not in html
    assert "/kb/internal-secret" in engineer_client.get("/kb/public-note").get_data(as_text=True)


def test_incoming_links_do_not_leak(hospital_client, in_app, engineer, kb):
    # The internal article links to the public one: the public page must not name it.
    in_app(service.save_article, {"body_md": "改"}, engineer, article=Article.get_by_id(kb["internal"].id),
           related=["public-note"])
    html = hospital_client.get("/kb/public-note").get_data(as_text=True)
    assert SECRET_WORD not in html and "internal-secret" not in html


def test_vote_and_deflect_on_internal_are_404(hospital_client, kb):
    token = csrf_token(hospital_client)
    assert hospital_client.post("/kb/internal-secret/vote", data={"helpful": "1", "csrf_token": token}).status_code == 404
    assert hospital_client.post("/kb/internal-secret/deflect", data={"q": "x", "csrf_token": token}).status_code == 404


def test_admin_list_and_details(app, hospital_client, kb):
    status, html = _page(hospital_client, "/admin/kb-articles/")
    assert status == 200
    assert "医保结算公开说明" in html and SECRET_WORD not in html
    assert hospital_client.get(f"/admin/kb-articles/details/?id={kb['internal'].id}").status_code == 404


def test_hospital_users_cannot_write(app, hospital_client, hospital_headers, kb):
    client = app.test_client()
    body = {"title": "x", "body_md": "y"}
    assert client.post("/api/v1/kb/articles", json=body, headers=hospital_headers).status_code == 403
    assert client.patch("/api/v1/kb/articles/public-note", json=body, headers=hospital_headers).status_code == 403
    assert hospital_client.get("/kb/new").status_code == 403
    assert hospital_client.get("/kb/public-note/edit").status_code == 403
    token = csrf_token(hospital_client)
    assert hospital_client.post("/kb/preview", data={"body_md": "x", "csrf_token": token}).status_code == 403


def test_another_vendor_does_not_see_internal_articles(app, make_user, client_for, token_for, kb):
    other_vendor = Organization.create(name="另一家厂商", kind="vendor")
    other = make_user("engineer", organization=other_vendor)
    assert client_for(other).get("/kb/internal-secret").status_code == 404
    assert app.test_client().get("/api/v1/kb/articles/internal-secret", headers=token_for(other)).status_code == 404
    assert client_for(other).get("/kb/public-note").status_code == 200
