"""Rebuild the per-author HNSW indexes in half precision (search/author_indexes.py says why).

Until an author's index is rebuilt, searches limited to that author go through the shared index: the
old full-precision author indexes are no longer used. Outside a transaction, so that the indexes are
built CONCURRENTLY while the service keeps writing.
"""

from django.db import migrations


def rebuild(apps, schema_editor):
    from apps.documents.search.author_indexes import chunk_author_indexes_sync

    chunk_author_indexes_sync()


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("documents", "0003_chunk_author")]
    operations = [migrations.RunPython(rebuild, migrations.RunPython.noop)]
