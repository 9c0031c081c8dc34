"""``/{owner}/{name}`` and ``/{owner}/{name}/tree/{revision}``."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from frontend import dataset_page, model_page


def _endpoint(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def detail(request: HttpRequest, owner: str, name: str) -> HttpResponse:
    repo = model_page.get_model(request.user, owner, name)
    page = model_page.build(repo, request.user)
    return render(
        request, "frontend/model.html", {"page": page, "repo": repo, "endpoint": _endpoint(request)}
    )


def dataset(request: HttpRequest, owner: str, name: str) -> HttpResponse:
    repo = dataset_page.get_dataset(request.user, owner, name)
    page = dataset_page.build(repo, request.user)
    return render(
        request, "frontend/dataset.html", {"page": page, "repo": repo, "endpoint": _endpoint(request)}
    )


def dataset_tree(request: HttpRequest, owner: str, name: str, revision: str, path: str = "") -> HttpResponse:
    return _tree(request, dataset_page.get_dataset(request.user, owner, name), revision, path)


def tree(request: HttpRequest, owner: str, name: str, revision: str, path: str = "") -> HttpResponse:
    return _tree(request, model_page.get_model(request.user, owner, name), revision, path)


def pull_request(
    request: HttpRequest, owner: str, name: str, num: int, dataset: bool = False
) -> HttpResponse:
    """``/{repo}/discussions/{N}``: the ``pullRequestUrl`` the hub answers (and ``hf upload
    --create-pr`` prints). There are no discussion threads here, so a pull request is shown as the
    files at its head, ``refs/pr/N``."""
    get = dataset_page.get_dataset if dataset else model_page.get_model
    return _tree(request, get(request.user, owner, name), f"refs/pr/{num}")


def _tree(request: HttpRequest, repo, revision: str, path: str = "") -> HttpResponse:
    """A revision's files; with ``path`` (``/tree/{rev}/{folder}``, ``/blob/{rev}/{file}``, the links
    ``upload_folder(path_in_repo=…)`` and ``upload_file`` return) only that file or folder's."""
    commit = model_page.resolve_revision(repo, revision)
    path = path.strip("/")
    files, truncated = model_page.files_of(commit, under=path)
    if path and not files:
        raise Http404("No such file or folder at this revision")
    context = {
        "repo": repo,
        "commit": commit,
        "revision": revision,
        "under": path,
        "files": files,
        "files_truncated": truncated,
        "total_size": sum(f.size for f in files),
        "endpoint": _endpoint(request),
    }
    return render(request, "frontend/tree.html", context)
