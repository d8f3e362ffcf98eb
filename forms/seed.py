"""Built-in form types (forms/definitions/*.yaml) published as version 1 on first start."""

import hashlib
import json

from forms.builtin import builtin_definition_paths
from forms.environment import default_environment


def seed_builtin_migration(database):
    """Migration: publish every built-in definition as version 1 of its type (idempotent)."""
    seed_builtin_definitions()


def seed_builtin_definitions():
    """Create each built-in form type that does not exist yet, with version 1 published."""
    from forms.models import FormType
    from forms.models import FormVersion
    from forms.schema import compile_yaml
    from portal.accounts.models import utcnow

    env = default_environment()
    created = []
    for path in builtin_definition_paths():
        source = path.read_text(encoding="utf-8")
        compiled = compile_yaml(source, env)
        if FormType.select().where(FormType.key == compiled["key"]).exists():
            continue
        now = utcnow()
        form_type = FormType.create(key=compiled["key"], created_at=now)
        FormVersion.create(form_type=form_type, version=compiled["version"], source_yaml=source,
                           compiled_json=json.dumps(compiled, ensure_ascii=False),
                           checksum=hashlib.sha256(source.encode("utf-8")).hexdigest(),
                           status="published", created_at=now, updated_at=now, published_at=now)
        created.append(compiled["key"])
    return created
