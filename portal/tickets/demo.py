"""Demo tickets on the seed-004 contract: a few hundred realistic problems over the past months,
driven through the real workflow (numbering, deadlines, pauses, authorizations, data changes,
ratings), so every timeline is consistent and some tickets are breached, paused or open."""

import random
from datetime import datetime
from datetime import timedelta

from portal.accounts.models import User
from portal.accounts.models import utcnow
from portal.contracts.models import Contract
from portal.contracts.models import CoveredSystem
from portal.tickets import deadlines
from portal.tickets import service

COUNT = 320
DAYS = 150
# (system keyword, category, priority, title, description, resolution, root cause)
PROBLEMS = (
    ("挂号", "fault", "P2", "门诊挂号窗口无法挂号，提示“号源已锁定”", "早上8点开诊后3个挂号窗口都提示号源已锁定，病人排队较多。",
     "清理异常挂起的号源锁定记录，重启挂号服务；指导窗口重新挂号。", "自助机挂号超时未释放锁，已调整超时释放参数为5分钟。"),
    ("收费", "fault", "P2", "门急诊收费系统结算时卡死", "收费室2号窗口点“结算”后界面无响应，需强制关闭。",
     "排查为数据库会话阻塞，终止阻塞会话后恢复；更新收费客户端补丁。", "夜间报表作业与日间结算争用锁，已将报表作业调到凌晨2点。"),
    ("收费", "data_correction", "P3", "病人费用重复记账需冲销", "住院号2024xxxx病人检验费重复记账两次，需冲销一笔。",
     "经信息科授权后冲销重复费用，核对病人费用明细与医保上传数据一致。", ""),
    ("收费", "fault", "P3", "电子发票开具失败", "门诊收费后电子发票未生成，提示“开票平台返回错误”。",
     "重新推送失败的开票记录，检查电子发票接口证书有效期。", ""),
    ("药房", "fault", "P3", "门诊药房发药后库存未扣减", "西药房发药后药品库存数量未变化。",
     "修正发药存储过程的库存扣减条件，补扣当天发药库存。", ""),
    ("药房", "data_correction", "P3", "药品批号录入错误需修改", "药库入库时某批次阿莫西林批号录错，已发药。",
     "授权后修改入库单及库存批号，核对出库记录。", ""),
    ("药库", "report", "P4", "药库需要新增月度盘点差异报表", "药剂科希望每月导出盘点差异，按药品分类汇总。",
     "新增自定义报表“月度盘点差异表”，已发布到药剂科。", ""),
    ("实验室", "interface", "P2", "LIS检验结果未回传医生站", "检验科审核后的血常规结果在住院医生站查不到。",
     "重启LIS与HIS的接口服务，补传积压的检验结果212条。", "接口服务内存泄漏导致消息队列阻塞，已升级接口程序。"),
    ("实验室", "fault", "P3", "检验条码打印机打印错位", "检验科采血处条码打印错位，扫描不识别。",
     "调整条码模板边距与打印机驱动纸张设置。", ""),
    ("PACS", "interface", "P3", "PACS影像报告无法在医生站查看", "放射科已出报告，医生站点“查看影像”空白。",
     "修正PACS对外接口地址配置，清理浏览器缓存。", ""),
    ("病历", "bug", "P3", "住院电子病历保存时提示超时", "护士站和医生站写病程记录保存慢，偶尔超时。",
     "优化病历索引，归档历史病历到历史库，保存时间恢复到1秒内。", ""),
    ("病历", "data_correction", "P3", "出院病人病历需解除归档修改", "病案室要求解除一份已归档病历的锁定以补签名。",
     "经信息科授权后解除归档状态，补签后重新归档。", ""),
    ("医生工作站", "consultation", "P4", "门诊医生站如何设置常用处方模板", "新来医生询问如何保存常用处方。",
     "远程指导医生设置个人处方模板，并发送操作手册。", ""),
    ("护士工作站", "fault", "P3", "护士站医嘱执行单打印空白", "内科护士站打印执行单时内容为空。",
     "重新配置执行单打印格式，更新打印控件。", ""),
    ("出入院", "fault", "P3", "出院结算后无法打印清单", "住院处病人出院结算后打印费用清单报错。",
     "修复清单打印报表的数据源，重新打印。", ""),
    ("预交款", "fault", "P3", "自助机预交款到账延迟", "病人在自助机缴纳预交款后住院账户未及时到账。",
     "核对支付平台对账记录，手工补记到账并修复回调地址。", ""),
    ("公用支持", "fault", "P1", "全院HIS无法登录", "早上7:50全院所有工作站登录HIS提示无法连接数据库。",
     "数据库服务器归档日志空间满，清理并扩容后恢复，全院8:40恢复使用。", "归档日志未配置自动清理，已增加空间监控和每日清理作业。"),
    ("结算", "interface", "P2", "医保结算失败提示“交易超时”", "门诊医保病人结算时多次提示交易超时。",
     "协调医保前置机网络，重启前置服务，处理单边账3笔。", "医保专线丢包，已联系运营商更换光模块。"),
    ("结算", "data_correction", "P2", "医保单边账数据处理", "医保中心已扣费但HIS未结算成功，产生单边账。",
     "授权后按医保中心对账结果补记HIS结算数据，与医保办核对无误。", "网络中断时结算回滚不完整，已升级医保接口版本。"),
    ("预约", "interface", "P3", "微信预约号源与窗口不一致", "微信公众号显示有号，窗口挂号提示无号。",
     "重新同步号源，修正预约接口的号源缓存时间。", ""),
    ("自定义报表", "report", "P4", "财务科需修改门诊收入日报表格式", "希望日报按科室和收费项目分两级汇总。",
     "修改报表格式并增加科室小计，财务科确认。", ""),
    ("危急值", "bug", "P2", "危急值提醒未弹出", "检验危急值发布后，病区护士站未收到提醒。",
     "修复消息中心订阅配置，补发未提醒的危急值并通知科室。", "升级后消息中心订阅丢失，已加入升级检查清单。"),
    ("临床路径", "requirement", "P4", "新增中医科临床路径", "中医科需要新增“项痹病”临床路径。",
     "按科室提供的路径表单配置临床路径并培训。", ""),
    ("排队叫号", "fault", "P3", "诊区叫号屏不显示", "二楼内科诊区叫号屏黑屏。",
     "重启叫号屏客户端，调整开机自启动。", ""),
    ("一卡通", "fault", "P3", "就诊卡读卡失败", "收费窗口读卡器读取就诊卡提示无效卡。",
     "更换读卡器驱动版本，重新注册读卡控件。", ""),
    ("用血", "consultation", "P4", "用血申请单审批流程咨询", "输血科询问用血申请三级审批的设置方法。",
     "电话讲解审批参数设置，远程演示。", ""),
)
HOSPITAL_USERS = ("mzb", "yjk")
DEPARTMENTS = ("门诊部", "住院部", "药剂科", "检验科", "放射科", "财务科", "医保办", "急诊科")
COMMENTS = ("已电话联系科室，正在远程排查。", "请科室提供报错截图。", "已复现问题，正在处理。", "科室反馈已恢复正常。")


def _system(systems, keyword):
    for system in systems:
        if keyword in system.name:
            return system
    return None


def load(app):
    contract = Contract.select().order_by(Contract.id).first()
    users = {user.username: user for user in User.select()}
    if contract is None or "gcs" not in users:
        return []
    systems = list(CoveredSystem.select().where(CoveredSystem.contract == contract))
    rng = random.Random(20240501)
    now = utcnow()
    engineers = [users[name] for name in ("gcs", "gcs2") if name in users]
    for index in range(COUNT):
        age = timedelta(days=DAYS) * (1 - index / COUNT) + timedelta(minutes=rng.randint(0, 600))
        reported_at = now - age
        _one(rng, contract, systems, users, engineers, reported_at, now)
    deadlines.sweep(now)
    return []


def _one(rng, contract, systems, users, engineers, reported_at, now):
    keyword, category, priority, title, description, resolution, root_cause = rng.choice(PROBLEMS)
    system = _system(systems, keyword)
    reporter = users.get(rng.choice(HOSPITAL_USERS)) or users["xxk"]
    engineer = rng.choice(engineers)
    by_phone = rng.random() < 0.4
    data = {"contract_id": contract.id, "title": title, "description": description, "category": category,
            "priority": priority, "channel": "phone" if by_phone else "portal", "system_id": system.id if system else None,
            "reported_at": reported_at, "reporter_phone": f"0774-28{rng.randint(10000, 99999)}"}
    if by_phone:
        data.update(reporter_name=rng.choice(("覃医生", "黄护士", "莫收费员", "李药师", "韦主任")),
                    reporter_department=rng.choice(DEPARTMENTS))
        ticket = service.create_checked(data, engineer, [], now=reported_at)
    else:
        ticket = service.create_checked(data, reporter, [], now=reported_at)
    clock = reported_at
    late = rng.random() < 0.12  # some tickets breach their promises

    def step(action, minutes, actor, **fields):
        nonlocal clock
        clock = clock + timedelta(minutes=minutes)
        if clock >= now:
            raise StopIteration
        service.transition(ticket.id, action, {"at": clock, **fields}, actor, now=now)

    response = rng.randint(5, 40) if not late else rng.randint(150, 400)
    work = rng.randint(30, 600) if not late else rng.randint(3000, 9000)
    try:
        step("accept", response, engineer)
        if category == "data_correction":
            step("request_authorization", rng.randint(10, 60), engineer, comment="数据修改需经信息科授权，请审批。")
            if rng.random() < 0.1:
                return
            step("authorize", rng.randint(20, 600), users["xxk"], comment="同意修改，请做好修改前备份。")
            clock += timedelta(minutes=rng.randint(5, 30))
            if clock < now:
                service.record_data_change(ticket.id, {
                    "script": f"UPDATE 病人费用记录 SET 记录状态 = 2 WHERE ID = {rng.randint(100000, 999999)};",
                    "affected_rows": rng.randint(1, 5), "before_summary": "记录状态=1（重复记账）",
                    "after_summary": "记录状态=2（已冲销）"}, engineer, now=clock)
        else:
            step("start", rng.randint(1, 30), engineer)
            if rng.random() < 0.15:
                step("wait_customer", rng.randint(10, 120), engineer, comment=COMMENTS[1])
                if rng.random() < 0.1:
                    return
                step("resume", rng.randint(30, 1500), engineer, comment=COMMENTS[3])
        if rng.random() < 0.08:
            return  # still being worked on
        step("resolve", work, engineer, resolution=resolution, root_cause=root_cause or None)
        roll = rng.random()
        if roll < 0.55:
            step("confirm", rng.randint(30, 2000), users["xxk"] if ticket.reporter_id is None else reporter,
                 satisfaction=rng.choice((5, 5, 5, 4, 4, 3)), comment="已恢复，谢谢。")
        elif roll < 0.6:
            step("reopen", rng.randint(60, 600), users["xxk"], comment="问题再次出现。")
        elif roll < 0.8:
            step("close", rng.randint(2880, 8000), users["xxk"], comment="已电话回访确认。")
    except StopIteration:
        return
