"""Who may do what: one table of resources, and organisation scoping for every read.

The table is the registry of resources: each built-in or plugin declares
``ctx.add_resource(name, {"view": ROLES, "create": {...}, ...})``. Admin views and API
endpoints name their resource and action; tests are generated from the same table.
"""

from types import SimpleNamespace

from peewee import Expression

ALL_ROLES = frozenset({"admin", "hospital_it", "reporter", "engineer", "manager"})
VENDOR_ROLES = frozenset({"engineer", "manager"})
ACTIONS = ("view", "create", "edit", "delete", "export")


def rules(read_only=False, **actions):
    """Build a resource's rules: action -> frozenset of roles.

    Admin may do every action, except on a read-only resource (the audit trail), where nobody
    creates, edits or deletes.
    """
    table = {action: frozenset(roles) | {"admin"} for action, roles in actions.items()}
    for action in ACTIONS:
        table.setdefault(action, frozenset({"admin"}))
    if read_only:
        table.update(create=frozenset(), edit=frozenset(), delete=frozenset())
    return table


def acting_role(user):
    """*user*'s role, or None for nobody, an anonymous visitor or a deactivated account: all that
    ``allowed`` reads of a user."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return None
    return user.role


def allowed(user, resource_rules, action):
    """Tell whether *user* may perform *action* under *resource_rules*."""
    role = acting_role(user)
    return role is not None and role in resource_rules.get(action, frozenset({"admin"}))


def scope(query, user, hospital=None, vendor=None, organization=None):
    """Restrict *query* to the rows *user*'s organisation may see.

    ``hospital``/``vendor`` are the model's fields naming the hospital and the vendor
    (a vendor serves several hospitals); ``organization`` is a field naming an owner
    organisation of either kind. Admins see everything.

    A hospital field only ever names a hospital and a vendor field a vendor, so only the
    condition matching the user's organisation kind can hold. Writing just that one keeps
    the query on one index range: ``hospital = x OR vendor = x`` made SQLite collect and sort
    every visible row (2.6 s instead of 0.1 ms for a page at 100k tickets, bench/README.md).
    """
    if user.role == "admin":
        return query
    org_id = user.organization_id
    kind = user.organization.kind
    conditions = []
    if organization is not None:
        conditions.append(organization == org_id)
    if hospital is not None and kind == "hospital":
        conditions.append(hospital == org_id)
    if vendor is not None and kind == "vendor":
        conditions.append(vendor == org_id)
    if not conditions:
        # A model without an organisation link is visible only to admins.
        return query.where(Expression(1, "=", 0))
    condition = conditions[0]
    for extra in conditions[1:]:
        condition = condition | extra
    return query.where(condition)


def scope_viewer(user):
    """(shape, values) of ``scope`` for *user*, for a prepared query (portal/prepared.py): what
    decides the SQL (the role, the organisation's kind) and the id it compares."""
    if user.role == "admin":
        return ("admin",), {}
    return (user.role, user.organization.kind), {"viewer_org": user.organization_id}


class Viewer:
    """What ``scope`` and ``tickets.service.visible`` read of a user, rebuilt from a viewer's shape
    and (stand-in) values inside a prepared query's build."""

    def __init__(self, shape, values):
        self.role = shape[0]
        self.organization = SimpleNamespace(kind=shape[1] if len(shape) > 1 else None)
        self.organization_id = values.get("viewer_org")
        self.id = values.get("viewer_id")
        self.department_id = values.get("viewer_department")
