"""Policy names unique without case, in the database (the API's check alone lost races)."""

from django.db import migrations, models
from django.db.models.functions import Lower


def refuse_case_duplicates(apps, schema_editor) -> None:
    """Stop with the names to fix rather than with the database's bare unique-index error.

    Policies whose names differ only in case could be stored before the API refused them (and
    by two creations at once since). Which one a deployment means is not for a migration to
    guess; rename one (``Policy.objects.filter(name=…).update(name=…)``) and migrate again.
    """
    Policy = apps.get_model("licenses", "Policy")
    seen: dict[str, str] = {}
    clashes = []
    for name in Policy.objects.order_by("name").values_list("name", flat=True):
        if name.lower() in seen:
            clashes.append(f"{seen[name.lower()]!r} and {name!r}")
        seen.setdefault(name.lower(), name)
    if clashes:
        raise RuntimeError(
            "policy names must be unique without case; rename one of each pair and migrate again: "
            + "; ".join(clashes)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("licenses", "0004_violation_announced_at"),
    ]

    operations = [
        migrations.RunPython(refuse_case_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="policy",
            constraint=models.UniqueConstraint(Lower("name"), name="policy_name_ci_unique"),
        ),
    ]
