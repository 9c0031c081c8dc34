"""Admin for the hub's models: read-mostly views for operators (tokens show prefixes only)."""

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm

from hub.models import (
    AccessRequest,
    ApiToken,
    Blob,
    Commit,
    FileScan,
    Namespace,
    OrgMembership,
    Ref,
    Repository,
    RevisionAnalysis,
)
from hub.signin import ThrottledSignInMixin


class MembershipInline(admin.TabularInline):
    model = OrgMembership
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Namespace)
class NamespaceAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "user", "created_at")
    list_filter = ("kind",)
    search_fields = ("name",)
    inlines = [MembershipInline]


@admin.register(Repository)
class RepositoryAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "repo_type",
        "private",
        "gated",
        "card_license",
        "mirror_status",
        "last_modified",
    )
    list_filter = ("repo_type", "private", "gated", "mirror_status")
    search_fields = ("name", "namespace__name")
    raw_id_fields = ("namespace", "created_by", "head", "latest_analysis")
    readonly_fields = ("card_data",)


@admin.register(Commit)
class CommitAdmin(admin.ModelAdmin):
    list_display = ("sha", "repository", "title", "author", "created_at")
    search_fields = ("sha", "repository__name")
    raw_id_fields = ("repository", "parent", "author")


@admin.register(Ref)
class RefAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "repository", "commit")
    raw_id_fields = ("repository", "commit")


@admin.register(Blob)
class BlobAdmin(admin.ModelAdmin):
    list_display = ("sha256", "size", "created_at")
    search_fields = ("sha256",)


@admin.register(RevisionAnalysis)
class RevisionAnalysisAdmin(admin.ModelAdmin):
    list_display = (
        "commit",
        "status",
        "license_key",
        "license_class",
        "n_errors",
        "n_warnings",
        "analysed_at",
    )
    list_filter = ("status", "license_class", "commercial_use")
    raw_id_fields = ("commit",)


@admin.register(FileScan)
class FileScanAdmin(admin.ModelAdmin):
    list_display = ("path", "commit", "file_format", "contains_pickle", "parameter_count", "error")
    list_filter = ("file_format", "contains_pickle")
    raw_id_fields = ("commit", "blob")


@admin.register(AccessRequest)
class AccessRequestAdmin(admin.ModelAdmin):
    list_display = ("repository", "user", "status", "created_at", "decided_at")
    list_filter = ("status",)
    raw_id_fields = ("repository", "user", "decided_by")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "scope", "created_at", "last_used_at", "revoked_at")
    list_filter = ("scope",)
    readonly_fields = ("prefix", "token_hash", "created_at", "last_used_at")
    raw_id_fields = ("user",)


class AdminSignInForm(ThrottledSignInMixin, AdminAuthenticationForm):
    """The admin's sign-in counts against the same per-account and per-address limits as the
    catalogue's: otherwise ``/admin/login/`` would be the unthrottled way to guess passwords."""


admin.site.login_form = AdminSignInForm
