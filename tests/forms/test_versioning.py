import pytest

from forms.errors import FormError
from forms.schema import compile_yaml
from forms.versioning import apply_migrations
from forms.versioning import compare
from forms.versioning import uncovered_changes

V1 = """\
formdef: 1
key: visit
version: 1
title: Visit
choices:
  kind: [fault, upgrade, training]
sections:
  - key: main
    title: Main
    fields:
      - {key: kind, type: select, choices: kind, required: true, label: Kind}
      - {key: hours, type: text, label: Hours}
      - {key: remark, type: text}
  - key: tasks
    type: repeat
    title: Tasks
    fields:
      - {key: task, type: text, required: true}
"""


def compiled(source):
    return compile_yaml(source)


def test_label_hint_logic_and_new_optional_fields_are_compatible():
    v2 = V1.replace("version: 1", "version: 2")
    v2 = v2.replace("label: Kind", "label: {zh: 类型, en: Kind}")
    v2 = v2.replace("[fault, upgrade, training]", "[fault, upgrade, training, data]")
    v2 = v2.replace("{key: remark, type: text}",
                    "{key: remark, type: text, visible_if: \"kind == 'fault'\"}\n"
                    "      - {key: extra, type: text}\n"
                    "      - {key: cond, type: text, required_if: 'True'}")
    assert compare(compiled(V1), compiled(v2)) == (True, [])


def test_breaking_changes_are_listed():
    v2 = V1.replace("version: 1", "version: 2")
    v2 = v2.replace("[fault, upgrade, training]", "[fault, upgrade]")
    v2 = v2.replace("{key: hours, type: text, label: Hours}", "{key: hours, type: decimal}")
    v2 = v2.replace("{key: remark, type: text}", "{key: comment, type: text}\n"
                    "      - {key: signer, type: text, required: true}")
    v2 = v2.replace("{key: task, type: text, required: true}",
                    "{key: task, type: text, required: true}\n"
                    "      - {key: days, type: decimal, required: true}")
    compatible, breaking = compare(compiled(V1), compiled(v2))
    assert not compatible
    assert {(c["kind"], c["path"]) for c in breaking} == {
        ("choice_removed", "kind"), ("type_changed", "hours"), ("removed", "remark"),
        ("required_added", "signer"), ("required_added", "tasks[].days")}
    assert next(c for c in breaking if c["kind"] == "choice_removed")["values"] == ["training"]


V2_MIGRATED = V1.replace("version: 1", "version: 2").replace(
    "[fault, upgrade, training]", "[fault, upgrade, guidance]").replace(
    "{key: hours, type: text, label: Hours}", "{key: hours, type: decimal}").replace(
    "{key: remark, type: text}", "{key: note, type: text}") + """\
migrations:
  from: 1
  rename: {remark: note}
  map_values: {kind: {training: guidance}}
  transform: {hours: "coalesce(value, '0') == '0' and 0 or 1.5"}
  drop: [legacy]
"""


def test_migrations_cover_breaking_changes_and_apply():
    old, new = compiled(V1), compiled(V2_MIGRATED)
    assert not compare(old, new)[0]
    assert uncovered_changes(old, new) == []
    data = {"kind": "training", "hours": "2h", "remark": "ok", "legacy": 1,
            "tasks": [{"task": "x"}]}
    migrated = apply_migrations(data, new["migrations"])
    assert migrated == {"kind": "guidance", "hours": 1.5, "note": "ok", "tasks": [{"task": "x"}]}
    assert data["remark"] == "ok"


def test_migrations_must_start_from_the_old_version():
    new = compiled(V2_MIGRATED.replace("version: 2", "version: 3").replace("from: 1", "from: 2"))
    assert {c["path"] for c in uncovered_changes(compiled(V1), new)} == {"kind", "hours", "remark"}
    no_block = compiled(V2_MIGRATED.split("migrations:")[0])
    assert len(uncovered_changes(compiled(V1), no_block)) == 3


def test_migration_block_is_validated():
    bad = V2_MIGRATED.replace("rename: {remark: note}", "rename: {remark: nowhere}").replace(
        "from: 1", "from: 5").replace("1.5\"", "__import__('os')\"")
    with pytest.raises(FormError) as info:
        compiled(bad)
    fields = {d.field for d in info.value.details}
    assert fields == {"migrations.from", "migrations.rename.remark", "migrations.transform.hours"}


def test_row_paths_in_migrations():
    data = {"tasks": [{"task": "a", "state": "1"}, {"task": "b", "state": "2"}]}
    migrated = apply_migrations(data, {"rename": {"tasks[].task": "tasks[].title"},
                                       "map_values": {"tasks[].state": {"1": "open"}},
                                       "drop": ["tasks[].state"]})
    assert migrated == {"tasks": [{"title": "a"}, {"title": "b"}]}
