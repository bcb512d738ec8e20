"""The pages. Thin: check who may do what (people.access), call one service or selector, render."""

import base64
from typing import Any

import django_otp
import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from ledger.errors import DomainError
from people import access, selectors, services
from people.models import Role
from web.forms.account import (
    BackupCodeForm,
    NewPasswordForm,
    OneTimeCodeForm,
    PasswordResetRequestForm,
    PersonalTokenIssueForm,
    ProviderApiKeyIssueForm,
    SignInForm,
)
from web.middleware import second_factor_url


def _safe_next(request: HttpRequest) -> str:
    """The `next` address if it is on this site, else the home page."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("web:home")


# Where each role starts: the page of what they work on.
ROLE_HOME = {Role.NAVIGATOR: "web:caseload", Role.AGENCY_OFFICER: "web:approvals"}


class HomeView(LoginRequiredMixin, TemplateView):
    """Send each person to where they start: their own budget, the one person they act for, their caseload
    or their approvals; otherwise (several people to act for, finance, providers) a page of choices."""

    template_name = "web/home.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if user.role in ROLE_HOME:
            return HttpResponseRedirect(reverse(ROLE_HOME[user.role]))
        holder = selectors.budget_holder_for_user(user=user)
        if holder is not None:
            return HttpResponseRedirect(reverse("web:person-home", args=[holder.public_id]))
        representations = list(selectors.representations_for_user(user=user)[:2])
        if len(representations) == 1:
            return HttpResponseRedirect(
                reverse("web:person-home", args=[representations[0].budget_holder.public_id])
            )
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["representations"] = selectors.representations_for_user(user=self.request.user)
        return context


@method_decorator(never_cache, name="dispatch")
class KeepAliveView(LoginRequiredMixin, View):
    """The session timeout warning's "Stay signed in": any request restarts the session's clock."""

    raise_exception = True
    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        request.session.modified = True
        return HttpResponse(status=204)


class SignInView(auth_views.LoginView):
    template_name = "web/sign_in.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def get_success_url(self) -> str:
        user = self.request.user
        next_url = self.get_redirect_url()
        if user.needs_second_factor:
            return second_factor_url(user=user, next_url=next_url or None)
        return next_url or reverse("web:home")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["timed_out"] = "timed_out" in self.request.GET
        context["signed_out"] = "signed_out" in self.request.GET
        context["session_minutes"] = settings.SESSION_COOKIE_AGE // 60
        return context


class SignOutView(auth_views.LogoutView):
    """Sign out (POST only, as Django's LogoutView): ends the session and the second factor with it."""

    http_method_names = ["post", "options"]
    next_page = reverse_lazy("web:sign-in")

    def get_success_url(self) -> str:
        return f"{super().get_success_url()}?signed_out=1"


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a link to choose a new password. The answer is the same whether or not the address is known,
    so the page never tells anyone who has a Purse account."""

    template_name = "web/password_reset.html"
    email_template_name = "web/email/password_reset.txt"
    subject_template_name = "web/email/password_reset_subject.txt"
    form_class = PasswordResetRequestForm
    success_url = reverse_lazy("web:password-reset-sent")


class PasswordResetSentView(auth_views.PasswordResetDoneView):
    template_name = "web/password_reset_sent.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Choose a new password from the link in the e-mail (the link works once, for a few days)."""

    template_name = "web/password_reset_confirm.html"
    form_class = NewPasswordForm
    success_url = reverse_lazy("web:password-reset-complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "web/password_reset_complete.html"


@method_decorator(never_cache, name="dispatch")
class SecondFactorView(LoginRequiredMixin, View):
    """Base of the second-factor pages: only for signed-in staff who have not passed it yet."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            if not user.needs_second_factor or user.is_verified():
                return HttpResponseRedirect(_safe_next(request))
            if self.belongs_elsewhere(user):
                return HttpResponseRedirect(second_factor_url(user=user, next_url=_safe_next(request)))
        return super().dispatch(request, *args, **kwargs)

    def belongs_elsewhere(self, user: Any) -> bool:
        """Whether this user should be on the other second-factor page (set up rather than verify, say)."""
        return False

    def _sign_in_device(self, request: HttpRequest, device: Any) -> None:
        django_otp.login(request, device)
        # A new session key once the second factor is passed, as Django does at sign-in.
        request.session.cycle_key()


class SecondFactorVerifyView(SecondFactorView):
    """Enter the 6-digit code from the authenticator app, or (backup_code=True) one of the backup codes."""

    backup_code = False

    def belongs_elsewhere(self, user: Any) -> bool:
        return selectors.totp_device_get_confirmed(user=user) is None

    def _form(self, data: Any = None) -> OneTimeCodeForm | BackupCodeForm:
        return BackupCodeForm(data) if self.backup_code else OneTimeCodeForm(data)

    def _render(self, request: HttpRequest, form: Any, status: int = 200) -> HttpResponse:
        context = {"form": form, "backup_code": self.backup_code, "next": _safe_next(request)}
        return render(request, "web/second_factor_verify.html", context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, self._form())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = self._form(request.POST)
        if form.is_valid():
            try:
                device = services.second_factor_verify(user=request.user, code=form.cleaned_data["code"])
            except services.SecondFactorThrottled as error:
                form.add_error("code", error.message)
                return self._render(request, form, status=429)
            except DomainError as error:
                form.add_error("code", error.message)
            else:
                self._sign_in_device(request, device)
                if not self.backup_code:
                    return HttpResponseRedirect(_safe_next(request))
                remaining = selectors.backup_codes_remaining(user=request.user)
                messages.warning(
                    request,
                    f"You used a backup code. You have {remaining} left; each one works once.",
                )
                return HttpResponseRedirect(_safe_next(request))
        return self._render(request, form)


class SecondFactorSetupView(SecondFactorView):
    """Set up an authenticator app: scan the QR code (or type the secret), confirm with a code, keep the
    backup codes (shown once)."""

    def belongs_elsewhere(self, user: Any) -> bool:
        # Someone who already has an authenticator app must use it: a password alone never replaces it.
        return selectors.totp_device_get_confirmed(user=user) is not None

    def _render(self, request: HttpRequest, form: OneTimeCodeForm, status: int = 200) -> HttpResponse:
        device = services.totp_device_start(user=request.user)
        qr = segno.make(device.config_url, error="m")
        secret = device_secret_base32(device.bin_key)
        context = {
            "form": form,
            "qr_svg": qr.svg_inline(
                scale=5, border=2, title="QR code to scan with your authenticator app", omitsize=False
            ),
            "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
            "next": _safe_next(request),
        }
        return render(request, "web/second_factor_setup.html", context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, OneTimeCodeForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = OneTimeCodeForm(request.POST)
        if form.is_valid():
            try:
                device, backup_codes = services.totp_device_confirm(
                    user=request.user, code=form.cleaned_data["code"]
                )
            except services.SecondFactorThrottled as error:
                form.add_error("code", error.message)
                return self._render(request, form, status=429)
            except DomainError as error:
                form.add_error("code", error.message)
            else:
                self._sign_in_device(request, device)
                # Shown in this answer only, never stored for later display.
                return render(
                    request,
                    "web/backup_codes.html",
                    {"backup_codes": backup_codes, "next": _safe_next(request)},
                )
        return self._render(request, form)


def device_secret_base32(key: bytes) -> str:
    """The secret as authenticator apps ask for it when typed in: base32, without padding."""
    return base64.b32encode(key).decode("ascii").rstrip("=")


@method_decorator(never_cache, name="dispatch")
class TokenListView(LoginRequiredMixin, View):
    """Your personal API tokens: list them, issue one (shown once)."""

    def _render(self, request: HttpRequest, form: PersonalTokenIssueForm, status: int = 200) -> HttpResponse:
        tokens = selectors.personal_tokens_for_user(user=request.user)
        return render(request, "web/tokens.html", {"form": form, "tokens": tokens}, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, PersonalTokenIssueForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = PersonalTokenIssueForm(request.POST)
        if not form.is_valid():
            return self._render(request, form)
        token, raw = services.personal_token_issue(
            user=request.user, name=form.cleaned_data["name"], issued_by=request.user
        )
        # The raw token is in this answer only (never_cache): it is stored nowhere but as a hash.
        return render(request, "web/token_issued.html", {"token": token, "raw_token": raw})


@method_decorator(never_cache, name="dispatch")
class TokenRevokeView(LoginRequiredMixin, View):
    """Revoke one of your tokens, after a confirmation step."""

    def _token(self, request: HttpRequest, public_id: str):
        token = selectors.personal_token_get_for_user(user=request.user, public_id=public_id)
        # Another person's token, or none at all: the same "not found".
        if token is None or not access.may(request.user, "people.manage_personaltoken", token):
            raise Http404("No such token.")
        return token

    def get(self, request: HttpRequest, public_id: str) -> HttpResponse:
        token = self._token(request, public_id)
        if not token.is_active:
            messages.info(request, f"The token {token.name} was already revoked.")
            return HttpResponseRedirect(reverse("web:tokens"))
        return render(request, "web/token_revoke.html", {"token": token})

    def post(self, request: HttpRequest, public_id: str) -> HttpResponse:
        token = self._token(request, public_id)
        try:
            services.personal_token_revoke(token=token, revoked_by=request.user)
        except services.PersonalTokenAlreadyRevoked:
            messages.info(request, f"The token {token.name} was already revoked.")
        else:
            messages.success(
                request, f"You revoked the token {token.name}. Anything using it will be refused."
            )
        return HttpResponseRedirect(reverse("web:tokens"))


@method_decorator(never_cache, name="dispatch")
class ApiKeyView(LoginRequiredMixin, View):
    """Base of the API key pages: only for the users of a care provider, for their provider's keys."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if user.is_authenticated and not (
            user.role == Role.PROVIDER_USER
            and access.may(user, "people.change_organisation", user.organisation)
        ):
            raise PermissionDenied("Only a care provider's users manage its API keys.")
        return super().dispatch(request, *args, **kwargs)


class ApiKeyListView(ApiKeyView):
    """Your provider's API keys: list them, issue one (shown once)."""

    def _render(self, request: HttpRequest, form: ProviderApiKeyIssueForm, status: int = 200) -> HttpResponse:
        provider = request.user.organisation
        keys = selectors.provider_api_keys_for_provider(provider=provider)
        context = {"form": form, "keys": keys, "provider": provider}
        return render(request, "web/api_keys.html", context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, ProviderApiKeyIssueForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ProviderApiKeyIssueForm(request.POST)
        if not form.is_valid():
            return self._render(request, form)
        try:
            key, raw = services.provider_api_key_issue(
                provider=request.user.organisation, name=form.cleaned_data["name"], issued_by=request.user
            )
        except DomainError as error:
            form.add_error(None, error.message)
            return self._render(request, form, status=409)
        # The raw key is in this answer only (never_cache): it is stored nowhere but as a hash.
        return render(request, "web/api_keys_issued.html", {"key": key, "raw_key": raw})


class ApiKeyRevokeView(ApiKeyView):
    """Revoke one of your provider's API keys, after a confirmation step."""

    def _key(self, request: HttpRequest, public_id: str):
        key = selectors.provider_api_key_get_for_provider(
            provider=request.user.organisation, public_id=public_id
        )
        # Another provider's key, or none at all: the same "not found".
        if key is None:
            raise Http404("No such API key.")
        return key

    def get(self, request: HttpRequest, public_id: str) -> HttpResponse:
        key = self._key(request, public_id)
        if not key.is_active:
            messages.info(request, f"The API key {key.name} was already revoked.")
            return HttpResponseRedirect(reverse("web:api-keys"))
        return render(request, "web/api_keys_revoke.html", {"key": key})

    def post(self, request: HttpRequest, public_id: str) -> HttpResponse:
        key = self._key(request, public_id)
        try:
            services.provider_api_key_revoke(key=key, revoked_by=request.user)
        except services.ProviderApiKeyAlreadyRevoked:
            messages.info(request, f"The API key {key.name} was already revoked.")
        else:
            messages.success(
                request, f"You revoked the API key {key.name}. Any system using it will be refused."
            )
        return HttpResponseRedirect(reverse("web:api-keys"))
