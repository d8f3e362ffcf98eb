"""Knowledge-base search benchmark: N generated articles, index build time, query latency.

    python bench/kb_search.py [--articles 100000] [--queries 300] [--backends sqlite,postgres]

Articles are generated from the starter articles' own vocabulary (a word-bigram chain over their
segmented text, so the word frequencies look like real HIS maintenance writing), bulk-inserted,
then indexed through knowledge_base.search (segmentation with the real tokenizer in worker
processes, then ``write_index_rows`` and ``optimize_index``). Searches go through
``search.search_hits`` as a hospital reporter (public + published only, the visibility rule
inside the query) and as a vendor engineer, and include building the snippets.
Results: a table on stdout and bench/results/kb_search.json.
"""

import argparse
import json
import os
import pickle
import random
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEED = 20260930
BATCH = 1000


# --- text generation ---------------------------------------------------------------------------


def load_vocabulary():
    """Word bigrams, titles and tags from the starter articles."""
    from knowledge_base import segment
    from knowledge_base.files import parse_article_file
    from knowledge_base.render import render_plain

    tokenizer = segment._get_tokenizer()
    sentences, titles, tags, systems, categories = [], [], [], [], []
    for path in sorted((ROOT / "knowledge_base" / "articles").glob("*.md")):
        meta, body = parse_article_file(path.read_text(encoding="utf-8"))
        titles.append([w for w in tokenizer.cut(meta["title"]) if w.strip()])
        tags.extend(meta["tags"])
        systems.extend(meta["systems"])
        categories.append(meta["category"])
        for line in render_plain(body).splitlines():
            words = [w for w in tokenizer.cut(line) if w.strip()]
            if len(words) > 2:
                sentences.append(words)
    following = {}
    for words in sentences:
        for left, right in zip(["<s>"] + words, words + ["</s>"]):
            following.setdefault(left, []).append(right)
    return {"following": following, "titles": titles, "tags": sorted(set(tags)),
            "systems": sorted(set(systems)), "categories": sorted(set(categories)),
            "words": sorted({w for s in sentences for w in s if len(w) > 1})}


def sentence(vocab, rng, max_words=40):
    words, word = [], "<s>"
    for _ in range(max_words):
        word = rng.choice(vocab["following"][word])
        if word == "</s>":
            break
        words.append(word)
    return "".join(w if not w[:1].isascii() else f" {w} " for w in words).strip()


def generate(count, vocab, seed=SEED):
    """Yield article dicts: title, body (plain text), category, tags, systems, visibility, status."""
    rng = random.Random(seed)
    for index in range(count):
        base = rng.choice(vocab["titles"])
        extra = rng.sample(vocab["words"], 2)
        title = "".join(base[: rng.randint(2, len(base))]) + "".join(extra) + f" {index}"
        paragraphs = []
        length = 0
        target = rng.randint(150, 400)
        while length < target:
            text = sentence(vocab, rng)
            paragraphs.append(text)
            length += len(text)
        roll = rng.random()
        yield {
            "title": title[:200],
            "body": "\n".join(paragraphs),
            "category": rng.choice(vocab["categories"]),
            "tags": rng.sample(vocab["tags"], 3),
            "systems": rng.sample(vocab["systems"], 1),
            "visibility": "internal" if roll < 0.10 else "public",
            "status": "draft" if 0.10 <= roll < 0.15 else "published",
        }


def _segment(item):
    from knowledge_base.search import searchable_text

    return searchable_text(item["title"], item["body"], item["category"], item["tags"], item["systems"])


def segment_all(items, workers):
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_segment, items, chunksize=500))


def make_queries(vocab, count, seed=SEED):
    sys.path.insert(0, str(ROOT))
    from tests.knowledge_base.search_cases import SEARCH_CASES

    rng = random.Random(seed + 1)
    queries = [query for query, _slug in SEARCH_CASES]
    words = vocab["words"]
    while len(queries) < count:
        kind = rng.random()
        if kind < 0.35:
            queries.append(rng.choice(words))
        elif kind < 0.75:
            queries.append("".join(rng.sample(words, 2)))
        elif kind < 0.9:
            queries.append(sentence(vocab, rng, max_words=8))  # a ticket title typed by a reporter
        else:
            queries.append(rng.choice(["HIS", "LIS", "PACS", "HL7", "printer", "Spooler", "ORA-12541", "量子纠缠"]))
    return queries[:count]


# --- one backend -------------------------------------------------------------------------------


def run_backend(name, url, items, index_strings, queries, instance):
    os.environ["WEIBAO_INSTANCE_PATH"] = instance
    from portal import create_app
    from portal.accounts.models import Organization
    from portal.accounts.models import User
    from portal.db import db
    from portal.migrations import upgrade

    from knowledge_base import search
    from knowledge_base.models import Article
    from knowledge_base.models import ArticleSystem

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "QUEUE_IMMEDIATE": True, "TESTING": True})
    result = {"backend": name, "articles": len(items)}
    with app.app_context():
        db.connect(reuse_if_open=True)
        upgrade([plugin for _, plugin in app.extensions["weibao"].registry("plugin").items()])
        hospital = Organization.create(name="bench hospital", kind="hospital")
        vendor = Organization.create(name="bench vendor", kind="vendor")
        reporter = User.create(username="bench-reporter", role="reporter", organization=hospital, password_hash="x")
        engineer = User.create(username="bench-engineer", role="engineer", organization=vendor, password_hash="x")

        started = time.perf_counter()
        with db.atomic():
            for offset in range(0, len(items), BATCH):
                chunk = items[offset: offset + BATCH]
                Article.insert_many([{
                    "id": offset + i + 1, "slug": f"bench-{offset + i + 1}", "title": item["title"],
                    "body_md": item["body"], "plain_text": item["body"], "category": item["category"],
                    "tags": json.dumps(item["tags"], ensure_ascii=False), "visibility": item["visibility"],
                    "status": item["status"], "revision": 1,
                } for i, item in enumerate(chunk)]).execute()
                ArticleSystem.insert_many([
                    {"article": offset + i + 1, "name": name_}
                    for i, item in enumerate(chunk) for name_ in item["systems"]
                ]).execute()
        if name == "postgres":
            db.execute_sql("SELECT setval(pg_get_serial_sequence('kb_article', 'id'), (SELECT max(id) FROM kb_article))")
        result["insert_seconds"] = round(time.perf_counter() - started, 2)

        started = time.perf_counter()
        with db.atomic():
            search.clear_index()
            for offset in range(0, len(items), 500):
                search.write_index_rows(
                    [(offset + i + 1, *strings) for i, strings in enumerate(index_strings[offset: offset + 500])],
                    replace=False,
                )
        result["index_write_seconds"] = round(time.perf_counter() - started, 2)
        started = time.perf_counter()
        search.optimize_index()
        result["optimize_seconds"] = round(time.perf_counter() - started, 2)

        for user in (reporter, engineer):
            for query in queries[:10]:  # warm the caches
                search.search_hits(query, user, 10)
        for label, user in (("reporter", reporter), ("engineer", engineer)):
            timings, empty = [], 0
            for query in queries:
                started = time.perf_counter()
                hits = search.search_hits(query, user, 10)
                timings.append((time.perf_counter() - started) * 1000)
                empty += not hits
            timings.sort()
            result[label] = {
                "queries": len(timings),
                "median_ms": round(statistics.median(timings), 2),
                "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 2),
                "max_ms": round(timings[-1], 2),
                "no_result": empty,
            }
        db.close()
    return result


def postgres_schema_url(base):
    from playhouse.db_url import connect as connect_url

    schema = "bench_kb_" + uuid.uuid4().hex[:8]
    admin = connect_url(base)
    admin.execute_sql(f"CREATE SCHEMA {schema}")
    admin.close()
    separator = "&" if "?" in base else "?"
    return schema, f"{base}{separator}options=-csearch_path%3D{schema}"


def drop_schema(base, schema):
    from playhouse.db_url import connect as connect_url

    admin = connect_url(base)
    admin.execute_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--pg-url", default=os.environ.get("WEIBAO_BENCH_DATABASE_URL",
                                                           "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--output", default=str(ROOT / "bench" / "results" / "kb_search.json"))
    parser.add_argument("--keep-sqlite", default=None, help="Keep the SQLite database at this path.")
    parser.add_argument("--cache", default=None,
                        help="Pickle of the generated and segmented articles: reused when present, else written.")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    vocab = load_vocabulary()
    cached = None
    if args.cache and os.path.exists(args.cache):
        with open(args.cache, "rb") as handle:
            cached = pickle.load(handle)
        if cached["articles"] != args.articles:
            cached = None
    if cached:
        items, index_strings = cached["items"], cached["index_strings"]
        generate_seconds, segment_seconds = cached["generate_seconds"], cached["segment_seconds"]
    else:
        items = list(generate(args.articles, vocab))
        generate_seconds = round(time.perf_counter() - started, 2)
        started = time.perf_counter()
        index_strings = segment_all(items, args.workers)
        segment_seconds = round(time.perf_counter() - started, 2)
        if args.cache:
            with open(args.cache, "wb") as handle:
                pickle.dump({"articles": args.articles, "items": items, "index_strings": index_strings,
                             "generate_seconds": generate_seconds, "segment_seconds": segment_seconds}, handle)
    queries = make_queries(vocab, args.queries)
    chars = sum(len(item["title"]) + len(item["body"]) for item in items)
    print(f"generated {len(items)} articles ({chars / 1e6:.1f} M characters) in {generate_seconds}s; "
          f"segmented with {args.workers} worker(s) in {segment_seconds}s", flush=True)

    results = []
    with tempfile.TemporaryDirectory(prefix="weibao-bench-kb-") as folder:
        for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
            if backend == "sqlite":
                path = os.path.abspath(args.keep_sqlite) if args.keep_sqlite else f"{folder}/kb.db"
                results.append(run_backend("sqlite", f"sqlite:///{path}", items, index_strings, queries,
                                           os.path.join(folder, "instance-sqlite")))
            elif backend == "postgres":
                schema, url = postgres_schema_url(args.pg_url)
                try:
                    results.append(run_backend("postgres", url, items, index_strings, queries,
                                               os.path.join(folder, "instance-pg")))
                finally:
                    from portal.db import db

                    if not db.is_closed():
                        db.close()
                    drop_schema(args.pg_url, schema)
            print(f"{backend}: done", flush=True)

    for result in results:
        result["segment_seconds"] = segment_seconds
        result["index_build_seconds"] = round(segment_seconds + result["index_write_seconds"]
                                              + result["optimize_seconds"], 2)
    header = f"{'backend':<10}{'articles':>9}{'insert s':>10}{'index s':>9}{'user':>10}{'median ms':>11}{'p95 ms':>9}{'max ms':>9}{'empty':>7}"
    print(header)
    print("-" * len(header))
    for result in results:
        for label in ("reporter", "engineer"):
            row = result[label]
            print(f"{result['backend']:<10}{result['articles']:>9}{result['insert_seconds']:>10}"
                  f"{result['index_build_seconds']:>9}{label:>10}{row['median_ms']:>11}{row['p95_ms']:>9}"
                  f"{row['max_ms']:>9}{row['no_result']:>7}")
    print("index s = segmentation (shared by both backends) + index writes + optimize/ANALYZE")
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({
        "articles": args.articles, "queries": len(queries), "workers": args.workers, "characters": chars,
        "generate_seconds": generate_seconds, "segment_seconds": segment_seconds, "results": results,
    }, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"written {output}")


if __name__ == "__main__":
    main()
