"""``/datasets/{owner}/{name}``: a dataset the registry hosts, and what its licence means for models.

Datasets matter here for one question: a model trained on this dataset, may it be used
commercially? The page shows the licence the dataset's card declares (read as the models'
analyses read it, ``licenses.services.datasets``), the verified terms of the bundled audit when
there are any, the models in the registry that name it, the card and the files. Before it
existed, the ``commitUrl`` the Hub client prints for a dataset upload was a 404.
"""

from __future__ import annotations

from dataclasses import dataclass

from frontend.cards import read_card, render_card
from frontend.model_page import FileRow, files_of, get_visible
from hub.models import Commit, Repository
from hub.services.access import visible_repositories
from licenses.engine.datasets import DatasetLicense, bundled
from licenses.services.datasets import models_naming, registry_dataset_cards

MAX_MODELS = 200


@dataclass
class DatasetPage:
    repo: Repository
    commit: Commit | None
    licence: DatasetLicense | None  # as a model naming it is judged with it
    card_html: str | None
    files: list[FileRow]
    files_truncated: bool
    models: list[Repository]
    models_truncated: bool


def get_dataset(user, owner: str, name: str) -> Repository:
    return get_visible(user, Repository.Type.DATASET, owner, name)


def build(repo: Repository, user) -> DatasetPage:
    commit = repo.head
    table = bundled()
    if not repo.private:  # a private dataset's card is not read into anyone's analysis
        table = table.with_cards(registry_dataset_cards([repo.repo_id]))
    card = read_card(commit)
    files, truncated = files_of(commit)
    models = models_naming(repo.repo_id, within=visible_repositories(user, Repository.Type.MODEL))
    models.sort(key=lambda m: (-m.downloads, m.repo_id.lower()))
    return DatasetPage(
        repo=repo,
        commit=commit,
        licence=table.lookup(repo.repo_id),
        card_html=render_card(card) if card is not None else None,
        files=files,
        files_truncated=truncated,
        models=models[:MAX_MODELS],
        models_truncated=len(models) > MAX_MODELS,
    )
