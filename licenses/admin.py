"""Admin for policies: each save of a document stores a new, immutable version (as a PUT does)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db import transaction
from django.utils import timezone

from licenses.engine.policy import PolicyError, load_policy
from licenses.models import Policy, PolicyVersion


class PolicyForm(forms.ModelForm):
    document = forms.JSONField(
        help_text="The policy document (docs/policies.md, as JSON). Saving a changed document stores it "
        "as a new version; its name is the policy's name."
    )
    comment = forms.CharField(max_length=300, required=False, help_text="Why this version (kept with it).")

    class Meta:
        model = Policy
        fields = ("name", "description")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["name"].disabled = True  # stored policies are addressed by name (API, checks)
            current = self.instance.current
            if current is not None:
                self.fields["document"].initial = current.document

    def clean(self):
        data = super().clean()
        document = data.get("document")
        if "document" in self.errors or document is None:
            return data
        if not isinstance(document, dict):
            self.add_error("document", "the policy document must be a JSON object")
            return data
        name = data.get("name") or self.instance.name
        if self.instance.pk is None and Policy.name_taken(name) is not None:
            self.add_error("name", "a policy of this name exists (names are compared without case)")
            return data
        document = {**document, "name": name}
        try:
            load_policy(document)
        except PolicyError as exc:
            self.add_error("document", str(exc))
        data["document"] = document
        return data


class PolicyVersionInline(admin.TabularInline):
    model = PolicyVersion
    fields = ("version", "document", "comment", "created_by", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-version",)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    form = PolicyForm
    list_display = ("name", "current_version", "updated_at")
    search_fields = ("name", "description")
    inlines = [PolicyVersionInline]

    @admin.display(description="version")
    def current_version(self, obj: Policy) -> int | None:
        current = obj.current
        return current.version if current else None

    def save_model(self, request, obj, form, change):
        document = form.cleaned_data["document"]
        with transaction.atomic():
            current = obj.current if change else None
            if current is None or current.document != document:
                obj.updated_at = timezone.now()
            super().save_model(request, obj, form, change)
            if current is None or current.document != document:
                obj.add_version(document, request.user, form.cleaned_data.get("comment", ""))
