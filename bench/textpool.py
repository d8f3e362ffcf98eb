"""Phrase pools for generated tickets, drawn from the seed contracts, the demo problems and the
starter knowledge-base articles, so titles and descriptions read like real HIS problems and
search terms (挂号, 医保, 发票, LIS …) occur with realistic frequencies."""

import re
from pathlib import Path

from portal.contracts.demo import SYSTEMS_000
from portal.tickets.demo import DEPARTMENTS
from portal.tickets.demo import PROBLEMS

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT.parent / "shared" / "seeds"
ARTICLES = ROOT / "knowledge_base" / "articles"

SYMPTOMS = (
    "无法登录", "打印空白", "提示超时", "数据不一致", "界面卡死", "报错“对象引用未设置到对象的实例”", "结算失败",
    "查询很慢", "无法保存", "提示无权限", "数据未上传", "闪退", "提示数据库连接失败", "打印错位", "金额不对",
    "重复记账", "无法退费", "接口返回错误", "号源不显示", "报告无法查看", "条码扫描不识别", "医嘱无法提交",
    "库存未扣减", "发票无法开具", "病历无法归档", "叫号屏黑屏", "读卡失败", "导出报表为空", "审核后状态未变",
)
EXTRA_DEPARTMENTS = ("心内科", "骨科", "儿科", "妇产科", "眼科", "口腔科", "康复科", "中医科", "体检中心", "信息科",
                     "护理部", "医务科", "病案室", "设备科", "收费处", "出入院处", "门诊药房", "住院药房", "手术室")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高梁郑覃韦莫蒙农陆"
TITLES_OF_PERSON = ("医生", "护士", "收费员", "药师", "主任", "护士长", "技师", "老师")
COUNTIES = ("蒙山", "平南", "桂平", "藤县", "岑溪", "苍梧", "昭平", "钟山", "富川", "贺州", "容县", "北流", "陆川",
            "博白", "兴业", "灵山", "浦北", "钦州", "合浦", "东兴", "上思", "宁明", "龙州", "大新", "天等", "凭祥",
            "扶绥", "武鸣", "宾阳", "横州", "马山", "上林", "隆安", "都安", "大化", "巴马", "凤山", "东兰", "天峨",
            "南丹", "环江", "罗城", "宜州", "忻城", "象州", "武宣", "金秀", "鹿寨", "融安", "三江")
HOSPITAL_KINDS = ("县人民医院", "县中医医院")


def hospital_names(count):
    names = [f"{county}{kind}" for kind in HOSPITAL_KINDS for county in COUNTIES]
    while len(names) < count:
        names.append(f"第{len(names) + 1}人民医院")
    return names[:count]


def seed_system_names():
    """System names from seed 000's list (via the contracts demo) plus seed 001's table rows."""
    names = [name for _category, items in SYSTEMS_000 for name in items]
    for path in sorted(SEEDS.glob("001_*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if 4 <= len(line) <= 24 and line.endswith("系统") and line not in names:
                names.append(line)
    return names


def short_system(name):
    return re.split(r"[（(]", name, maxsplit=1)[0]


def kb_sentences():
    """Titles and plain sentences of the starter articles (front matter and Markdown marks dropped)."""
    titles, sentences = [], []
    for path in sorted(ARTICLES.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        match = re.search(r"^title:\s*(.+)$", text, re.MULTILINE)
        if match:
            titles.append(match.group(1).strip())
        body = text.split("---", 2)[-1]
        body = re.sub(r"[#|*`>\-\[\]]", " ", body)
        for sentence in re.split(r"[。；\n]", body):
            sentence = " ".join(sentence.split())
            if 8 <= len(sentence) <= 60 and re.search(r"[\u4e00-\u9fff]", sentence):
                sentences.append(sentence + "。")
    return titles, sentences


def seed_sentences():
    sentences = []
    for path in sorted(SEEDS.glob("*.txt")):
        for sentence in re.split(r"[。；\n]", path.read_text(encoding="utf-8")):
            sentence = " ".join(sentence.split())
            if 12 <= len(sentence) <= 60 and ("系统" in sentence or "故障" in sentence) and "bookmark" not in sentence:
                sentences.append(sentence + "。")
    return sentences


class Pools:
    def __init__(self):
        self.systems = [short_system(name) for name in seed_system_names()]
        self.kb_titles, self.kb_sentences = kb_sentences()
        self.seed_sentences = seed_sentences()
        self.problems = PROBLEMS
        self.departments = tuple(DEPARTMENTS) + EXTRA_DEPARTMENTS

    def title(self, rng, system):
        roll = rng.random()
        if roll < 0.3:
            return rng.choice(self.problems)[3]
        if roll < 0.45 and self.kb_titles:
            return rng.choice(self.kb_titles)[:200]
        if roll < 0.8:
            return f"{rng.choice(self.departments)}{system}{rng.choice(SYMPTOMS)}"
        return f"{system}：{rng.choice(SYMPTOMS)}（{rng.choice(self.departments)}{rng.randint(1, 30)}号机）"

    def description(self, rng, department, person, phone):
        parts = [f"{department}{person}反映：", rng.choice(self.problems)[4]]
        if self.kb_sentences:
            parts.append(rng.choice(self.kb_sentences))
        if self.seed_sentences and rng.random() < 0.3:
            parts.append(rng.choice(self.seed_sentences))
        parts.append(f"联系电话{phone}。")
        return "".join(parts)

    def person(self, rng):
        return rng.choice(SURNAMES) + rng.choice(TITLES_OF_PERSON)

    def resolution(self, rng):
        return rng.choice(self.problems)[5]

    def root_cause(self, rng):
        causes = [p[6] for p in self.problems if p[6]]
        return rng.choice(causes)
