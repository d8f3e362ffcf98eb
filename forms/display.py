"""Showing stored values: choice labels, users, systems, files — for the view, print and export."""

from forms.errors import text
from forms.models import StoredFile

FILE_TYPES = ("file", "image", "signature")


class Lookups:
    """Names of users and covered systems referred to by submissions (loaded in one query each)."""

    def __init__(self, user_ids=(), system_ids=()):
        from portal.accounts.models import User
        from portal.contracts.models import CoveredSystem

        self.users = {u.id: u.display_name or u.username
                      for u in User.select().where(User.id << list(user_ids))} if user_ids else {}
        self.systems = {s.id: s.name for s in CoveredSystem.select().where(
            CoveredSystem.id << list(system_ids))} if system_ids else {}


def referenced_ids(compiled, data_list):
    """Collect user and system ids used by *data_list* (submissions' data of *compiled*)."""
    users, systems = set(), set()
    specs = []
    for section in compiled["sections"]:
        if section["type"] != "checklist":
            specs += [(section, spec) for spec in section["fields"]]
    for data in data_list:
        for section, spec in specs:
            rows = (data.get(section["key"]) or []) if section["type"] == "repeat" else [data]
            for row in rows:
                value = row.get(spec["key"]) if isinstance(row, dict) else None
                if isinstance(value, int) and not isinstance(value, bool):
                    if spec["type"] == "user":
                        users.add(value)
                    elif spec["type"] == "system":
                        systems.add(value)
    return users, systems


def choice_label(compiled, name, value, locale):
    for choice in compiled["choices"].get(name or "", []):
        if choice["value"] == value:
            return text(choice["label"], locale)
    return "" if value is None else str(value)


def show(compiled, spec, value, lookups, locale):
    """Plain text for one stored value."""
    if value is None or value == "" or value == []:
        return ""
    kind = spec["type"]
    if kind in ("select", "radio") or (kind == "rating" and spec.get("choices")):
        return choice_label(compiled, spec.get("choices"), value, locale)
    if kind == "multiselect":
        return "、".join(choice_label(compiled, spec.get("choices"), v, locale) for v in value)
    if kind == "boolean":
        return "是" if value else "否" if locale.startswith("zh") else ("yes" if value else "no")
    if kind == "user":
        return lookups.users.get(value, f"#{value}")
    if kind == "system":
        return lookups.systems.get(value, f"#{value}")
    if kind in FILE_TYPES:
        refs = value if isinstance(value, list) else [value]
        return "; ".join(ref.get("name", "") for ref in refs if isinstance(ref, dict))
    unit = spec.get("unit")
    return f"{value} {unit}" if unit and not isinstance(value, (list, dict)) else (
        value if isinstance(value, str) else str(value))


def refs(value):
    """The stored-file references in a file/image/signature value."""
    if not value:
        return []
    return [ref for ref in (value if isinstance(value, list) else [value]) if isinstance(ref, dict)]


def signature_files(compiled, data):
    """[(label, StoredFile row or None, signer text)] for the signature fields of a submission."""
    out = []
    for section in compiled["sections"]:
        if section["type"] != "fields":
            continue
        for spec in section["fields"]:
            if spec["type"] == "signature":
                ref = data.get(spec["key"])
                row = StoredFile.get_or_none(StoredFile.name == ref["id"]) if isinstance(
                    ref, dict) else None
                out.append((spec, row))
    return out
