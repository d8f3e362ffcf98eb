import copy

import pytest

from forms.evaluate import evaluate_submission
from forms.schema import compile_yaml
from tests.forms.conftest import by_field

SIG = {"id": "sig-01", "name": "sign.png", "size": 2048, "content_type": "image/png"}
PHOTO = {"id": "ph-01", "name": "rack.jpg", "size": 4096, "content_type": "image/jpeg"}
PASS_ALL = {
    "client_checks": {k: "pass" for k in ("client_version", "peripherals", "core_functions",
                                          "client_logs")},
    "app_checks": {k: "pass" for k in ("services", "app_logs", "middleware", "interfaces",
                                       "time_sync")},
    "db_checks": {k: "pass" for k in ("instance", "tablespace", "backup_jobs", "slow_queries",
                                      "alert_log", "archive_migration")},
}
GOOD = {
    "requirement_assessment": {
        "title": "门诊医生站增加过敏史提醒", "kind": "change", "description": "需求说明",
        "tasks": [{"task": "开发", "person_days": "1.5"}, {"task": "测试", "person_days": 1}],
    },
    "quarterly_inspection": {
        "inspection_date": "2026-03-02", "mode": "onsite", "engineer": 7, **PASS_ALL,
        "app_cpu_percent": 35.5, "app_memory_percent": "61", "app_disk_free_gb": 120,
        "db_cpu_percent": 20, "db_disk_free_gb": 300, "last_backup_date": "2026-03-01",
        "backup_verified": True, "engineer_signature": SIG, "hospital_signer": "王工",
        "hospital_signature": SIG,
    },
    "pre_holiday_inspection": {
        "holiday": "national_day", "holiday_start": "2026-10-01", "holiday_days": 7,
        "inspection_date": "2026-09-28", "mode": "remote",
        "checks": {k: "pass" for k in ("server_resources", "database_backup", "interfaces",
                                       "certificates", "emergency_plan")},
        "duty": [{"duty_date": "2026-10-01", "engineer_name": "李工", "phone": "138 0000 0000"}],
        "engineer_signature": SIG,
    },
    "onsite_service_sheet": {
        "service_type": "fault", "system": 3, "arrival_time": "2026-03-02T09:10:00+08:00",
        "leave_time": "2026-03-02T11:40:00+08:00", "engineer": 7, "work_done": "更换收费站打印驱动",
        "resolved": True, "photos": [PHOTO], "customer_name": "张老师", "satisfaction": 5,
        "customer_signature": SIG,
    },
    "satisfaction_survey": {
        "year": 2026, "quarter": "1", "department": "门诊部", "response_speed": "very_satisfied",
        "resolution_quality": "satisfied", "attitude": "very_satisfied",
        "onsite_engineer": "satisfied", "communication": "neutral", "overall": "satisfied",
    },
    "emergency_drill_record": {
        "drill_name": "HIS 数据库容灾切换演练", "scenario": "failover", "drill_date": "2026-03-02",
        "start_time": "22:00", "end_time": "23:30", "rto_minutes": 30,
        "participants": [{"name": "赵工", "drill_role": "commander"}],
        "steps": [{"step": "切换至备库", "passed": True}, {"step": "业务验证", "passed": True}],
        "recovery_minutes": 25, "engineer_signature": SIG, "hospital_signature": SIG,
    },
}
BAD = {
    "requirement_assessment": (
        {"kind": "interface", "tasks": [{"task": "x", "person_days": 0.3}], "extra": 1},
        {"title", "partner", "description", "tasks[0].person_days", "extra"}),
    "quarterly_inspection": (
        {**GOOD["quarterly_inspection"], "backup_verified": False, "app_cpu_percent": 120,
         "client_checks": {**PASS_ALL["client_checks"], "peripherals": "fail"},
         "db_checks": {**PASS_ALL["db_checks"], "instance": "maybe", "tablespace": None},
         "last_backup_date": "2026-01-01"},
        {"backup_verified", "app_cpu_percent", "fail_count", "db_checks.instance",
         "db_checks.tablespace", "last_backup_date"}),
    "pre_holiday_inspection": (
        {**GOOD["pre_holiday_inspection"], "inspection_date": "2026-10-02", "holiday_days": 3,
         "duty": [{"duty_date": "2026-10-01", "engineer_name": "李工", "phone": "call me"}],
         "checks": {**GOOD["pre_holiday_inspection"]["checks"], "certificates": "fail"}},
        {"inspection_date", "holiday_days", "duty[0].phone", "issues"}),
    "onsite_service_sheet": (
        {**GOOD["onsite_service_sheet"], "leave_time": "2026-03-02T08:00:00+08:00",
         "resolved": False, "satisfaction": 2, "customer_signature": {"id": "../../etc/passwd"},
         "photos": [{**PHOTO, "content_type": "application/x-msdownload"}]},
        {"leave_time", "follow_up", "complaint", "customer_signature", "photos"}),
    "satisfaction_survey": (
        {**GOOD["satisfaction_survey"], "overall": "meh", "attitude": "very_dissatisfied",
         "communication": "very_dissatisfied", "resolution_quality": "dissatisfied",
         "response_speed": "very_dissatisfied", "onsite_engineer": "dissatisfied"},
        {"overall", "improvements"}),
    "emergency_drill_record": (
        {**GOOD["emergency_drill_record"], "end_time": "21:00", "recovery_minutes": 45,
         "steps": [{"step": "切换", "passed": False}], "participants": []},
        {"end_time", "improvements", "steps[0].deviation", "participants"}),
}


@pytest.mark.parametrize("key", sorted(GOOD))
def test_good_submission_is_accepted(builtins, ctx, key):
    cleaned, computed, problems = evaluate_submission(builtins[key], GOOD[key], ctx)
    assert problems == []
    assert cleaned


@pytest.mark.parametrize("key", sorted(BAD))
def test_bad_submission_reports_every_problem(builtins, ctx, key):
    data, expected = BAD[key]
    _, _, problems = evaluate_submission(builtins[key], data, ctx)
    assert set(by_field(problems)) == expected
    assert all(p.message["zh"] and p.message["en"] for p in problems)


def test_requirement_totals_and_quota(builtins, ctx):
    form = builtins["requirement_assessment"]
    cleaned, computed, _ = evaluate_submission(form, GOOD["requirement_assessment"], ctx)
    assert cleaned["tasks"][0]["person_days"] == 1.5
    assert computed == {"total_days": 2.5, "free": True, "quota_item": True}
    data = copy.deepcopy(GOOD["requirement_assessment"])
    data["tasks"].append({"task": "联调", "person_days": 4})
    _, computed, problems = evaluate_submission(form, data, ctx)
    assert computed == {"total_days": 6.5, "free": False, "quota_item": False}
    assert by_field(problems) == {"charge_note": ["this field is required"]}


def test_hidden_fields_are_dropped_and_not_required(builtins, ctx):
    form = builtins["requirement_assessment"]
    data = {**GOOD["requirement_assessment"], "partner": "东华", "charge_note": "n/a"}
    cleaned, _, problems = evaluate_submission(form, data, ctx)
    assert problems == []
    assert "partner" not in cleaned and "charge_note" not in cleaned
    data["kind"] = "interface"
    cleaned, _, problems = evaluate_submission(form, data, ctx)
    assert cleaned["partner"] == "东华" and problems == []
    data["partner"] = "  "
    _, _, problems = evaluate_submission(form, data, ctx)
    assert by_field(problems) == {"partner": ["this field is required"]}


def test_repeat_paths_are_zero_based_and_row_scoped(builtins, ctx):
    form = builtins["emergency_drill_record"]
    data = {**GOOD["emergency_drill_record"], "steps": [
        {"step": "a", "passed": True}, {"step": "b", "passed": False},
        {"step": "c", "passed": False, "deviation": "备库延迟 5 分钟"}, {"bogus": 1}, "not a row"]}
    cleaned, computed, problems = evaluate_submission(form, data, ctx)
    assert set(by_field(problems)) == {"steps[1].deviation", "steps[3].bogus", "steps[3].step",
                                       "steps[3].deviation", "steps[4]", "steps[4].step",
                                       "steps[4].deviation"}
    assert "deviation" not in cleaned["steps"][0]
    assert cleaned["steps"][2]["deviation"] == "备库延迟 5 分钟"
    assert computed["failed_steps"] == 4


def test_repeat_row_limits(builtins, ctx):
    form = builtins["requirement_assessment"]
    many = {**GOOD["requirement_assessment"], "tasks": [{"task": "t", "person_days": 0.25}] * 41,
            "charge_note": "超出 6 人天"}
    problems = evaluate_submission(form, many, ctx)[2]
    assert by_field(problems) == {"tasks": ["allows at most 40 rows"]}
    none = {**GOOD["requirement_assessment"], "tasks": []}
    assert by_field(evaluate_submission(form, none, ctx)[2]) == {"tasks": ["needs at least 1 rows"]}
    assert evaluate_submission(form, none, ctx, draft=True)[2] == []


def test_boolean_required_means_true(builtins, ctx):
    form = builtins["quarterly_inspection"]
    data = {**GOOD["quarterly_inspection"], "backup_verified": "false"}
    assert by_field(evaluate_submission(form, data, ctx)[2]) == {
        "backup_verified": ["must be checked (true)"]}


def test_scores_and_survey_percentages(builtins, ctx):
    _, computed, _ = evaluate_submission(builtins["satisfaction_survey"],
                                         GOOD["satisfaction_survey"], ctx)
    assert computed["score"] == 5 + 4 + 5 + 4 + 3 + 4
    assert computed["max_score"] == 30
    assert computed["percent"] == 83.3
    assert computed["scorecard_points"] == 16.66
    _, computed, _ = evaluate_submission(builtins["quarterly_inspection"],
                                         GOOD["quarterly_inspection"], ctx)
    assert computed["pass_score"] == 15 and computed["fail_count"] == 0
    assert computed["quarter_no"] == 1


def test_non_object_and_computed_echo(builtins, ctx):
    form = builtins["requirement_assessment"]
    assert by_field(evaluate_submission(form, ["x"], ctx)[2]) == {
        "": ["the submitted data must be an object"]}
    echoed = {**GOOD["requirement_assessment"], "total_days": 999}
    _, computed, problems = evaluate_submission(form, echoed, ctx)
    assert problems == [] and computed["total_days"] == 2.5


LOGIC = """\
formdef: 1
key: logic
version: 1
title: Logic
choices:
  level: [{value: low, label: Low, weight: 1}, {value: high, label: High, weight: 3}]
sections:
  - key: main
    title: Main
    fields:
      - {key: level, type: select, choices: level}
      - {key: started, type: date, default: {expr: "today()"}}
      - {key: reviewer, type: text, readonly: true, default: nobody}
      - key: reason
        type: text
        visible_if: "level == 'high'"
        required_if: "weight >= 3"
      - {key: weight, type: computed, expr: "choice_attr('level', level, 'weight')"}
      - {key: count, type: integer, validate: [{expr: "value % 2 == 0", message: 必须是偶数}]}
  - key: extra
    title: Extra
    visible_if: "state == 'review'"
    fields:
      - {key: remark, type: text, required: true}
"""


def test_defaults_readonly_state_and_validate_rules(ctx):
    form = compile_yaml(LOGIC)
    cleaned, computed, problems = evaluate_submission(
        form, {"level": "high", "reviewer": "me", "count": 3}, ctx, previous={"reviewer": "王工"})
    assert cleaned["started"] == "2026-03-02"
    assert cleaned["reviewer"] == "王工"
    assert computed["weight"] == 3
    assert by_field(problems, "zh") == {"reason": ["此项必填"], "count": ["必须是偶数"]}
    _, _, problems = evaluate_submission(form, {"level": "low"}, ctx, state="review")
    assert by_field(problems) == {"remark": ["this field is required"]}
