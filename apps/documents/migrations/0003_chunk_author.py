from django.db import migrations, models

TRIGGERS = """
CREATE FUNCTION documents_chunk_copy_author() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT author_id INTO NEW.author_id FROM documents_document WHERE id = NEW.document_id;
    RETURN NEW;
END $$;
CREATE TRIGGER documents_chunk_copy_author BEFORE INSERT OR UPDATE OF document_id, author_id ON documents_chunk
    FOR EACH ROW EXECUTE FUNCTION documents_chunk_copy_author();

CREATE FUNCTION documents_document_author_to_chunks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE documents_chunk SET author_id = NEW.author_id WHERE document_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER documents_document_author_to_chunks AFTER UPDATE OF author_id ON documents_document
    FOR EACH ROW WHEN (OLD.author_id IS DISTINCT FROM NEW.author_id)
    EXECUTE FUNCTION documents_document_author_to_chunks();

UPDATE documents_chunk c SET author_id = d.author_id FROM documents_document d WHERE d.id = c.document_id;
"""

DROP_TRIGGERS = """
DROP TRIGGER documents_document_author_to_chunks ON documents_document;
DROP FUNCTION documents_document_author_to_chunks();
DROP TRIGGER documents_chunk_copy_author ON documents_chunk;
DROP FUNCTION documents_chunk_copy_author();
"""


class Migration(migrations.Migration):
    dependencies = [("documents", "0002_document_fetch_validators")]

    operations = [
        migrations.AddField(
            model_name="chunk", name="author_id", field=models.BigIntegerField(editable=False, null=True)
        ),
        migrations.AddIndex(model_name="chunk", index=models.Index(fields=["author_id"], name="chunk_author")),
        migrations.RunSQL(TRIGGERS, DROP_TRIGGERS),
    ]
