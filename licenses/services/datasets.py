"""Dataset licences from the registry's own dataset repositories.

The engine knows dataset licences from its bundled table (the Data Provenance Initiative's
audit); a dataset hosted here says its licence in its own card, read with the same metadata
parser. A model that names such a dataset is judged with it (disclosure level, the
``noncommercial-upstream-data`` rule), and is analysed again when that licence changes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db.models import QuerySet

from hub.models import Repository
from hub.services.repos import find_by_ids

log = logging.getLogger(__name__)


def registry_dataset_cards(dataset_ids: Sequence[str]) -> dict[str, Mapping[str, Any]]:
    """Card metadata of the named datasets this registry holds publicly (one query), keyed by the id
    as the model's card wrote it. Private datasets are left out: an analysis is shared by everyone
    who may see the model, so it must not carry what only some may see."""
    public = Repository.objects.filter(repo_type=Repository.Type.DATASET, private=False, disabled=False)
    found = find_by_ids(public.only("pk", "name", "card_data", "namespace__name"), dataset_ids)
    return {ds: found[ds.lower()].card_data for ds in dataset_ids if ds.lower() in found}


def models_naming(dataset_id: str, within: QuerySet[Repository] | None = None) -> list[Repository]:
    """Model repositories (of ``within``: those a viewer may see) whose current analysis names
    ``dataset_id`` (metadata or dataset links).

    The JSON text is narrowed in the database and confirmed here exactly (ids compared without
    case): one scan, when a dataset's licence or visibility changes and on its page (no index).
    """
    wanted = dataset_id.lower()
    models = within if within is not None else Repository.objects.all()
    candidates = models.filter(
        repo_type=Repository.Type.MODEL, latest_analysis__result__data__datasets__icontains=dataset_id
    ).select_related("latest_analysis", "namespace")
    return [
        repo
        for repo in candidates
        if wanted
        in {str(d).lower() for d in _named(repo.latest_analysis.result if repo.latest_analysis else {})}
    ]


def _named(result: Mapping[str, Any]) -> Iterable[Any]:
    data = result.get("data") if isinstance(result, Mapping) else None
    datasets = data.get("datasets") if isinstance(data, Mapping) else None
    return datasets if isinstance(datasets, list) else ()
