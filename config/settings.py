"""Purse's one settings module: everything that differs between the demo and production comes from the
environment (12-factor). See README.md, "Configuration", for every variable."""

import os
import re
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PURSE_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    """Read a yes/no environment variable; anything unrecognised is a configuration error."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [part.strip() for part in raw.split(",") if part.strip()]


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from exc


# DEBUG is the one switch between "demo or development on this machine" and production.
DEBUG = env_bool("DEBUG", False)


def _demo_secret_key() -> str:
    """Generate a secret key once for a demo or development checkout and keep it in var/."""
    path = VAR_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    path.write_text(key)
    path.chmod(0o600)
    return key


SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set in production. For the demo, run ./scripts/demo (it sets DEBUG=true)."
        )
    SECRET_KEY = _demo_secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "rules.apps.AutodiscoverRulesConfig",
    "people",
    "ledger",
    "budgets",
    "plans",
    "directory",
    "invoicing",
    "payments",
    "statements",
    "api",
    "web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "web.middleware.SecondFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "web.navigation.navigation",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

# Database: DATABASE_URL, defaulting to the embedded SQLite file in var/.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'purse.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # BEGIN IMMEDIATE: writers queue for the database lock at the start of a transaction instead of
    # failing half way through, which is what row locks give us on PostgreSQL.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "people.User"
AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "web:sign-in"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:sign-in"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Purse <no-reply@purse.invalid>")

# Sessions end after 30 minutes without activity (people's health and money data).
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Production hardening: on unless DEBUG, each overridable for a deployment behind a TLS proxy.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

OTP_TOTP_ISSUER = "Purse"

# The cache holds the API's rate-limit counts: per process in memory, or shared by every process in Redis.
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "purse"}
}

# Requests a minute (or /second, /hour, /day) allowed to each provider API key.
PROVIDER_API_RATE = os.environ.get("PROVIDER_API_RATE") or "120/minute"
if not re.fullmatch(r"[1-9][0-9]*/(second|minute|hour|day)", PROVIDER_API_RATE):
    raise ImproperlyConfigured(f"PROVIDER_API_RATE must read like 120/minute, not {PROVIDER_API_RATE!r}.")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.PersonalTokenAuthentication",
        "api.authentication.ProviderKeyAuthentication",
        "api.authentication.VerifiedSessionAuthentication",
    ],
    # Each provider API key's own allowance; other callers are not limited here.
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ProviderKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"provider_key": PROVIDER_API_RATE},
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.CursorPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "api.problems.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Purse API",
    "DESCRIPTION": "Personal budgets and direct payments. Generated from the code; the contract is api.md.",
    "VERSION": "1",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "InvoiceStatusEnum": "invoicing.models.InvoiceStatus.choices",
        "PlanVersionStatusEnum": "plans.models.PlanVersionStatus.choices",
        "StatementKindEnum": "statements.models.StatementKind.choices",
        "StatementRunStatusEnum": "statements.models.RunStatus.choices",
        "PaymentRunStatusEnum": "payments.models.PaymentRunStatus.choices",
        "PaymentStatusEnum": "payments.models.PaymentStatus.choices",
        "BacsFileStatusEnum": "payments.models.BacsFileStatus.choices",
        "ReclaimStatusEnum": "payments.models.ReclaimStatus.choices",
        "ReconciliationAccountKindEnum": "ledger.reconciliation.models.ReconciliationAccountKind.choices",
        "StatementImportStatusEnum": "ledger.reconciliation.models.ImportStatus.choices",
        "StatementLineStateEnum": "ledger.reconciliation.models.LineState.choices",
        "ReconciliationMatchStatusEnum": "ledger.reconciliation.models.MatchStatus.choices",
        "ReconciliationMatchHowEnum": "ledger.reconciliation.models.MatchHow.choices",
        "StatementFormatEnum": "ledger.reconciliation.statement_files.FORMATS",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # WeasyPrint reports every layout step at INFO; its warnings (a resource refused, say) still show.
    "loggers": {"weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},
}

# Payments. Stripe Connect pays providers who have a connected account; without STRIPE_SECRET_KEY (as on the
# demo) Stripe payouts are switched off and the Bacs file still pays providers by bank transfer.
# STRIPE_API_BASE points the SDK somewhere else than api.stripe.com (the tests' local double).
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")
# The council's account that Bacs files pay from, and its Bacs service user number (SUN).
BACS_SERVICE_USER_NUMBER = os.environ.get("BACS_SERVICE_USER_NUMBER", "999999" if DEBUG else "")
BACS_SORT_CODE = os.environ.get("BACS_SORT_CODE", "404040" if DEBUG else "")
BACS_ACCOUNT_NUMBER = os.environ.get("BACS_ACCOUNT_NUMBER", "12345678" if DEBUG else "")
BACS_ACCOUNT_NAME = os.environ.get("BACS_ACCOUNT_NAME", "PURSE DEMO COUNCIL" if DEBUG else "")
# Who is told when a payment fails or is reversed (besides the warning on the finance pages).
PAYMENTS_WARNING_EMAILS = env_list("PAYMENTS_WARNING_EMAILS", [])

# Reconciliation: how many working days apart a bank line and a ledger transaction of the same amount may be
# for the amount-and-date pass; how many lines an import matches at once (one database transaction each);
# imports of more lines than RECONCILIATION_SYNC_LINES are matched on Celery, with progress.
RECONCILIATION_DATE_WINDOW_WORKING_DAYS = env_int("RECONCILIATION_DATE_WINDOW_WORKING_DAYS", 3)
RECONCILIATION_BATCH_LINES = env_int("RECONCILIATION_BATCH_LINES", 5000)
RECONCILIATION_SYNC_LINES = env_int("RECONCILIATION_SYNC_LINES", 2000)

# Background work (statement runs, reconciliation imports, payment batches) on Celery. With no broker, as on
# the embedded default, tasks run eagerly in the process that asks for them; a council sets
# CELERY_BROKER_URL (Redis) and runs `celery -A config worker`, and adds workers rather than code.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A task is acknowledged once it has run, so a worker that dies mid-task leaves it to be run again; tasks
# are written to be idempotent for that reason. One task at a time per worker process keeps that fair.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 30 * 60)
CELERY_TIMEZONE = TIME_ZONE
