"""Demo organisations, departments and one user per role, from seed 004 (蒙山县中医医院 / 南宁翱宇科技)."""

from portal.accounts.models import Department
from portal.accounts.models import Organization
from portal.accounts.models import User
from portal.accounts.passwords import hash_password

HOSPITAL = "蒙山县中医医院"
VENDOR = "南宁翱宇科技有限公司"
DEMO_PASSWORD = "weibao-demo-2026"
DEPARTMENTS = ("信息科", "门诊部", "住院部", "药剂科", "检验科", "放射科", "财务科", "医保办", "护理部", "急诊科")

# username, display name, role, organisation, department
DEMO_USERS = (
    ("admin", "系统管理员", "admin", VENDOR, None),
    ("xxk", "黄主任（信息科）", "hospital_it", HOSPITAL, "信息科"),
    ("mzb", "李护士长（门诊部）", "reporter", HOSPITAL, "门诊部"),
    ("yjk", "韦药师（药剂科）", "reporter", HOSPITAL, "药剂科"),
    ("gcs", "覃工程师", "engineer", VENDOR, None),
    ("gcs2", "莫工程师", "engineer", VENDOR, None),
    ("xmjl", "陆项目经理", "manager", VENDOR, None),
)


def load(app):
    """Create the demo organisations, departments and users; return the log-ins to print."""
    hospital = Organization.create(name=HOSPITAL, kind="hospital")
    vendor = Organization.create(name=VENDOR, kind="vendor")
    departments = {name: Department.create(organization=hospital, name=name) for name in DEPARTMENTS}
    orgs = {HOSPITAL: hospital, VENDOR: vendor}
    password_hash = hash_password(DEMO_PASSWORD)
    for username, display_name, role, org, department in DEMO_USERS:
        User.create(
            username=username, display_name=display_name, role=role, organization=orgs[org],
            department=departments.get(department), password_hash=password_hash,
        )
    return [(username, DEMO_PASSWORD, display_name) for username, display_name, *_ in DEMO_USERS]
