from django.db import migrations, models


def move_credentials_out_of_urls(apps, schema_editor):
    """Sources saved before this kept tokens and passwords in ``url``: seal them into ``credentials``."""
    from apps.sources.credentials import credentials_seal, url_credentials_split

    Source = apps.get_model("sources", "Source")
    for source in Source.objects.filter(url__contains="@"):
        url, userinfo = url_credentials_split(source.url)
        if userinfo:
            Source.objects.filter(pk=source.pk).update(url=url, credentials=credentials_seal(userinfo))


class Migration(migrations.Migration):
    dependencies = [
        ("sources", "0003_crawl_run_skips_attempts_not_modified"),
    ]

    operations = [
        migrations.AddField(
            model_name="source",
            name="credentials",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.RunPython(move_credentials_out_of_urls, migrations.RunPython.noop),
    ]
