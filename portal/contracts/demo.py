"""Demo contract: seed 004 (蒙山县中医医院 ↔ 南宁翱宇科技有限公司, MSZC2024-D3-00267) with the
covered systems of seed 000's 系统清单, SLA targets from seeds 000–004 and seed 000/002 quotas."""

from datetime import date
from datetime import datetime
from datetime import timedelta
from decimal import Decimal

from portal.accounts.demo import HOSPITAL
from portal.accounts.demo import VENDOR
from portal.accounts.models import Organization
from portal.calendars.service import current_calendar
from portal.contracts.models import Contract
from portal.contracts.models import CoveredSystem
from portal.contracts.models import Outage
from portal.contracts.models import PaymentInstallment
from portal.contracts.models import Quota
from portal.contracts.models import SlaTarget

# Seed 000, 附件一 客户系统清单: (分项内容, [系统名称 …]); 单位 套, 数量 1 each.
SYSTEMS_000 = (
    ("系统管理平台", ("公用支持系统", "自定义报表")),
    ("门诊诊疗服务", ("门诊预约就医", "诊区排队叫号系统（护士台分诊排队叫号）", "病人一卡通管理", "门急诊收费系统",
                "急诊管理系统（含急诊分诊、五大中心接口支持（卒中、创伤、胸痛等））", "门诊输液管理系统",
                "门诊药房管理（含中、西、成药房）",
                "实验室信息系统（原有功能升级、含检验全过程质量指标、门诊自助检验报告）", "门急诊应急系统")),
    ("住院诊疗服务", ("出入院管理系统", "住院收费管理系统", "住院药房管理")),
    ("临床信息系统", ("模版编辑器", "一体化门诊医生工作站（含门诊电子病历）", "一体化医生工作站（含住院电子病历）",
                "一体化护士工作站", "会诊管理系统", "病历归档", "报卡管理（传染病，慢病报卡、死亡证明管理、食源性报卡等）",
                "临床路径管理系统", "危急值管理（平台LIS危急值）", "抗菌药物管理", "医田园")),
    ("临床辅助系统", ("医技管理系统", "输血接口", "阳光用药监控", "病案管理系统升级")),
    ("运营管理服务", ("药库管理系统", "制剂管理系统", "用血管理系统")),
    ("自助服务系统", ("住院自助服务系统之预交款", "住院自助服务系统之住院清单及账单查询", "住院自助结算之结算管理")),
    ("互联网医院", ("微信，支付宝，APP(提拱接口)",)),
    ("接口类", ("对外预约挂号接口如省预约，市预约，微信预约等)", "电子发票接口", "自助机服务接口", "综合查询对外接口",
             "PACS对外接口", "新自助机功能接口扩展(出院小结，检验报告打印，发票打印等)", "中药代煎接口",
             "中盖结核病接口", "DRGS接口", "区域影像（云影像）接口")),
    ("2018年最多跑一次", ("看病少排队", "付费更便捷", "检查少跑腿(提供接口)", "住院更省心", "配药更方便(提供接口)",
                    "转诊更顺畅(提供接口)", "“互联网+医疗健康”服务更普及(提供接口)")),
    ("2019年最多跑一次", ("检查检验更省心(提供接口)", "健康服务一卡通(提供接口)", "用血服务不用跑(提供接口)",
                    "“互联网+”更丰富(提供接口)", "刷脸支付(提供接口)")),
    ("统一支付平台", ("接入支付通道",)),
    ("集成平台", ("总线服务ESB", "统一权限认证与单点登录", "统一元数据管理", "EMPI(病人主索引)", "消息中心", "配置管理")),
)

# Class by module (seed 002's scorecard splits response points HIS 25 / CIS 20 / other 5).
CIS_WORDS = ("电子病历", "医生工作站", "护士工作站", "实验室信息", "LIS", "PACS", "病历", "临床路径", "危急值",
             "会诊", "报卡", "抗菌药物", "模版编辑器", "医技", "输血", "用血", "病案", "阳光用药")
HIS_WORDS = ("门诊", "门急诊", "急诊", "住院", "收费", "药房", "药库", "挂号", "一卡通", "出入院", "预约", "排队叫号",
             "制剂", "结算", "预交款", "公用支持", "自定义报表")


def system_class(category, name):
    """HIS for registration/charging/pharmacy/inpatient modules, CIS for clinical ones, else other."""
    if category in ("接口类", "互联网医院", "统一支付平台", "集成平台", "2018年最多跑一次", "2019年最多跑一次"):
        return "other"
    if any(word in name for word in CIS_WORDS):
        return "CIS"
    if any(word in name for word in HIS_WORDS):
        return "HIS"
    return "other"


# (priority, kind, minutes, clock, source)
SLA_000_004 = (
    ("P1", "response", 30, "24x7", "seed 000: 紧急救援 30分钟内响应"),
    ("P1", "onsite", 180, "24x7", "seed 000/002: 3小时到达现场"),
    ("P1", "resolve", 540, "business", "seed 002: 优先级高 1个工作日内处理"),
    ("P2", "response", 60, "24x7", "seed 003: 紧急故障通知起1小时内响应"),
    ("P2", "onsite", 360, "24x7", "seed 004: 二级问题 最迟6小时内出发"),
    ("P2", "resolve", 540, "business", "seed 002: 优先级高 1个工作日内处理"),
    ("P3", "response", 120, "24x7", "seed 003: 一般故障2小时内响应"),
    ("P3", "onsite", 1620, "business", "seed 004: 三级问题 最迟3个工作日内出发"),
    ("P3", "resolve", 1620, "business", "seed 002: 优先级中 3个工作日内处理"),
    ("P4", "response", 120, "business", "seed 003: 功能维护 2小时内响应（5×8）"),
    ("P4", "onsite", 3780, "business", "seed 004: 四级问题 最迟七个工作日内出发"),
    ("P4", "resolve", 2700, "business", "seed 002: 优先级低 5个工作日内处理"),
)

# (kind, period, limit, unit, per_item_max)
QUOTAS = (
    ("custom_requirement", "year", 20, "count", 3),  # seed 000: 定制需求20个/年, 工作量在3日内
    ("emergency_rescue", "year", 4, "count", None),  # seed 000: 紧急救援4次/年
    ("secondary_modification", "year", 15, "person_days", None),  # seed 002: 5个工作日/组*3组=15
)

STAFFING = "7×24 小时电话、远程服务；上门服务 7×8 小时；指定专职工程师与项目经理（种子 004 售后服务承诺）。"
REPORTS = "每月月初提供服务月报（种子 000）；每周《售后服务线上问题反馈确认单》（种子 001）。"
INSPECTIONS = "每季度巡检不少于1次并出具季度巡检报告；超过3天的法定节假日前巡检1次；每半年现场巡检1次（种子 001）。"


def _seven_working_days_after(day):
    calendar = current_calendar()
    for _ in range(7):
        day = calendar.next_working_day(day)
    return day


def load(app):
    """Create the demo contract with systems, SLA, quotas, payments and a few outages."""
    hospital = Organization.get(Organization.name == HOSPITAL)
    vendor = Organization.get(Organization.name == VENDOR)
    contract = Contract.create(
        number="MSZC2024-D3-00267", title="蒙山县中医医院信息系统维保服务采购项目", hospital=hospital, vendor=vendor,
        start_date=date(2024, 5, 1), end_date=date(2027, 4, 30), amount=Decimal("1179000.00"),
        penalty_percent_per_day=Decimal(3), penalty_cap_percent=Decimal(10), uptime_target_percent=Decimal(98),
        staffing=STAFFING, report_obligations=REPORTS, inspection_obligations=INSPECTIONS,
        notes="单一来源采购；服务费按年平均支付（种子 004 第六条）；违约金每日3%，累计不超过10%（第九条）。",
    )
    systems = {}
    for category, names in SYSTEMS_000:
        for name in names:
            systems[name] = CoveredSystem.create(contract=contract, category=category, name=name,
                                                 system_class=system_class(category, name), unit="套", quantity=1)
    for priority, kind, minutes, clock, _source in SLA_000_004:
        SlaTarget.create(contract=contract, priority=priority, kind=kind, minutes=minutes, clock=clock)
    for kind, period, limit, unit, per_item_max in QUOTAS:
        Quota.create(contract=contract, kind=kind, period=period, limit=limit, unit=unit, per_item_max=per_item_max)
    signed = date(2024, 4, 30)
    for index, (due_from, paid) in enumerate(((signed, date(2024, 5, 10)), (date(2025, 5, 1), date(2025, 5, 12)),
                                               (date(2026, 5, 1), None))):
        PaymentInstallment.create(contract=contract, due_date=_seven_working_days_after(due_from),
                                  amount=Decimal("393000.00"), paid_date=paid,
                                  note=f"第{'一二三'[index]}年运维服务款（种子 004 第六条）")
    calendar = current_calendar()
    for name, start, hours, cause in (
        ("门急诊收费系统", datetime(2025, 3, 12, 9, 5), 2.5, "数据库锁表导致收费窗口无法结算"),
        ("一体化医生工作站（含住院电子病历）", datetime(2025, 11, 3, 14, 0), 1, "应用服务器内存耗尽，重启后恢复"),
        ("电子发票接口", datetime(2026, 2, 10, 8, 40), 6, "财政电子票据平台证书过期"),
        ("实验室信息系统（原有功能升级、含检验全过程质量指标、门诊自助检验报告）", datetime(2026, 6, 18, 16, 20), 0.75,
         "检验仪器接口服务中断"),
    ):
        started = start.replace(tzinfo=calendar.tz)
        Outage.create(system=systems[name], started_at=started, ended_at=started + timedelta(hours=hours), cause=cause)
    return []
