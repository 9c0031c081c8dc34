"""Catalogue columns on the repository: the latest analysis's filterable columns and the open-violation count.

Filtering the catalogue on the analysis used to join ``hub_revisionanalysis`` for every row walked along a
sort index; with the columns on ``hub_repository`` a filter plus a sort is one index range. The backfill
is two set-based UPDATEs (``UPDATE ... FROM`` runs on PostgreSQL and SQLite >= 3.33), done before the
indexes are built. The column list is written out here rather than imported so the migration does not change
when the model does.
"""

from django.conf import settings
from django.db import migrations, models

COLUMNS = (
    "license_key",
    "license_class",
    "commercial_use",
    "transparency_score",
    "disclosure_level",
    "unsafe_files",
)

BACKFILL_ANALYSIS = (
    "UPDATE hub_repository SET "
    + ", ".join(f"{c} = a.{c}" for c in COLUMNS)
    + " FROM hub_revisionanalysis a WHERE a.id = hub_repository.latest_analysis_id"
)
BACKFILL_VIOLATIONS = (
    "UPDATE hub_repository SET open_violations = "
    "(SELECT COUNT(*) FROM licenses_violation v WHERE v.repository_id = hub_repository.id AND v.status = 'open') "
    "WHERE id IN (SELECT repository_id FROM licenses_violation WHERE status = 'open')"
)


def backfill(apps, schema_editor):
    schema_editor.execute(BACKFILL_ANALYSIS)
    schema_editor.execute(BACKFILL_VIOLATIONS)
    if schema_editor.connection.vendor == "postgresql":
        # A repository with an analysis and open violations is updated twice here; PostgreSQL then
        # queues its deferred foreign-key checks, and the CREATE INDEX below refused to run with
        # them pending ("pending trigger events"): every upgrade from before this migration with
        # such a repository failed. Running the checks now empties the queue.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_editor.execute("SET CONSTRAINTS ALL DEFERRED")


class Migration(migrations.Migration):
    dependencies = [
        ("hub", "0004_mirror_status_gone"),
        ("licenses", "0001_initial"),  # the open-violation backfill reads licenses_violation
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="repository",
            name="commercial_use",
            field=models.CharField(blank=True, help_text="latest analysis: commercial use", max_length=16),
        ),
        migrations.AddField(
            model_name="repository",
            name="disclosure_level",
            field=models.IntegerField(blank=True, help_text="latest analysis: disclosure 0-4", null=True),
        ),
        migrations.AddField(
            model_name="repository",
            name="license_class",
            field=models.CharField(blank=True, help_text="latest analysis: licence class", max_length=40),
        ),
        migrations.AddField(
            model_name="repository",
            name="license_key",
            field=models.CharField(blank=True, help_text="latest analysis: licence key", max_length=100),
        ),
        migrations.AddField(
            model_name="repository",
            name="open_violations",
            field=models.IntegerField(default=0, help_text="violations in status open"),
        ),
        migrations.AddField(
            model_name="repository",
            name="transparency_score",
            field=models.FloatField(blank=True, help_text="latest analysis: score 0-100", null=True),
        ),
        migrations.AddField(
            model_name="repository",
            name="unsafe_files",
            field=models.IntegerField(default=0, help_text="latest analysis: files with dangerous imports"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="repository",
            index=models.Index(
                fields=["repo_type", "license_key", "-downloads", "-id"], name="hub_repo_key_dl_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="repository",
            index=models.Index(
                fields=["repo_type", "license_class", "-downloads", "-id"], name="hub_repo_cls_dl_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="repository",
            index=models.Index(
                fields=["repo_type", "commercial_use", "-downloads", "-id"], name="hub_repo_com_dl_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="repository",
            index=models.Index(
                fields=["repo_type", "pipeline_tag", "-downloads", "-id"], name="hub_repo_task_dl_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="repository",
            index=models.Index(
                fields=["repo_type", "library_name", "-downloads", "-id"], name="hub_repo_lib_dl_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="repository",
            index=models.Index(
                condition=models.Q(("transparency_score__isnull", False)),
                fields=["repo_type", "-transparency_score", "-id"],
                name="hub_repo_score_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="repository",
            index=models.Index(
                condition=models.Q(("open_violations__gt", 0)),
                fields=["repo_type", "-downloads", "-id"],
                name="hub_repo_viol_dl_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="repository",
            index=models.Index(
                condition=models.Q(("mirrored_from", ""), _negated=True),
                fields=["repo_type", "-downloads", "-id"],
                name="hub_repo_mirror_dl_idx",
            ),
        ),
    ]
