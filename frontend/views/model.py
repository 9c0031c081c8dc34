"""``/{owner}/{name}`` and ``/{owner}/{name}/tree/{revision}``."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
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


def dataset_tree(request: HttpRequest, owner: str, name: str, revision: str) -> HttpResponse:
    return _tree(request, dataset_page.get_dataset(request.user, owner, name), revision)


def tree(request: HttpRequest, owner: str, name: str, revision: str) -> HttpResponse:
    return _tree(request, model_page.get_model(request.user, owner, name), revision)


def _tree(request: HttpRequest, repo, revision: str) -> HttpResponse:
    commit = model_page.resolve_revision(repo, revision)
    files, truncated = model_page.files_of(commit)
    context = {
        "repo": repo,
        "commit": commit,
        "revision": revision,
        "files": files,
        "files_truncated": truncated,
        "total_size": sum(f.size for f in files),
        "endpoint": _endpoint(request),
    }
    return render(request, "frontend/tree.html", context)
