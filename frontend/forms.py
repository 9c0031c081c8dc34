"""Forms of the catalogue's pages; validation lives here so views stay a few lines."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm

from hub.models import ApiToken, OrgMembership
from hub.signin import ThrottledSignInMixin, guarded
from licenses.models import Violation
from licenses.services.compliance import MAX_MODELS


class SignInForm(ThrottledSignInMixin, AuthenticationForm):
    """``/login``: Django's form behind the sign-in throttle (``hub.signin``); one message for a wrong
    name and a wrong password, so the page does not tell which accounts exist."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That username and password do not match. Try again.",
    }


class ThrottledPasswordChangeForm(PasswordChangeForm):
    """``/settings/password``: the current password is a guess like any sign-in, counted against the
    same account and address limits, so a borrowed or stolen session cannot be used to find it out
    (and try it elsewhere) at the hasher's speed."""

    def __init__(self, user, *args, request=None, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.request = request
        self.retry_after = 0

    def clean_old_password(self):
        if self.request is None:
            return super().clean_old_password()
        return guarded(self, self.user.get_username(), super().clean_old_password)


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, required=True, label="Token name",
                           help_text="What the token is for, e.g. “CI downloads”.")  # fmt: skip
    scope = forms.ChoiceField(choices=ApiToken.Scope.choices, initial=ApiToken.Scope.READ, label="Permission")


class MemberForm(forms.Form):
    username = forms.CharField(max_length=150, label="Username")
    role = forms.ChoiceField(choices=OrgMembership.Role.choices, initial=OrgMembership.Role.READ)

    def clean_username(self):
        name = self.cleaned_data["username"].strip()
        user = get_user_model().objects.filter(username__iexact=name).first()
        if user is None:
            raise forms.ValidationError("No user with that name.")
        return user


TRIAGE_ACTIONS = {
    "acknowledge": (Violation.Status.ACKNOWLEDGED, "Acknowledge"),
    "false_positive": (Violation.Status.FALSE_POSITIVE, "Mark false positive"),
    "reopen": (Violation.Status.OPEN, "Reopen"),
}


class TriageForm(forms.Form):
    """Bulk triage: which violations, what to do, and why (a reason is always required)."""

    ids = forms.TypedMultipleChoiceField(coerce=int, choices=(), label="Violations")
    action = forms.ChoiceField(choices=[(k, label) for k, (_, label) in TRIAGE_ACTIONS.items()])
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=True,
                             label="Reason", help_text="Recorded in the violation's history.")  # fmt: skip

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ids"].choices = [(c, c) for c in choices]

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Say why: the reason is kept in the history.")
        return reason


class ComplianceForm(forms.Form):
    models = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6, "placeholder": "meta-llama/Llama-3.1-8B\norg/model==main"}),
        required=False,
        label="Model ids",
        help_text="One per line; “org/name==revision” or “org/name@revision” pins a revision, # starts a comment.",
    )
    upload = forms.FileField(required=False, label="…or upload a requirements-style list")
    policy = forms.ChoiceField(choices=(), label="Policy")
    policy_text = forms.CharField(
        widget=forms.Textarea(
            attrs={"rows": 6, "placeholder": "name: my-policy\nlicenses:\n  deny_classes: [noncommercial]"}
        ),
        required=False,
        label="…or paste a policy (YAML)",
    )

    def __init__(self, *args, policies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["policy"].choices = [("", "— pasted policy —"), *[(p, p) for p in policies]]
        self.fields["policy"].required = False

    def clean(self):
        data = super().clean()
        text = data.get("models") or ""
        upload = data.get("upload")
        if upload is not None:
            if upload.size > 256 * 1024:
                raise forms.ValidationError("The uploaded list is larger than 256 KiB.")
            text += "\n" + upload.read().decode("utf-8", errors="replace")
        specs = parse_model_list(text)
        if not specs:
            raise forms.ValidationError("Give at least one model id.")
        if len(specs) > MAX_MODELS:
            raise forms.ValidationError(f"At most {MAX_MODELS} models per check.")
        data["specs"] = specs
        if not data.get("policy") and not (data.get("policy_text") or "").strip():
            raise forms.ValidationError("Pick a policy or paste one.")
        return data


def parse_model_list(text: str) -> list[tuple[str, str | None]]:
    """Model ids from pasted text or a requirements-style file: ``id``, ``id==rev``, ``id@rev``; ``#`` comments."""
    out: list[tuple[str, str | None]] = []
    seen: set[tuple[str, str | None]] = set()
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip().strip(",")
        if not line:
            continue
        for token in line.replace(",", " ").split():
            token = token.removeprefix("https://huggingface.co/").strip("/")
            model, revision = token, None
            for sep in ("==", "@"):
                if sep in token:
                    model, revision = token.split(sep, 1)
                    break
            item = (model.strip(), (revision or "").strip() or None)
            if item[0] and item not in seen:
                seen.add(item)
                out.append(item)
    return out
