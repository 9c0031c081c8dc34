"""Routes of the native API under ``/api/v1/``."""

from django.urls import path

from hub.api import views

REPO = "repos/<str:owner>/<str:name>"

urlpatterns = [
    path("repos", views.RepositoryListView.as_view(), name="repo-list"),
    path(REPO, views.RepositoryDetailView.as_view(), name="repo-detail"),
    path(f"{REPO}/revisions", views.RevisionListView.as_view(), name="repo-revisions"),
    path(f"{REPO}/refs", views.RefListView.as_view(), name="repo-refs"),
    path(f"{REPO}/files", views.FileListView.as_view(), name="repo-files"),
    path(f"{REPO}/analysis", views.AnalysisView.as_view(), name="repo-analysis"),
    path(f"{REPO}/scans", views.FileScanListView.as_view(), name="repo-scans"),
    path("whoami", views.WhoAmIView.as_view(), name="whoami"),
]
