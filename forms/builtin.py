"""The built-in form types shipped as YAML in forms/definitions/."""

from pathlib import Path

from forms.schema import compile_yaml

DEFINITIONS = Path(__file__).with_name("definitions")


def builtin_definition_paths():
    """Return the built-in definition files, sorted by name."""
    return sorted(DEFINITIONS.glob("*.yaml"))


def compile_builtin_definitions(env=None):
    """Compile every built-in definition; return {key: compiled}."""
    compiled = {}
    for path in builtin_definition_paths():
        definition = compile_yaml(path.read_bytes(), env)
        compiled[definition["key"]] = definition
    return compiled
