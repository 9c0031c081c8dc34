from django.urls import path

from licenses.api import views

urlpatterns = [
    path("ping", views.ApiPingView.as_view(), name="api-ping"),
    path("compliance/check", views.ComplianceCheckView.as_view(), name="compliance-check"),
    path("compliance/bom", views.ComplianceBomView.as_view(), name="compliance-bom"),
    path("models/<str:owner>/<str:name>/bom", views.ModelBomView.as_view(), name="model-bom"),
    path("policies", views.PolicyListView.as_view(), name="policy-list"),
    path("policies/<slug:name>", views.PolicyDetailView.as_view(), name="policy-detail"),
    path("policies/<slug:name>/versions", views.PolicyVersionsView.as_view(), name="policy-versions"),
    path("violations", views.ViolationListView.as_view(), name="violation-list"),
    path("violations/triage", views.ViolationTriageView.as_view(), name="violation-triage"),
    path("violations/<int:pk>", views.ViolationDetailView.as_view(), name="violation-detail"),
    path(
        "lineage/<str:owner>/<str:name>/ancestors",
        views.LineageView.as_view(direction="ancestors"),
        name="lineage-ancestors",
    ),
    path(
        "lineage/<str:owner>/<str:name>/descendants",
        views.LineageView.as_view(direction="descendants"),
        name="lineage-descendants",
    ),
    path("lineage/derived-from", views.TaintedModelsView.as_view(), name="lineage-derived-from"),
]
