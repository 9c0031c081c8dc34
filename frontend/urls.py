"""The web catalogue's routes. Included last by ``hub.urls`` so the API and file routes win.

Catalogue URLs follow the Hub: ``/models``, ``/{owner}/{name}``, ``/{owner}/{name}/tree/{revision}``,
``/licenses/{key}``. The two-segment model route comes last so fixed pages are never shadowed.
"""

from django.contrib.auth import views as auth_views
from django.urls import path, re_path

from frontend.views import account, catalogue, compliance, dashboard, licences, model, violations

app_name = "frontend"

#: ``{owner}/{name}`` as the Hub spells repository ids in its URLs.
_REPO = r"(?P<owner>[\w.-]+)/(?P<name>[\w.-]+)"


def _repository_pages(prefix: str, kind: str, detail, files, extra: dict | None = None) -> list:
    """One repository kind's pages at the Hub's URLs (models at the root, datasets under
    ``datasets/``): its page (named ``kind``), and its files (``tree``, ``commit``, ``path``
    and ``pull-request``, named ``{kind}-…`` for datasets), the same views for both kinds."""
    at = rf"^{prefix}{_REPO}"
    names = "" if kind == "model" else f"{kind}-"
    return [
        re_path(rf"{at}/tree/(?P<revision>[^/]+)/?$", files, name=f"{names}tree"),
        # where the Hub API's commitUrl (printed by ``hf upload``) points: a commit is shown as its tree
        re_path(rf"{at}/commit/(?P<revision>[^/]+)/?$", files, name=f"{names}commit"),
        # the links upload_folder(path_in_repo=…) and upload_file return: a folder's or a file's entries
        re_path(rf"{at}/(?:tree|blob)/(?P<revision>[^/]+)/(?P<path>.+)$", files, name=f"{names}path"),
        re_path(
            rf"{at}/discussions/(?P<num>[0-9]{{1,9}})/?$",
            model.pull_request,
            extra or {},
            name=f"{names}pull-request",
        ),
        # the two-segment page last in each kind, and the model kind last of all
        re_path(rf"{at}/?$", detail, name=kind),
    ]


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
    path("login", account.SignInView.as_view(), name="login"),
    path("logout", auth_views.LogoutView.as_view(next_page="/"), name="logout"),
    path("settings/password", account.PasswordChange.as_view(), name="password"),
    path("settings/tokens", account.tokens, name="tokens"),
    path("settings/tokens/<int:pk>/revoke", account.revoke_token, name="token-revoke"),
    path("settings/organizations", account.organisations, name="organisations"),
    *_repository_pages("datasets/", "dataset", model.dataset, model.dataset_tree, {"dataset": True}),
    *_repository_pages("", "model", model.detail, model.tree),
]
