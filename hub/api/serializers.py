"""Serializers of the native API (``/api/v1/``): repositories, revisions, files, analyses."""

from __future__ import annotations

from rest_framework import serializers

from hub.models import Commit, FileScan, Ref, RepoFile, Repository, RevisionAnalysis


class AnalysisSummarySerializer(serializers.ModelSerializer):
    engine_current = serializers.SerializerMethodField(
        help_text="false: made by an older engine or knowledge base than this server's; served until re-analysed"
    )

    class Meta:
        model = RevisionAnalysis
        fields = [
            "status", "license_key", "license_class", "commercial_use", "transparency_score", "disclosure_level",
            "n_errors", "n_warnings", "unsafe_files", "analysed_at", "engine_version", "engine_current",
        ]  # fmt: skip

    def get_engine_current(self, analysis: RevisionAnalysis) -> bool:
        from hub.services.reanalysis import is_current

        return is_current(analysis)


class RepositorySerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="repo_id", read_only=True)
    owner = serializers.CharField(source="namespace.name", read_only=True)
    type = serializers.CharField(source="repo_type", read_only=True)
    sha = serializers.SerializerMethodField()
    tags = serializers.SerializerMethodField()
    analysis = AnalysisSummarySerializer(source="latest_analysis", read_only=True, allow_null=True)
    # A plain string: "" for repositories that are not mirrors (a URLField would document format: uri).
    mirrored_from = serializers.CharField(
        read_only=True, help_text="upstream endpoint + repo id; empty if native"
    )
    mirror_error = serializers.SerializerMethodField(
        help_text="what the upstream said (gone, gated, renamed); for a failed sync only that it failed"
    )

    class Meta:
        model = Repository
        fields = [
            "id", "owner", "name", "type", "private", "gated", "description", "sha", "default_branch",
            "created_at", "last_modified", "card_license", "library_name", "pipeline_tag", "tags", "downloads",
            "likes", "mirrored_from", "upstream_sha", "mirror_status", "mirror_error", "mirrored_at",
            "analysis",
        ]  # fmt: skip
        read_only_fields = [f for f in fields if f not in ("private", "gated", "description")]

    def get_sha(self, repo: Repository) -> str | None:
        return repo.head.sha if repo.head_id and repo.head else None

    def get_tags(self, repo: Repository) -> list[str]:
        return [t.tag for t in sorted(repo.tag_rows.all(), key=lambda t: t.position)]

    def get_mirror_error(self, repo: Repository) -> str:
        """A failed sync's error is our side's exception text (blob store, database, network:
        hosts, buckets, paths), not something the upstream published; anyone may read a public
        mirror, so they learn only that it failed, and staff read the reason in the mirror run."""
        if repo.mirror_status == Repository.MirrorStatus.FAILED and repo.mirror_error:
            return "the last sync of this repository failed; staff: see GET /api/v1/mirror/runs?status=failed"
        return repo.mirror_error


class RepositoryCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=96)
    organization = serializers.CharField(max_length=96, required=False, allow_null=True, allow_blank=True)
    type = serializers.ChoiceField(choices=Repository.Type.values, default=Repository.Type.MODEL)
    private = serializers.BooleanField(default=False)


class RepositoryUpdateSerializer(serializers.Serializer):
    private = serializers.BooleanField(required=False)
    gated = serializers.ChoiceField(choices=["", "auto", "manual"], required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class CommitSerializer(serializers.ModelSerializer):
    parent = serializers.SerializerMethodField()
    author = serializers.SerializerMethodField()

    class Meta:
        model = Commit
        fields = ["sha", "parent", "title", "message", "author", "created_at"]

    def get_parent(self, commit: Commit) -> str | None:
        return commit.parent.sha if commit.parent_id else None

    def get_author(self, commit: Commit) -> str:
        return commit.author.get_username() if commit.author_id else commit.author_name


class RefSerializer(serializers.ModelSerializer):
    target = serializers.CharField(source="commit.sha")

    class Meta:
        model = Ref
        fields = ["kind", "name", "target", "updated_at"]


class RepoFileSerializer(serializers.ModelSerializer):
    class Meta:
        model = RepoFile
        fields = ["path", "size", "oid", "lfs", "sha256"]


class FileScanSerializer(serializers.ModelSerializer):
    class Meta:
        model = FileScan
        fields = [
            "path", "file_format", "scanner", "contains_pickle", "dangerous_imports", "safetensors_dtypes",
            "tensor_count", "parameter_count", "error", "scanned_at",
        ]  # fmt: skip


class AnalysisSerializer(AnalysisSummarySerializer):
    revision = serializers.CharField(source="commit.sha")
    result = serializers.JSONField()
    error = serializers.CharField()
    files = serializers.SerializerMethodField()

    class Meta(AnalysisSummarySerializer.Meta):
        fields = ["revision", *AnalysisSummarySerializer.Meta.fields, "error", "result", "files"]

    def get_files(self, analysis: RevisionAnalysis) -> list[dict]:
        return FileScanSerializer(
            FileScan.objects.filter(commit=analysis.commit).order_by("path"), many=True
        ).data
