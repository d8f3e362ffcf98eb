"""After-commit actions: quota.consume runs once after commit (never on rollback) and a retry
never consumes twice; plugins extend actions, field types, functions and validators."""

import datetime

import pytest

from forms import service
from forms.actions import FormAction
from forms.actions import run_actions
from forms.fields import Text
from forms.functions import Function
from forms.models import ActionRun
from forms.models import FormSubmission
from forms.models import FormType
from portal.audit import AuditLog
from portal.contracts.models import QuotaUsage
from portal.db import db

DATA = {"title": "报表", "kind": "report", "description": "月报",
        "tasks": [{"task": "开发", "person_days": 1}]}


@pytest.fixture
def in_review(app, make_user, contract):
    engineer = make_user("engineer")
    with app.test_request_context():
        form_type = FormType.get(FormType.key == "requirement_assessment")
        submission = service.create_submission(form_type, DATA, engineer, contract_id=contract.id)
        submission = service.transition(submission, "submit", "", engineer)
    return submission


def test_quota_is_consumed_once_after_commit(app, make_user, in_review):
    it = make_user("hospital_it")
    with app.test_request_context():
        with db.atomic():
            service.transition(FormSubmission.get_by_id(in_review.id), "approve", "", it)
            assert QuotaUsage.select().count() == 0  # not before the commit
        usage = QuotaUsage.get()
        assert usage.source_type == "form_submission" and usage.source_id == str(in_review.id)
        from forms.models import SubmissionEvent

        event = in_review.events.order_by(SubmissionEvent.id.desc()).first()
        # a retry of the same task, and a later re-run, change nothing
        for _ in range(2):
            assert run_actions(in_review.id, "transition:approve", event.id, it.id) == []
        assert QuotaUsage.select().count() == 1
        assert ActionRun.select().where(ActionRun.action == "quota.consume").count() == 1


def test_rolled_back_transition_runs_no_action(app, make_user, in_review):
    it = make_user("hospital_it")
    with app.test_request_context():
        with db.atomic() as transaction:
            service.transition(FormSubmission.get_by_id(in_review.id), "approve", "", it)
            transaction.rollback()
        assert QuotaUsage.select().count() == 0
        assert FormSubmission.get_by_id(in_review.id).state == "in_review"
        assert ActionRun.select().where(ActionRun.action == "quota.consume").count() == 0


def test_when_condition_skips_the_quota(app, make_user, contract):
    engineer, it = make_user("engineer"), make_user("hospital_it")
    big = dict(DATA, tasks=[{"task": "大需求", "person_days": 5}])  # quota_item is false (> 3)
    with app.test_request_context():
        form_type = FormType.get(FormType.key == "requirement_assessment")
        submission = service.create_submission(form_type, big, engineer, contract_id=contract.id)
        submission = service.transition(submission, "submit", "", engineer)
        service.transition(submission, "approve", "", it)
    assert QuotaUsage.select().count() == 0
    assert ActionRun.get(ActionRun.action == "quota.consume").result.startswith("skipped")


def test_failed_action_leaves_nothing_and_can_be_retried(app, make_user, contract, token_for,
                                                         client, admin_headers):
    calls = []

    def flaky(ctx):
        calls.append(ctx.submission.id)
        if len(calls) == 1:
            raise RuntimeError("the mail server is down")
        return "sent"

    app.extensions["weibao"].registry("form action").add("test.flaky", FormAction("test.flaky", flaky))
    source = ("formdef: 1\nkey: flaky_form\nversion: 1\ntitle: 测试\nattach_to: contract\n"
              "sections:\n  - key: main\n    title: 主\n    fields:\n"
              "      - {key: note_text, type: text, label: 备注}\n"
              "actions:\n  - {on: submit, run: test.flaky}\n")
    assert client.post("/api/v1/form-types", data=source.encode(), headers=admin_headers,
                       content_type="application/yaml").status_code == 201
    assert client.post("/api/v1/form-types/flaky_form/publish", headers=admin_headers).status_code == 200
    engineer = make_user("engineer")
    response = client.post("/api/v1/form-types/flaky_form/submissions",
                           json={"data": {"note_text": "x"}, "contract_id": contract.id},
                           headers=token_for(engineer))
    assert response.status_code == 201  # the submission stands even though the action failed
    sid = response.get_json()["id"]
    assert ActionRun.select().where(ActionRun.action == "test.flaky").count() == 0
    event = FormSubmission.get_by_id(sid).events.first()
    with app.test_request_context():
        assert run_actions(sid, "submit", event.id, engineer.id) == [("test.flaky", "sent")]
        assert run_actions(sid, "submit", event.id, engineer.id) == []
    assert len(calls) == 2


def test_notify_writes_an_audit_row(app, client, make_user, token_for, contract):
    headers = token_for(make_user("engineer"))
    client.post("/api/v1/form-types/requirement_assessment/submissions",
                json={"data": DATA, "contract_id": contract.id}, headers=headers)
    row = AuditLog.get(AuditLog.action == "notify")
    assert "requirement_submitted" in row.summary


def test_plugin_field_type_function_and_validator_work_in_yaml(app, client, admin_headers,
                                                               make_user, token_for, contract):
    class Plate(Text):
        name = "plate"

        def clean(self, value, spec, choices=None):
            value = super().clean(value, spec, choices)
            return value.upper() if value else value

    state = app.extensions["weibao"]
    state.registry("field type").add("plate", Plate())
    state.registry("expression function").add(
        "double", Function("double", lambda ctx, x: None if x is None else x * 2, 1, 1))
    state.registry("validator").add("even", lambda value: value % 2 == 0)
    source = ("formdef: 1\nkey: plugin_form\nversion: 1\ntitle: 插件\nattach_to: contract\n"
              "sections:\n  - key: main\n    title: 主\n    fields:\n"
              "      - {key: car, type: plate, label: 车牌}\n"
              "      - key: n\n        type: integer\n        label: 数\n"
              "        validate: [{expr: \"valid('even', value)\", message: 必须是偶数}]\n"
              "      - key: phone\n        type: text\n        label: 电话\n"
              "        validate: [{expr: \"valid('phone', value)\", message: 电话格式不对}]\n"
              "computed:\n  - {key: twice, expr: \"double(n)\"}\n")
    created = client.post("/api/v1/form-types", data=source.encode(), headers=admin_headers,
                          content_type="application/yaml")
    assert created.status_code == 201, created.get_json()
    client.post("/api/v1/form-types/plugin_form/publish", headers=admin_headers)
    headers = token_for(make_user("engineer"))
    bad = client.post("/api/v1/form-types/plugin_form/submissions",
                      json={"data": {"car": "gx-a1", "n": 3, "phone": "12"},
                            "contract_id": contract.id}, headers=headers)
    assert bad.status_code == 422
    assert {d["field"] for d in bad.get_json()["error"]["details"]} == {"n", "phone"}
    good = client.post("/api/v1/form-types/plugin_form/submissions",
                       json={"data": {"car": "gx-a1", "n": 4, "phone": "13800000000"},
                             "contract_id": contract.id}, headers=headers)
    assert good.status_code == 201
    assert good.get_json()["data"]["car"] == "GX-A1" and good.get_json()["computed"]["twice"] == 8
    unknown = source.replace("valid('even'", "valid('odd'").replace("plugin_form", "plugin_two")
    response = client.post("/api/v1/form-types", data=unknown.encode(), headers=admin_headers,
                           content_type="application/yaml")
    assert response.status_code == 422 and "odd" in response.get_data(as_text=True)


def test_workdays_between_uses_the_business_calendar(app):
    from forms.appenv import calendar_workdays

    with app.app_context():
        # 2025 National Day: 1-8 October off; a plain Monday-Friday count would say 6
        assert calendar_workdays(datetime.date(2025, 10, 1), datetime.date(2025, 10, 9)) == 0
        assert calendar_workdays(datetime.date(2025, 9, 28), datetime.date(2025, 9, 29)) == 1  # adjusted Sunday
        assert calendar_workdays(datetime.date(2025, 10, 9), datetime.date(2025, 10, 1)) == 0


def test_builtin_registrations_go_through_the_plugin_context(app):
    state = app.extensions["weibao"]
    assert {"text", "checklist"} - set(state.registry("field type").names()) == {"checklist"}
    assert "workdays_between" in state.registry("expression function")
    assert {"phone", "email", "ip_address", "id_card"} <= set(state.registry("validator").names())
    assert {"quota.consume", "ticket.create", "notify"} <= set(state.registry("form action").names())
    assert "forms.run_actions" in state.tasks
