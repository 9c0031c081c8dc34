"""URLs of the mirror API, mounted at ``/api/v1/mirror/`` by ``hub/urls.py``."""

from django.urls import path

from workers import api

urlpatterns = [
    path("specs", api.SpecListView.as_view(), name="mirror-spec-list"),
    path("specs/<slug:name>", api.SpecDetailView.as_view(), name="mirror-spec-detail"),
    path("specs/<slug:name>/run", api.SpecRunView.as_view(), name="mirror-spec-run"),
    path("runs", api.RunListView.as_view(), name="mirror-run-list"),
    path("runs/<int:pk>", api.RunDetailView.as_view(), name="mirror-run-detail"),
]
