import json
import textwrap

import pytest

from forms.builtin import builtin_definition_paths
from forms.environment import default_environment
from forms.errors import FormError
from forms.schema import compile_yaml
from tests.forms.conftest import detail_fields

MINIMAL = """\
formdef: 1
key: demo
version: 1
title: {zh: 演示, en: Demo}
choices:
  kind: [a, b]
sections:
  - key: main
    title: Main
    fields:
      - {key: kind, type: select, choices: kind, required: true}
      - {key: note, type: text}
"""


def refused(source, env=None):
    with pytest.raises(FormError) as info:
        compile_yaml(textwrap.dedent(source), env)
    return detail_fields(info.value)


def test_every_builtin_definition_compiles_to_json(builtins):
    assert {path.stem for path in builtin_definition_paths()} == set(builtins) == {
        "requirement_assessment", "quarterly_inspection", "pre_holiday_inspection",
        "onsite_service_sheet", "satisfaction_survey", "emergency_drill_record"}
    for compiled in builtins.values():
        assert json.loads(json.dumps(compiled)) == compiled


def test_compiled_shape_of_the_requirement_assessment(builtins):
    compiled = builtins["requirement_assessment"]
    assert compiled["computed_order"] == ["total_days", "free", "quota_item"]
    assert compiled["computed"][0]["expr"] == {"source": "sum(tasks, 'person_days')",
                                               "deps": ["tasks"]}
    tasks = compiled["sections"][1]
    assert tasks["type"] == "repeat" and (tasks["min"], tasks["max"]) == (1, 40)
    assert tasks["fields"][1]["path"] == "tasks[].person_days"
    partner = compiled["sections"][0]["fields"][2]
    assert partner["visible_if"] == {"source": "kind == 'interface'", "deps": ["kind"]}
    assert compiled["choices"]["kind"][2] == {"value": "interface",
                                              "label": {"zh": "接口", "en": "Interface"}}
    assert compiled["actions"][0]["run"] == "quota.consume"


def test_minimal_definition_compiles_with_defaults():
    compiled = compile_yaml(MINIMAL)
    assert compiled["workflow"]["initial"] == "submitted"
    assert compiled["settings"]["allow_draft"] is True
    assert compiled["choices"]["kind"] == [{"value": "a", "label": "a"},
                                           {"value": "b", "label": "b"}]


def test_all_problems_are_reported_at_once_with_locations():
    broken = MINIMAL.replace("version: 1", "version: one").replace("type: text}", "type: txet}")
    details = refused(broken.replace("choices: kind,", "choices: colour,") + "colour: red\n")
    assert set(details) == {"version", "sections[0].fields[1].type",
                            "sections[0].fields[0].choices", "colour"}
    assert details["sections[0].fields[1].type"]["line"] == 12
    assert "unknown field type 'txet'" in details["sections[0].fields[1].type"]["message"]
    assert details["colour"]["line"] == 13
    assert "unknown top-level key" in details["colour"]["message"]
    assert "unknown choice list 'colour'" in details["sections[0].fields[0].choices"]["message"]


@pytest.mark.parametrize("items", ["abc", "[]", "{a: b}", "7"])
def test_a_choice_list_that_is_not_a_non_empty_list_is_refused_with_its_location(items):
    details = refused(MINIMAL.replace("kind: [a, b]", f"kind: {items}"))
    assert "a choice list must be a non-empty list" in details["choices.kind"]["message"]
    assert details["choices.kind"]["line"] == 6


def test_a_bad_choice_list_name_is_reported_once_whatever_its_items():
    details = refused(MINIMAL.replace("kind: [a, b]", "kind: [a, b]\n  Bad-Name: 5"))
    assert "'Bad-Name' is not a valid key" in details["choices.Bad-Name"]["message"]
    assert "non-empty list" not in details["choices.Bad-Name"]["message"]


def test_unknown_field_keys_and_duplicate_fields_are_refused():
    details = refused(MINIMAL.replace("{key: note, type: text}",
                                      "{key: kind, type: text, min: 3, bogus: 1}"))
    assert "duplicate field key 'kind'" in details["sections[0].fields[1].key"]["message"]
    assert "'min' is not allowed" in details["sections[0].fields[1].min"]["message"]
    assert details["sections[0].fields[1].bogus"]["column"] > 1


def test_expressions_refer_to_known_fields_and_functions():
    details = refused(MINIMAL.replace("{key: note, type: text}", """{key: note, type: text,
                visible_if: "missing == 1", required_if: "__import__('os')",
                readonly_if: "sum(kind) > nope(1)"}"""))
    assert "unknown field missing" in details["sections[0].fields[1].visible_if"]["message"]
    assert "'_'" in details["sections[0].fields[1].required_if"]["message"]
    assert "unknown function nope()" in details["sections[0].fields[1].readonly_if"]["message"]


@pytest.mark.parametrize("value", ["[1, 2]", "{a: 1}", "true", "3"])
def test_expressions_must_be_strings(value):
    details = refused(MINIMAL.replace("{key: note, type: text}",
                                      f"{{key: note, type: text, visible_if: {value}}}"))
    assert "must be a string" in details["sections[0].fields[1].visible_if"]["message"]


def test_computed_cycles_are_named():
    details = refused(MINIMAL + textwrap.dedent("""\
        computed:
          - {key: a, expr: "b + 1"}
          - {key: b, expr: "c + 1"}
          - {key: c, expr: "a + 1"}
          - {key: d, expr: "a + 1"}
        """))
    (field,) = [f for f in details if f.startswith("computed")]
    assert "a → b → c → a" in details[field]["message"]
    assert details[field]["line"] is not None


def test_row_computed_fields_may_not_form_cycles():
    details = refused(MINIMAL + """\
  - key: rows
    type: repeat
    title: Rows
    fields:
      - {key: p, type: computed, expr: "row.q"}
      - {key: q, type: computed, expr: "row.p"}
      - {key: r, type: computed, expr: "row.p + form.kind_score"}
computed:
  - {key: kind_score, expr: "1"}
""")
    assert "p → q → p" in details["sections[1].fields"]["message"]
    assert details["sections[1].fields"]["line"] == 16


def test_workflow_sanity():
    details = refused(MINIMAL + textwrap.dedent("""\
        workflow:
          initial: start
          states: {draft: {}, done: {final: true}}
          transitions:
            - {action: go, from: draft, to: nowhere, roles: [engineer]}
            - {action: back, from: done, to: draft, roles: [janitor]}
            - {action: go, from: draft, to: done, roles: [admin], condition: "kind == 'a'"}
        actions:
          - {on: "transition:fly", run: quota.consume}
          - {on: submit, run: rm.rf}
        """))
    assert "initial state 'start'" in details["workflow.initial"]["message"]
    assert "unknown state 'nowhere'" in details["workflow.transitions[0].to"]["message"]
    assert "final state 'done'" in details["workflow.transitions[1].from"]["message"]
    assert "roles must be" in details["workflow.transitions[1].roles"]["message"]
    assert "duplicate transition 'go'" in details["workflow.transitions[2]"]["message"]
    assert "transition:fly" in details["actions[0].on"]["message"]
    assert "unknown action 'rm.rf'" in details["actions[1].run"]["message"]


def test_actions_are_checked_against_the_given_names():
    source = MINIMAL + "actions:\n  - {on: submit, run: notify}\n"
    assert compile_yaml(source)["actions"][0]["run"] == "notify"
    assert "unknown action 'notify'" in refused(source, default_environment(actions=()))[
        "actions[0].run"]["message"]


@pytest.mark.parametrize("template", ["XJ-{year}", "{seq}{seq}", "{seq.__class__}", "{os}-{seq}",
                                      "{seq!r}", "{seq:>1000}", "XJ-{seq", 42])
def test_numbering_templates_are_checked(template):
    source = MINIMAL + f"numbering: {template!r}\n".replace("'", '"') if isinstance(template, str) \
        else MINIMAL + f"numbering: {template}\n"
    assert "numbering" in refused(source)


def test_section_and_checklist_problems():
    details = refused(MINIMAL + """\
  - key: checks
    type: checklist
    title: Checks
    choices: nope
    rows: [{key: a, label: A}, {key: a, label: A2}]
  - {key: rep, type: repeat, title: R, min: 5, max: 2, fields: []}
  - {key: odd, type: grid, title: G}
""")
    assert "unknown choice list 'nope'" in details["sections[1].choices"]["message"]
    assert "duplicate row key 'a'" in details["sections[1].rows[1].key"]["message"]
    assert "max must not be less than min" in details["sections[2].max"]["message"]
    assert "non-empty" in details["sections[2].fields"]["message"]
    assert "unknown section type 'grid'" in details["sections[3].type"]["message"]


def test_reserved_and_malformed_keys_are_refused():
    details = refused(MINIMAL.replace("key: note", "key: row").replace("key: demo", "key: Demo!"))
    assert "reserved" in details["sections[0].fields[1].key"]["message"]
    assert "not a valid key" in details["key"]["message"]


def test_defaults_are_cleaned_by_their_type():
    details = refused(MINIMAL.replace("{key: note, type: text}",
                                      "{key: n, type: integer, default: 'many'}"))
    assert "must be a number" in details["sections[0].fields[1].default"]["message"]


def test_not_a_mapping_and_yaml_errors_pass_through():
    assert refused("- just\n- a list\n")[""]["message"].startswith("the definition must be")
    with pytest.raises(FormError) as info:
        compile_yaml("key: [unclosed\n")
    assert info.value.code == "invalid_yaml"
