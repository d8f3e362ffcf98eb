"""Forms engine benchmark: compile a 300-field definition and validate a 300-field submission.

Run: /work/venv/bin/python bench/forms_bench.py [--compile-runs N] [--validate-runs N]
Prints a table (median and p95 in milliseconds) and writes bench/results/forms.json.
Pure engine only (no database, no HTTP): forms.schema.compile_yaml and
forms.evaluate.evaluate_submission, the two steps every save and every submit pay for.
"""

import argparse
import datetime
import json
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from forms.environment import default_environment  # noqa: E402
from forms.evaluate import evaluate_submission  # noqa: E402
from forms.expressions import EvalContext  # noqa: E402
from forms.loader import load_yaml  # noqa: E402
from forms.schema import compile_definition  # noqa: E402
from forms.schema import compile_yaml  # noqa: E402

PLAIN_FIELDS = 230  # + 20 row fields + 40 checklist rows + 10 computed = 300
ROW_FIELDS = 20
CHECK_ROWS = 40
COMPUTED = 10
ROWS = 10
KINDS = ("text", "integer", "decimal", "select", "date", "boolean", "textarea", "radio")


def _field(index, in_row=False):
    kind = KINDS[index % len(KINDS)]
    key = f"r{index:03d}" if in_row else f"f{index:03d}"
    line = f"      - {{key: {key}, type: {kind}, label: {{zh: 字段{index}, en: Field {index}}}"
    if kind in ("select", "radio"):
        line += ", choices: level"
    if kind in ("integer", "decimal"):
        line += ", min: 0, max: 100000"
    if kind == "text":
        line += ", max_length: 200"
    if not in_row and index % 10 == 1 and index > 8:
        number = (index // 8) * 8 + 1  # an integer field before this one
        number = number - 8 if number >= index else number
        line += f", required_if: \"f{number:03d} > 10\""
    if not in_row and index % 10 == 2 and index > 8:
        line += f", visible_if: \"f{index - 6:03d} != 'c'\""
    if not in_row and kind == "integer":
        line += ", validate: [{expr: \"value % 2 == 0 or value > 50\", message: 偶数}]"
    return line + "}"


def definition():
    lines = ["formdef: 1", "key: bench_form", "version: 1", "title: {zh: 基准, en: Bench}",
             "attach_to: none", "numbering: \"BM-{year}-{seq:05}\"", "choices:", "  level:"]
    lines += [f"    - {{value: {v}, label: {v.upper()}, score: {i}}}" for i, v in enumerate("abcde")]
    lines += ["sections:"]
    per_section = 46
    for s in range(PLAIN_FIELDS // per_section):
        lines += [f"  - key: s{s}", f"    title: 节{s}", "    fields:"]
        lines += [_field(i) for i in range(s * per_section, (s + 1) * per_section)]
    lines += ["  - key: items", "    type: repeat", "    title: 明细", "    min: 1", "    max: 50",
              "    fields:"]
    lines += [_field(i, in_row=True) for i in range(ROW_FIELDS)]
    lines += ["  - key: checks", "    type: checklist", "    title: 检查", "    choices: level",
              "    required: true", "    rows:"]
    lines += [f"      - {{key: c{i:02d}, label: 检查项{i}}}" for i in range(CHECK_ROWS)]
    lines += ["computed:"]
    integers = [i for i in range(PLAIN_FIELDS) if KINDS[i % len(KINDS)] == "integer"]
    for c in range(COMPUTED):
        a, b = integers[c], integers[c + 1]
        expr = f"f{a:03d} + f{b:03d}" if c == 0 else f"c{c - 1} + f{a:03d} * 2"
        lines.append(f"  - {{key: c{c}, expr: \"{expr}\"}}")
    lines.append("  - {key: row_total, expr: \"sum(items, 'r001')\"}")
    lines.append("  - {key: score, expr: \"score_sum()\"}")
    lines.append("  - {key: fails, expr: \"count_value(checks, 'a')\"}")
    lines += ["validations:", "  - {expr: \"c9 >= 0\", field: c9, message: 非负}"]
    return "\n".join(lines) + "\n"


def _value(kind, index):
    return {"text": f"文本{index}", "integer": 12 + 2 * index, "decimal": 3.5 + index,
            "select": "b", "radio": "c", "date": "2026-03-02", "boolean": True,
            "textarea": "多行\n文本"}[kind]


def submission():
    data = {f"f{i:03d}": _value(KINDS[i % len(KINDS)], i) for i in range(PLAIN_FIELDS)}
    data["items"] = [{f"r{i:03d}": _value(KINDS[i % len(KINDS)], i) for i in range(ROW_FIELDS)}
                     for _ in range(ROWS)]
    data["checks"] = {f"c{i:02d}": "bcde"[i % 4] for i in range(CHECK_ROWS)}
    return data


def _timed(function, runs, warmup=3):
    for _ in range(warmup):
        function()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {"runs": runs, "median_ms": round(statistics.median(samples), 3),
            "p95_ms": round(samples[max(0, int(round(0.95 * runs)) - 1)], 3),
            "min_ms": round(samples[0], 3), "max_ms": round(samples[-1], 3)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compile-runs", type=int, default=50)
    parser.add_argument("--validate-runs", type=int, default=200)
    parser.add_argument("--output", default=str(ROOT / "bench" / "results" / "forms.json"))
    args = parser.parse_args(argv)

    source = definition()
    env = default_environment()
    compiled = compile_yaml(source, env)
    data = submission()
    ctx = EvalContext(today=datetime.date(2026, 3, 2), functions=env.functions)
    cleaned, computed, problems = evaluate_submission(compiled, data, ctx,
                                                      field_types=env.field_types)
    counted = sum(len(s.get("fields", [])) or len(s.get("rows", [])) for s in compiled["sections"])
    counted += len(compiled["computed"]) - 3  # the three aggregate computed values are extra
    loaded = load_yaml(source)

    results = {
        "fields": counted, "definition_bytes": len(source.encode()),
        "submission_rows": ROWS, "problems_in_valid_submission": len(problems),
        "load_yaml": _timed(lambda: load_yaml(source), args.compile_runs),
        "compile_loaded": _timed(lambda: compile_definition(loaded.data, loaded.marks, env),
                                 args.compile_runs),
        "compile_yaml": _timed(lambda: compile_yaml(source, env), args.compile_runs),
        "validate_submission": _timed(
            lambda: evaluate_submission(compiled, data, ctx, field_types=env.field_types),
            args.validate_runs),
        "python": platform.python_version(), "machine": platform.machine(),
        "at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    bad = dict(data, f001="x" * 300, f003=-5)
    results["validate_invalid_submission"] = _timed(
        lambda: evaluate_submission(compiled, bad, ctx, field_types=env.field_types),
        args.validate_runs)

    print(f"forms bench: {counted} fields, {results['definition_bytes']} bytes of YAML, "
          f"{ROWS} repeat rows; valid submission problems: {len(problems)}")
    print(f"{'step':<30}{'runs':>6}{'median ms':>12}{'p95 ms':>10}{'max ms':>10}")
    for name in ("load_yaml", "compile_loaded", "compile_yaml", "validate_submission",
                 "validate_invalid_submission"):
        row = results[name]
        print(f"{name:<30}{row['runs']:>6}{row['median_ms']:>12.2f}{row['p95_ms']:>10.2f}"
              f"{row['max_ms']:>10.2f}")
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written {output}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
