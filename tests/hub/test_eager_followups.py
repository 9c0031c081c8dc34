"""In-process mode (the embedded default): a failing follow-up task never fails the change that
started it, as before the outbox.

The analysis' receivers now run inside its transaction, so the follow-ups they enqueue run after
that COMMIT, in the on-commit hooks of whatever ran the analysis: the commit's own (in-process,
``create_commit`` runs the analysis on COMMIT). Sent from the receiver outside any transaction, a
failing re-evaluation used to be caught with the receiver and logged.
"""

from __future__ import annotations

import logging

import pytest

from hub.models import RevisionAnalysis
from tests.hub.conftest import make_repo


@pytest.mark.django_db(transaction=True)
def test_a_follow_up_failing_in_process_does_not_fail_the_commit_or_its_analysis(
    alice, fs_store, monkeypatch, caplog
):
    import licenses.tasks

    def broken(*args, **kwargs):
        raise RuntimeError("re-evaluation bug")

    monkeypatch.setattr(licenses.tasks.reevaluate_descendants, "run", broken)
    with caplog.at_level(logging.ERROR):
        repo = make_repo(
            alice, "m", {"README.md": b"---\nlicense: mit\n---\n# m\n"}
        )  # licence changed: re-judge
    analysis = RevisionAnalysis.objects.get(commit_id=repo.head_id)
    assert analysis.status == RevisionAnalysis.Status.DONE
    assert "re-evaluation bug" in caplog.text  # logged, as a receiver's failure was
