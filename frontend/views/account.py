"""Sign-in, and signed-in pages: API tokens (create, list, revoke) and organisation membership."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, PasswordChangeView
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_POST

from frontend.forms import MemberForm, SignInForm, ThrottledPasswordChangeForm, TokenForm
from hub.auth import mint_token
from hub.models import ApiToken, Namespace, OrgMembership


class ThrottledFormMixin:
    """A form refused by the sign-in throttle (its ``retry_after`` set) answers 429 with
    ``Retry-After``; the page says when to try again, and scripts see what happened."""

    def form_invalid(self, form) -> HttpResponse:
        response = super().form_invalid(form)
        if form.retry_after:
            response.status_code = 429
            response["Retry-After"] = str(form.retry_after)
        return response


class SignInView(ThrottledFormMixin, LoginView):
    """Django's login view with the throttled form."""

    template_name = "frontend/login.html"
    form_class = SignInForm


class PasswordChange(ThrottledFormMixin, PasswordChangeView):
    """``/settings/password``: a user changes their own password (before, only an admin could).

    Django's view keeps this session signed in and, through the session's password hash, signs out
    every other session of the user at its next request. API tokens are not sessions and keep
    working: the page says so and links to the list where they are revoked.
    """

    template_name = "frontend/password.html"
    success_url = reverse_lazy("frontend:password")
    form_class = ThrottledPasswordChangeForm

    def get_form_kwargs(self) -> dict:
        return {**super().get_form_kwargs(), "request": self.request}

    def form_valid(self, form) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(
            self.request,
            "Password changed. Your other sessions are signed out; API tokens keep working until you "
            "revoke them.",
        )
        return response


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    """List the user's tokens; on POST mint one and show its plaintext exactly once (never stored)."""
    new_token = None
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        new_token, _row = mint_token(
            request.user, scope=form.cleaned_data["scope"], name=form.cleaned_data["name"]
        )
        form = TokenForm()
    rows = ApiToken.objects.filter(user=request.user).order_by("revoked_at", "-created_at")
    response = render(request, "frontend/tokens.html", {"form": form, "tokens": rows, "new_token": new_token})
    if new_token:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def revoke_token(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        messages.success(request, f"Token “{token.name or token.prefix}” revoked; it no longer works.")
    return redirect("frontend:tokens")


@login_required
def organisations(request: HttpRequest) -> HttpResponse:
    """The user's organisations and their members; admins add, change and remove members here."""
    memberships = OrgMembership.objects.filter(user=request.user).select_related("org").order_by("org__name")
    if request.method == "POST":
        org_pk, remove = request.POST.get("org", ""), request.POST.get("remove", "")
        if not org_pk.isdecimal() or (remove and not remove.isdecimal()):
            raise Http404("No such organisation or member")
        org = get_object_or_404(Namespace, pk=int(org_pk), kind=Namespace.Kind.ORG)
        if not OrgMembership.objects.filter(
            org=org, user=request.user, role=OrgMembership.Role.ADMIN
        ).exists():
            raise Http404("Not an admin of this organisation")
        if remove:
            removed = OrgMembership.objects.filter(org=org, pk=int(remove)).exclude(user=request.user)
            if removed.delete()[0]:
                messages.success(request, "Member removed.")
            return redirect("frontend:organisations")
        form = MemberForm(request.POST)
        if (
            form.is_valid()
            and form.cleaned_data["username"] == request.user
            and form.cleaned_data["role"] != OrgMembership.Role.ADMIN
            and not OrgMembership.objects.filter(org=org, role=OrgMembership.Role.ADMIN)
            .exclude(user=request.user)
            .exists()
        ):
            # the last admin stepping down would leave nobody able to manage the members
            messages.error(request, f"You are the only admin of {org}; make another member admin first.")
            return redirect("frontend:organisations")
        if form.is_valid():
            OrgMembership.objects.update_or_create(
                org=org, user=form.cleaned_data["username"], defaults={"role": form.cleaned_data["role"]}
            )
            messages.success(
                request, f"{form.cleaned_data['username']} is now {form.cleaned_data['role']} in {org}."
            )
            return redirect("frontend:organisations")
        messages.error(request, "; ".join(e for errs in form.errors.values() for e in errs))
    orgs = [
        {
            "membership": m,
            "members": OrgMembership.objects.filter(org=m.org)
            .select_related("user")
            .order_by("user__username"),
            "is_admin": m.role == OrgMembership.Role.ADMIN,
            "private_repos": m.org.repositories.filter(private=True).count(),
        }
        for m in memberships
    ]
    return render(request, "frontend/organisations.html", {"orgs": orgs, "member_form": MemberForm()})
