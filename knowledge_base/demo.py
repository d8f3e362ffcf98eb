"""Demo rows: the starter articles, loaded through the same importer as ``weibao import-kb``."""

from knowledge_base import transfer


def load(app):
    report = transfer.import_directory(transfer.builtin_articles_dir())
    if report.refused:
        raise RuntimeError(f"starter articles refused: {report.refused}")
    return []
