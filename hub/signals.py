"""Signals the hub sends for other apps to act on, keeping the hub unaware of them."""

from django.dispatch import Signal

#: Sent after a revision's analysis is stored. Arguments: ``analysis`` (RevisionAnalysis),
#: ``is_head`` (the revision is its repository's default-branch head) and
#: ``previous_license_key`` (the head's licence key before this analysis, or None).
revision_analysed = Signal()

#: Sent when a saved repository's ``private`` flag changed. Argument: ``repository``. Its
#: descendants' lineage and violations were judged with what its visibility let them see.
visibility_changed = Signal()
