"""Top-level URL map: probes, admin, the native API, the Hub-compatible API, the catalogue."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from hub import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/v1/schema", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/docs", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/mirror/", include("workers.urls")),
    path("api/v1/", include("licenses.api.urls")),
    path("api/v1/", include("hub.api.urls")),
    path("", include("hub.hfapi.urls")),  # Hugging Face–compatible API (specific shapes only)
]

# The web catalogue last: its two-segment /{owner}/{name} route must not shadow API or file routes.
urlpatterns += [path("", include("frontend.urls"))]

handler400 = "hub.errors_http.bad_request"
handler404 = "hub.errors_http.not_found"
