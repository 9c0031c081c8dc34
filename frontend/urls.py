"""The web catalogue's routes. Included last by ``hub.urls`` so the API and file routes win.

Catalogue URLs follow the Hub: ``/models``, ``/{owner}/{name}``, ``/{owner}/{name}/tree/{revision}``,
``/licenses/{key}``. The two-segment model route comes last so fixed pages are never shadowed.
"""

from django.contrib.auth import views as auth_views
from django.urls import path, re_path

from frontend.views import account, catalogue, compliance, dashboard, licences, model, violations

app_name = "frontend"

urlpatterns = [
    path("", catalogue.home, name="home"),
    path("models", catalogue.models_list, name="models"),
    path("models.csv", catalogue.models_csv, name="models-csv"),
    path("licenses", licences.licence_list, name="licences"),
    path("licenses/<str:key>", licences.licence_detail, name="licence"),
    path("violations", violations.queue, name="violations"),
    path("violations.csv", violations.queue_csv, name="violations-csv"),
    path("violations/triage", violations.triage, name="violations-triage"),
    path("violations/<int:pk>", violations.detail, name="violation"),
    path("dashboard", dashboard.dashboard, name="dashboard"),
    path("dashboard/mirror-runs", dashboard.mirror_runs, name="dashboard-mirror-runs"),
    path("compliance", compliance.check, name="compliance"),
    path("login", auth_views.LoginView.as_view(template_name="frontend/login.html"), name="login"),
    path("logout", auth_views.LogoutView.as_view(next_page="/"), name="logout"),
    path("settings/tokens", account.tokens, name="tokens"),
    path("settings/tokens/<int:pk>/revoke", account.revoke_token, name="token-revoke"),
    path("settings/organizations", account.organisations, name="organisations"),
    re_path(r"^datasets/(?P<owner>[\w.-]+)/(?P<name>[\w.-]+)/?$", model.dataset, name="dataset"),
    # a dataset's files, and the commitUrl the Hub client prints for a dataset, as for models
    re_path(
        r"^datasets/(?P<owner>[\w.-]+)/(?P<name>[\w.-]+)/tree/(?P<revision>[^/]+)/?$",
        model.dataset_tree,
        name="dataset-tree",
    ),
    re_path(
        r"^datasets/(?P<owner>[\w.-]+)/(?P<name>[\w.-]+)/commit/(?P<revision>[^/]+)/?$",
        model.dataset_tree,
        name="dataset-commit",
    ),
    re_path(
        r"^datasets/(?P<owner>[\w.-]+)/(?P<name>[\w.-]+)/(?:tree|blob)/(?P<revision>[^/]+)/(?P<path>.+)$",
        model.dataset_tree,
        name="dataset-path",
    ),
    re_path(
        r"^datasets/(?P<owner>[\w.-]+)/(?P<name>[\w.-]+)/discussions/(?P<num>[0-9]{1,9})/?$",
        model.pull_request,
        {"dataset": True},
        name="dataset-pull-request",
    ),
    re_path(r"^(?P<owner>[\w.-]+)/(?P<name>[\w.-]+)/tree/(?P<revision>[^/]+)/?$", model.tree, name="tree"),
    # the links upload_folder(path_in_repo=…) and upload_file return: a folder's or a file's entries
    re_path(
        r"^(?P<owner>[\w.-]+)/(?P<name>[\w.-]+)/(?:tree|blob)/(?P<revision>[^/]+)/(?P<path>.+)$",
        model.tree,
        name="path",
    ),
    re_path(
        r"^(?P<owner>[\w.-]+)/(?P<name>[\w.-]+)/discussions/(?P<num>[0-9]{1,9})/?$",
        model.pull_request,
        name="pull-request",
    ),
    # where the Hub API's commitUrl (printed by ``hf upload``) points: a commit is shown as its tree
    re_path(
        r"^(?P<owner>[\w.-]+)/(?P<name>[\w.-]+)/commit/(?P<revision>[^/]+)/?$",
        model.tree,
        name="commit",
    ),
    re_path(r"^(?P<owner>[\w.-]+)/(?P<name>[\w.-]+)/?$", model.detail, name="model"),
]
