"""Admin views for organisations, departments, users and the audit log."""

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import PasswordField
from wtforms.validators import ValidationError

from portal.accounts.models import Department
from portal.accounts.models import Organization
from portal.accounts.models import User
from portal.accounts.passwords import hash_password
from portal.accounts.passwords import password_problem
from portal.admin import SecureModelView
from portal.audit import AuditLog
from portal.i18n import ROLE_LABELS

ORG_KIND_LABELS = {"hospital": _l("Hospital"), "vendor": _l("Vendor")}


class OrganizationView(SecureModelView):
    resource = "organizations"
    column_list = ("name", "kind", "created_at")
    column_searchable_list = ("name",)
    column_filters = ("kind",)
    form_columns = ("name", "kind")
    form_choices = {"kind": [(key, label) for key, label in ORG_KIND_LABELS.items()]}
    column_formatters = {"kind": lambda v, c, m, p: ORG_KIND_LABELS.get(m.kind, m.kind)}
    column_labels = {"name": _l("Name"), "kind": _l("Kind"), "created_at": _l("Created at")}


class DepartmentView(SecureModelView):
    resource = "departments"
    scope_fields = {"organization": Department.organization}
    column_list = ("organization", "name", "phone")
    column_searchable_list = ("name",)
    form_columns = ("organization", "name", "phone")
    column_labels = {"organization": _l("Organization"), "name": _l("Name"), "phone": _l("Phone")}

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        if current_user.role != "admin" and model.organization_id != current_user.organization_id:
            raise ValidationError(_l("You may only manage departments of your own organization."))


class UserView(SecureModelView):
    resource = "users"
    column_list = ("username", "display_name", "role", "organization", "department", "active", "last_login_at")
    column_searchable_list = ("username", "display_name")
    column_filters = ("role", "active")
    column_exclude_list = ("password_hash",)
    column_details_exclude_list = ("password_hash",)
    column_export_exclude_list = ("password_hash",)
    form_columns = ("username", "display_name", "role", "organization", "department", "phone", "email", "active", "locale", "new_password")
    form_extra_fields = {"new_password": PasswordField(_l("New password"))}
    form_choices = {
        "role": [(key, label) for key, label in ROLE_LABELS.items()],
        "locale": [("", _l("Default")), ("zh_CN", "简体中文"), ("en", "English")],
    }
    column_formatters = {"role": lambda v, c, m, p: ROLE_LABELS.get(m.role, m.role)}
    column_labels = {
        "username": _l("Username"), "display_name": _l("Display name"), "role": _l("Role"),
        "organization": _l("Organization"), "department": _l("Department"), "phone": _l("Phone"),
        "email": _l("E-mail"), "active": _l("Active"), "locale": _l("Language"),
        "last_login_at": _l("Last log-in"),
    }

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        password = form.new_password.data
        if is_created and not password:
            raise ValidationError(_l("A new user needs a password."))
        if password:
            if password_problem(password):
                raise ValidationError(_l("The password must have 8 to 256 characters."))
            model.password_hash = hash_password(password)
            model.session_version = (model.session_version or 0) + 1
        if model.department_id and model.department.organization_id != model.organization_id:
            raise ValidationError(_l("The department belongs to another organization."))


class AuditLogView(SecureModelView):
    resource = "audit"
    scope_fields = {"organization": AuditLog.organization}
    can_view_details = True
    column_list = ("at", "username", "organization", "ip", "action", "object_type", "object_id", "summary")
    column_searchable_list = ("username", "action", "object_type")
    column_filters = ("action", "object_type", "username")
    column_default_sort = ("at", True)
    column_labels = {
        "at": _l("Time"), "username": _l("User"), "organization": _l("Organization"), "ip": _l("IP address"),
        "action": _l("Action"), "object_type": _l("Object type"), "object_id": _l("Object id"),
        "summary": _l("Summary"), "changes": _l("Changes"),
    }


def admin_views():
    """Return the factories of this package's admin views, in menu order."""
    category = _l("Accounts")
    return [
        ("organizations", lambda: OrganizationView(Organization, name=_l("Organizations"), category=category, endpoint="organizations")),
        ("departments", lambda: DepartmentView(Department, name=_l("Departments"), category=category, endpoint="departments")),
        ("users", lambda: UserView(User, name=_l("Users"), category=category, endpoint="users")),
        ("audit", lambda: AuditLogView(AuditLog, name=_l("Audit log"), category=category, endpoint="audit")),
    ]
