"""Imported articles are recognised by their slug, not their file's name (education/importing.py): an article that
was imported under the old rule (its source a bare file name such as "cupping.md") gets "slug:<its slug>", so that
importing the same export again updates it instead of adding a second copy."""

from django.db import migrations

OLD_SUFFIXES = (".md", ".markdown", ".html", ".htm", ".txt")


def sources_by_slug(apps, schema_editor):
    article_model = apps.get_model("education", "Article")
    taken = set(article_model.objects.values_list("source", flat=True))
    for article in article_model.objects.exclude(source=""):
        source = article.source
        if "/" in source or ":" in source or not source.lower().endswith(OLD_SUFFIXES):
            continue  # a canonical address or a source the file named: unchanged
        new = f"slug:{article.slug}"
        if new not in taken:
            article_model.objects.filter(pk=article.pk).update(source=new)
            taken.add(new)


class Migration(migrations.Migration):
    dependencies = [("education", "0002_manager_edits_the_library")]

    operations = [migrations.RunPython(sources_by_slug, migrations.RunPython.noop)]
