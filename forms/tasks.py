"""Queue tasks of the forms engine (registered in forms.plugin)."""

import datetime
import logging

from forms import files
from forms.models import StoredFile
from portal.accounts.models import utcnow
from portal.db import db

log = logging.getLogger(__name__)

ORPHAN_GRACE = datetime.timedelta(hours=24)


def purge_orphan_files(now=None):
    """Delete uploads never attached to a submission (a refused form's files) after a day."""
    cutoff = (now or utcnow()) - ORPHAN_GRACE
    removed = 0
    for row in StoredFile.select().where(StoredFile.submission.is_null()
                                         & (StoredFile.uploaded_at < cutoff)).limit(1000):
        with db.atomic():
            row.delete_instance()
        files.file_path(row).unlink(missing_ok=True)
        removed += 1
    if removed:
        log.info("forms: removed %d unattached uploads", removed)
    return removed
