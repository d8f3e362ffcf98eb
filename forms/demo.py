"""Demo submissions: one of each built-in form type on the seed-004 contract (MSZC2024-D3-00267).

Skipped quietly when the contract or the demo users are not there (contracts not loaded).
Everything goes through forms.service, so the demo rows pass the same server checks as real ones.
"""

import datetime
import logging

from forms import files
from forms.models import FormType
from forms.seed import seed_builtin_definitions
from forms.service import ServiceError
from forms.service import create_submission
from forms.service import transition

log = logging.getLogger(__name__)

CONTRACT_NUMBER = "MSZC2024-D3-00267"


def _signature(user, seed):
    # Signatures are captured on the pad of the person filling in the form (the engineer's
    # tablet), so the stored file belongs to them even when the hospital signs.
    return files.store_bytes(files.tiny_png(seed=seed), "signature.png", user,
                             files.SIGNATURE_MAX_BYTES, ("image/png",), is_signature=True).ref()


def _data(today, engineer, hospital_it):
    last_quarter_day = today - datetime.timedelta(days=3)
    holiday = today + datetime.timedelta(days=10)
    return {
        "requirement_assessment": {
            "title": "门诊医生站增加过敏史弹窗提示", "kind": "change", "reason": "department",
            "department": "门诊部",
            "description": "开具含青霉素类药品处方时，若患者有过敏史登记，弹窗提示并要求医生确认。",
            "wanted_by": (today + datetime.timedelta(days=30)).isoformat(),
            "tasks": [{"task": "处方保存前过敏史校验", "person_days": 1.5},
                      {"task": "弹窗与确认日志", "person_days": 1}],
        },
        "quarterly_inspection": {
            "inspection_date": last_quarter_day.isoformat(), "mode": "onsite",
            "engineer": engineer.id,
            "client_checks": {k: "pass" for k in ("client_version", "peripherals", "core_functions",
                                                  "client_logs")},
            "app_checks": {k: "pass" for k in ("services", "app_logs", "middleware", "interfaces",
                                               "time_sync")},
            "app_cpu_percent": 35, "app_memory_percent": 62.5, "app_disk_free_gb": 180,
            "db_checks": {k: "pass" for k in ("instance", "tablespace", "backup_jobs",
                                              "slow_queries", "alert_log", "archive_migration")},
            "db_cpu_percent": 41, "db_disk_free_gb": 420, "tablespace_used_percent": 71,
            "last_backup_date": (last_quarter_day - datetime.timedelta(days=1)).isoformat(),
            "backup_verified": True, "summary": "本季度各项检查正常。",
            "engineer_signature": _signature(engineer, 1), "hospital_signer": "黄主任",
            "hospital_signature": _signature(engineer, 2),
        },
        "pre_holiday_inspection": {
            "holiday": "national_day", "holiday_start": holiday.isoformat(), "holiday_days": 7,
            "inspection_date": today.isoformat(), "mode": "onsite",
            "checks": {k: "pass" for k in ("server_resources", "database_backup", "interfaces",
                                           "certificates", "emergency_plan")},
            "duty": [{"duty_date": holiday.isoformat(), "engineer_name": "覃工程师",
                      "phone": "13800000001"},
                     {"duty_date": (holiday + datetime.timedelta(days=1)).isoformat(),
                      "engineer_name": "莫工程师", "phone": "13800000002"}],
            "engineer_signature": _signature(engineer, 3),
        },
        "onsite_service_sheet": {
            "service_type": "fault", "arrival_time": f"{today.isoformat()}T09:10:00+08:00",
            "leave_time": f"{today.isoformat()}T11:40:00+08:00", "engineer": engineer.id,
            "work_done": "住院收费系统打印发票卡顿，清理打印队列并更新打印驱动，已恢复。",
            "resolved": True, "customer_name": "黄主任", "customer_department": "信息科",
            "satisfaction": 5, "customer_signature": _signature(engineer, 4),
        },
        "satisfaction_survey": {
            "year": today.year, "quarter": (today.month - 1) // 3 + 1, "department": "信息科",
            "response_speed": "very_satisfied", "resolution_quality": "satisfied",
            "attitude": "very_satisfied", "onsite_engineer": "satisfied",
            "communication": "satisfied", "overall": "satisfied", "replace_engineer": False,
        },
        "emergency_drill_record": {
            "drill_name": "HIS 数据库主备切换演练", "scenario": "failover",
            "drill_date": (today - datetime.timedelta(days=7)).isoformat(),
            "start_time": "20:00", "end_time": "21:30", "rto_minutes": 30,
            "participants": [{"name": "黄主任", "drill_role": "commander", "department": "信息科"},
                             {"name": "覃工程师", "drill_role": "engineer"}],
            "steps": [{"step": "停止主库服务", "expected": "备库自动接管", "actual": "备库 2 分钟内接管",
                       "passed": True},
                      {"step": "门诊收费业务验证", "expected": "业务可用", "actual": "业务可用",
                       "passed": True}],
            "recovery_minutes": 18, "data_loss": False, "issues": "切换脚本需补充日志。",
            "engineer_signature": _signature(engineer, 5),
            "hospital_signature": _signature(engineer, 6),
        },
    }


# form key -> (who fills it in, transitions to perform afterwards)
PLAN = {
    "requirement_assessment": ("engineer", ("submit",)),
    "quarterly_inspection": ("engineer", ("submit",)),
    "pre_holiday_inspection": ("engineer", ()),
    "onsite_service_sheet": ("engineer", ()),
    "satisfaction_survey": ("hospital_it", ()),
    "emergency_drill_record": ("engineer", ("archive",)),
}


def load(app):
    """Create the demo submissions; return no log-ins."""
    from portal.accounts.models import User
    from portal.contracts.models import Contract

    seed_builtin_definitions()
    contract = Contract.get_or_none(Contract.number == CONTRACT_NUMBER)
    engineer = User.get_or_none((User.role == "engineer") & (User.username == "gcs"))
    hospital_it = User.get_or_none((User.role == "hospital_it") & (User.username == "xxk"))
    if contract is None or engineer is None or hospital_it is None:
        log.info("forms demo skipped: contract %s or demo users missing", CONTRACT_NUMBER)
        return []
    from portal.calendars.service import current_calendar

    today = datetime.datetime.now(current_calendar().tz).date()
    users = {"engineer": engineer, "hospital_it": hospital_it}
    for key, data in _data(today, engineer, hospital_it).items():
        form_type = FormType.get_or_none(FormType.key == key)
        if form_type is None:
            continue
        who, steps = PLAN[key]
        try:
            submission = create_submission(form_type, data, users[who], contract_id=contract.id)
            for action in steps:
                submission = transition(submission, action, "", users[who])
        except ServiceError as error:  # a demo row that fails its own form is a bug: say so
            log.warning("forms demo: %s refused: %s %s", key, error,
                        [(p.field, p.message.get("en")) for p in error.problems])
    return []
