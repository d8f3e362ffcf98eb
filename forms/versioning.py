"""Compare published versions and migrate stored data across breaking changes.

Compatible: label, hint, logic and validation changes, new optional fields, new choices.
Breaking: a removed (or renamed) field, a changed type, a removed choice or checklist row, a new
required field. A breaking version needs `migrations` with `from` = the old version that covers
each change: rename/drop for removals, map_values for removed choices, transform otherwise.
"""

import copy

from forms.errors import msg
from forms.expressions import EvalContext
from forms.expressions import evaluate


def field_index(compiled):
    """Map each stored data path ("kind", "tasks", "tasks[].days") to what versioning compares."""
    choices = compiled.get("choices", {})

    def values(name):
        return {c["value"] for c in choices.get(name, [])} if name else None

    index = {}
    for section in compiled["sections"]:
        kind, key = section["type"], section["key"]
        if kind == "checklist":
            index[key] = {"type": "checklist", "choices": values(section["choices"]),
                          "rows": {row["key"] for row in section["rows"]},
                          "required": section["required"]}
            continue
        if kind == "repeat":
            index[key] = {"type": "repeat", "choices": None, "required": section["min"] > 0}
        for field in section["fields"]:
            if field["type"] in ("note", "computed"):
                continue
            index[field["path"]] = {"type": field["type"], "choices": values(field.get("choices")),
                                    "required": field["required"] and not field.get("required_if")}
    return index


def _change(kind, path, zh, en, **extra):
    return {"kind": kind, "path": path, "message": msg(zh, en, path=path), **extra}


def compare(old, new):
    """Return (compatible, breaking_changes) between two compiled versions."""
    before, after = field_index(old), field_index(new)
    breaking = []
    for path, was in before.items():
        now = after.get(path)
        if now is None:
            breaking.append(_change("removed", path, "字段 {path} 被删除或改名",
                                    "field {path} was removed or renamed"))
            continue
        if now["type"] != was["type"]:
            breaking.append(_change("type_changed", path, "字段 {path} 的类型改变了",
                                    "field {path} changed its type",
                                    old=was["type"], new=now["type"]))
            continue
        gone = sorted((was["choices"] or set()) - (now["choices"] or set()), key=str)
        if gone:
            breaking.append(_change("choice_removed", path, "字段 {path} 删除了选项",
                                    "field {path} lost choices", values=gone))
        lost_rows = sorted(was.get("rows", set()) - now.get("rows", set()))
        if lost_rows:
            breaking.append(_change("row_removed", path, "检查表 {path} 删除了检查项",
                                    "checklist {path} lost rows", rows=lost_rows))
    for path, now in after.items():
        parent = path.split("[].")[0] if "[]." in path else None
        if path not in before and now["required"] and (parent is None or parent in before):
            breaking.append(_change("required_added", path, "新增了必填字段 {path}",
                                    "new required field {path}"))
    return not breaking, breaking


def uncovered_changes(old, new):
    """Return the breaking changes from *old* to *new* that its migrations block does not cover."""
    compatible, breaking = compare(old, new)
    if compatible:
        return []
    block = new.get("migrations") or {}
    if block.get("from") != old["version"]:
        return breaking
    renamed, dropped = set(block.get("rename", {})), set(block.get("drop", []))
    renamed_to = set(block.get("rename", {}).values())
    transformed, mapped = set(block.get("transform", {})), block.get("map_values", {})
    left = []
    for change in breaking:
        path, kind = change["path"], change["kind"]
        covered = (
            kind == "removed" and path in renamed | dropped
            or kind == "choice_removed" and set(change["values"]) <= set(mapped.get(path, {}))
            or kind == "required_added" and path in renamed_to
            or path in transformed
        )
        if not covered:
            left.append(change)
    return left


def _targets(data, path):
    """Yield (holder dict, key) for a path "key" or "section[].key" in *data*."""
    if "[]." in path:
        section, key = path.split("[].", 1)
        for row in data.get(section) or []:
            if isinstance(row, dict):
                yield row, key
    else:
        yield data, path


def _map_value(value, mapping):
    if isinstance(value, list):
        return [_map_value(item, mapping) for item in value]
    if isinstance(value, dict):
        return {key: _map_value(item, mapping) for key, item in value.items()}
    return mapping.get(str(value), value)


def apply_migrations(data, migrations, ctx=None):
    """Return a migrated copy of *data*: rename, then map_values, transform and drop."""
    data = copy.deepcopy(data)
    if not migrations:
        return data
    ctx = ctx or EvalContext()
    for old, new in migrations.get("rename", {}).items():
        new_key = new.split("[].")[-1]
        for holder, key in _targets(data, old):
            if key in holder:
                holder[new_key] = holder.pop(key)
    for path, mapping in migrations.get("map_values", {}).items():
        mapping = {str(k): v for k, v in mapping.items()}
        for holder, key in _targets(data, path):
            if key in holder:
                holder[key] = _map_value(holder[key], mapping)
    for path, expr in migrations.get("transform", {}).items():
        for holder, key in _targets(data, path):
            scope = {**data, "form": data, "value": holder.get(key)}
            if holder is not data:
                scope["row"] = holder
            holder[key] = evaluate(expr, scope, ctx)
    for path in migrations.get("drop", []):
        for holder, key in _targets(data, path):
            holder.pop(key, None)
    return data
