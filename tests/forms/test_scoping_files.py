"""Organisation scoping of submissions and files, uploads, signatures and numbering under load."""

import base64
import threading
from pathlib import Path

import pytest

from forms import files
from forms import service
from forms.models import FormSubmission
from forms.models import FormType
from forms.models import StoredFile
from portal.audit import AuditLog
from portal.db import db
from tests.conftest import blns_strings
from tests.conftest import log_in
from tests.forms.helpers import page_csrf

DATA = {"title": "报表", "kind": "report", "description": "月报",
        "tasks": [{"task": "开发", "person_days": 1}]}


@pytest.fixture
def submission_id(client, make_user, token_for, contract):
    response = client.post("/api/v1/form-types/requirement_assessment/submissions",
                           json={"data": DATA, "contract_id": contract.id},
                           headers=token_for(make_user("engineer")))
    return response.get_json()["id"]


def test_other_hospital_gets_404_and_it_is_audited(app, client, make_user, token_for,
                                                   other_hospital, submission_id):
    outsider = make_user("hospital_it", organization=other_hospital)
    response = client.get(f"/api/v1/submissions/{submission_id}", headers=token_for(outsider))
    assert response.status_code == 404
    assert client.post(f"/api/v1/submissions/{submission_id}/transitions",
                       json={"action": "submit"}, headers=token_for(outsider)).status_code == 404
    browser = app.test_client()
    log_in(browser, outsider.username)
    for path in (f"/admin/submissions/{submission_id}", f"/admin/submissions/{submission_id}/print",
                 f"/admin/submissions/{submission_id}/edit"):
        assert browser.get(path).status_code == 404, path
    assert str(submission_id) not in browser.get("/admin/submissions/").get_data(as_text=True) \
        .split('id="submissions"')[1].split("</table>")[0].replace("data-id", "")[:0] or True
    listing = browser.get("/admin/submissions/").get_data(as_text=True)
    assert f'data-id="{submission_id}"' not in listing
    denied = AuditLog.select().where(AuditLog.action == "access_denied",
                                     AuditLog.object_type == "FormSubmission")
    assert denied.count() >= 4
    own = make_user("hospital_it")
    assert client.get(f"/api/v1/submissions/{submission_id}",
                      headers=token_for(own)).status_code == 200


def test_vendor_sees_its_own_rows(client, make_user, token_for, submission_id):
    from portal.accounts.models import Organization

    other_vendor = Organization.create(name="另一家公司", kind="vendor")
    stranger = make_user("engineer", organization=other_vendor)
    assert client.get(f"/api/v1/submissions/{submission_id}",
                      headers=token_for(stranger)).status_code == 404
    assert client.get(f"/api/v1/submissions/{submission_id}",
                      headers=token_for(make_user("manager"))).status_code == 200


def _signature_url(data):
    return "data:image/png;base64," + base64.b64encode(data).decode()


def _onsite_fields(engineer, signature, photo):
    return {"service_type": "fault", "arrival_time": "2026-03-02T09:00",
            "leave_time": "2026-03-02T11:00", "engineer": str(engineer.id),
            "work_done": "更换打印驱动", "resolved": "y", "customer_name": "黄主任",
            "satisfaction": "5", "customer_signature": signature, "photos": photo}


def test_upload_and_signature_through_the_form(app, make_user, contract, tmp_path):
    engineer = make_user("engineer")
    client = app.test_client()
    log_in(client, engineer.username)

    def post(signature, photo):
        token = page_csrf(client, "/admin/submissions/new/onsite_service_sheet")
        data = {"csrf_token": token, "WB_CONTRACT": str(contract.id), "WB_SAVE": "submit",
                **_onsite_fields(engineer, signature, photo)}
        return client.post("/admin/submissions/new/onsite_service_sheet", data=data,
                           content_type="multipart/form-data")

    png = files.tiny_png()
    # a JPEG passed off as a PNG signature, and a text file as a photo: refused, nothing stored
    jpeg = b"\xff\xd8\xff\xe0" + b"0" * 100
    response = post(_signature_url(jpeg), (io_bytes(b"hello"), "photo.jpg"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "签名必须是 PNG 图片" in html and "不接受此类文件" in html
    assert FormSubmission.select().count() == 0
    # a truncated PNG and an oversized signature are refused too
    assert post(_signature_url(png[:-5]), (io_bytes(png), "p.png")).status_code == 422
    assert post(_signature_url(files.PNG_MAGIC + b"x" * (300 * 1024)),
                (io_bytes(png), "p.png")).status_code == 422
    # good ones are stored under random names with sniffed types
    response = post(_signature_url(png), (io_bytes(png), "../../etc/现场.png"))
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    submission = FormSubmission.get()
    signature = submission.data["customer_signature"]
    photo = submission.data["photos"][0]
    assert signature["content_type"] == "image/png" and photo["name"] == "现场.png"
    stored = StoredFile.get(StoredFile.name == photo["id"])
    assert stored.submission_id == submission.id and stored.original_name == "现场.png"
    on_disk = Path(app.instance_path) / "uploads" / "forms" / stored.name
    assert on_disk.read_bytes() == png and "现场" not in stored.name
    assert submission.data["arrival_time"] == "2026-03-02T09:00:00+08:00"
    printed = client.get(f"/admin/submissions/{submission.id}/print").get_data(as_text=True)
    assert f"/admin/submissions/file/{signature['id']}" in printed
    image = client.get(f"/admin/submissions/file/{signature['id']}")
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert image.get_data() == png
    image.close()
    # another hospital's user cannot fetch the file
    from portal.accounts.models import Organization

    outsider = make_user("hospital_it", organization=Organization.create(name="外院", kind="hospital"))
    other = app.test_client()
    log_in(other, outsider.username)
    assert other.get(f"/admin/submissions/file/{signature['id']}").status_code == 404


def io_bytes(data):
    import io

    return io.BytesIO(data)


def test_api_cannot_attach_unknown_or_foreign_files(app, client, make_user, token_for, contract):
    engineer = make_user("engineer")
    with app.test_request_context():
        mine = files.store_bytes(files.tiny_png(), "s.png", make_user("manager"), 10**6)
    data = {"service_type": "fault", "arrival_time": "2026-03-02T09:00:00+08:00",
            "leave_time": "2026-03-02T10:00:00+08:00", "engineer": engineer.id,
            "work_done": "更换打印驱动", "resolved": True, "customer_name": "黄主任",
            "satisfaction": 5}
    for ref in ({"id": "nope.png", "name": "x.png"}, mine.ref()):
        response = client.post("/api/v1/form-types/onsite_service_sheet/submissions",
                               json={"data": {**data, "customer_signature": ref},
                                     "contract_id": contract.id}, headers=token_for(engineer))
        assert response.status_code == 422
        assert response.get_json()["error"]["details"][0]["field"] == "customer_signature"


def test_numbers_are_unique_under_concurrency(app, make_user, contract):
    engineer = make_user("engineer")
    form_type = FormType.get(FormType.key == "requirement_assessment")
    numbers, errors = [], []

    def worker():
        try:
            with app.app_context():
                db.connect(reuse_if_open=True)
                for _ in range(5):
                    submission = service.create_submission(form_type, {"title": "并发"}, engineer,
                                                           contract_id=contract.id, draft=True)
                    numbers.append(submission.number)
                db.close()
        except Exception as error:  # collected and reported by the assertion below
            errors.append(repr(error))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(numbers) == 30 and len(set(numbers)) == 30
    assert sorted(int(n.rsplit("-", 1)[1]) for n in numbers) == list(range(1, 31))


def test_blns_through_text_fields(app, client, make_user, token_for, contract):
    strings = blns_strings()
    headers = token_for(make_user("engineer"))
    stored = refused = 0
    for value in strings:
        response = client.post("/api/v1/form-types/requirement_assessment/submissions",
                               json={"data": {"title": value, "department": value,
                                              "description": value},
                                     "contract_id": contract.id, "draft": True},
                               headers=headers)
        assert response.status_code in (201, 422), (value, response.status_code)
        if response.status_code == 201:
            body = client.get(f"/api/v1/submissions/{response.get_json()['id']}",
                              headers=headers).get_json()
            expected = value if value.strip() else None
            assert body["data"]["title"] == expected and body["data"]["description"] == expected
            stored += 1
        else:
            assert response.get_json()["error"]["details"][0]["message"]
            refused += 1
    assert stored > 400


def test_blns_through_the_web_form(app, make_user, contract):
    strings = blns_strings()
    engineer = make_user("engineer")
    client = app.test_client()
    log_in(client, engineer.username)
    token = page_csrf(client, "/admin/submissions/new/requirement_assessment")
    for value in strings[::3]:
        response = client.post("/admin/submissions/new/requirement_assessment", data={
            "csrf_token": token, "WB_CONTRACT": str(contract.id), "WB_SAVE": "draft",
            "title": value, "description": value, "tasks-0-task": value})
        assert response.status_code in (302, 422), (value, response.status_code)


def test_unattached_uploads_are_purged_after_a_day(app, make_user):
    import datetime

    from forms.tasks import purge_orphan_files

    with app.app_context():
        row = files.store_bytes(files.tiny_png(), "x.png", make_user("engineer"), 10**6)
        path = files.file_path(row)
        assert purge_orphan_files() == 0 and path.exists()
        later = row.uploaded_at + datetime.timedelta(hours=25)
        assert purge_orphan_files(now=later) == 1
    assert not path.exists() and StoredFile.select().count() == 0
