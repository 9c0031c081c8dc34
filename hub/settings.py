"""Django settings for Modelhub, read from the environment (see the README's table).

Two shapes from one file: the embedded default (SQLite, filesystem blobs, in-process
tasks, state under ``MODELHUB_VAR``) and production (``MODELHUB_MODE=production``:
PostgreSQL, Redis, S3, secure cookies and HSTS, a required ``SECRET_KEY``).
"""

from __future__ import annotations

import os

import dj_database_url

from hub.config import (
    ConfigError,
    env_bool,
    env_int,
    env_interval,
    env_list,
    env_seconds,
    redis_cache,
    secret_key,
    var_dir,
)

MODELHUB_MODE = os.environ.get("MODELHUB_MODE", "embedded").strip().lower()
if MODELHUB_MODE not in {"embedded", "production"}:
    raise ConfigError(f"MODELHUB_MODE={MODELHUB_MODE!r}: use 'embedded' (default) or 'production'")
PRODUCTION = MODELHUB_MODE == "production"

MODELHUB_VAR = var_dir()
SECRET_KEY = secret_key(MODELHUB_VAR, PRODUCTION)
DEBUG = env_bool("DEBUG", default=False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "hub",
    "licenses",
    "workers",
    "frontend",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "hub.errors_http.ApiErrorsAsJson",
    "hub.errors_http.DatabaseUnavailablePage",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

# Content-Security-Policy (django-csp) on the site's pages: a second line behind the card sanitiser
# (nh3). Scripts and styles only from this origin; style *attributes* carry CSS variables (class
# colours), hence style-src-attr 'unsafe-inline'; images from any https host, because model cards
# embed badges and figures as on the Hub (which lets a card's author see its readers' addresses, as
# there). The admin and the Swagger page (inline scripts of their own) are left out.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/admin/", "/api/v1/docs"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "https:", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

ROOT_URLCONF = "hub.urls"
WSGI_APPLICATION = "hub.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{MODELHUB_VAR / 'modelhub.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60 if PRODUCTION else 0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets the web process read while a task writes; the timeout rides out short locks.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
elif DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # libpq waits for ever on a server that accepts nothing and refuses nothing (firewalled, host gone,
    # a hung postmaster): every request and /readyz would hang until gunicorn kills the worker (30 s,
    # an HTML 500) and Celery tasks for good. ``?connect_timeout=`` in DATABASE_URL still wins.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5)
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: broker, results and cache when configured; in-process otherwise --------------
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
# Seconds any Redis call may wait (connect, or a reply): cache, broker, results, /readyz. Redis
# answers in milliseconds; this only bounds one that stopped answering without closing sockets.
REDIS_TIMEOUT = env_seconds("MODELHUB_REDIS_TIMEOUT", 3.0)
if REDIS_URL:
    CACHES = {"default": redis_cache(REDIS_URL, REDIS_TIMEOUT)}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# hub.cache logs one warning per outage window itself; django-redis would log a traceback per call
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = False

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = env_bool("MODELHUB_TASKS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
# Nothing reads task results (outcomes are rows: RevisionAnalysis, MirrorRun), and asking for one
# made every send subscribe to the result backend first, so a Redis outage failed the send there
# after ~19 s of reconnects (docs/RELIABILITY.md). Errors are still stored for operators.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_STORE_ERRORS_EVEN_IF_IGNORED = True
CELERY_REDIS_SOCKET_TIMEOUT = REDIS_TIMEOUT
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = REDIS_TIMEOUT
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_TIMEOUT
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE: dict = {}
# Beat's record of when each entry last ran, under MODELHUB_VAR rather than in the working directory
# (a checkout, or a read-only/throw-away directory in a container). Without it beat counts every
# interval from its own start, so a beat restarted more often than MODELHUB_GC_EVERY never collects.
CELERY_BEAT_SCHEDULE_FILENAME = str(MODELHUB_VAR / "celerybeat-schedule")


# Every beat interval is read by env_interval: 0 (or less) leaves the entry out; beat took 0 literally
# and sent the entry without pause.
def _beat(entry: str, task: str, variable: str, default: float) -> None:
    every = env_interval(variable, default)
    if every is not None:
        CELERY_BEAT_SCHEDULE[entry] = {"task": task, "schedule": every}


# Analyses whose message was lost while the broker was down (hub/tasks.py; docs/RELIABILITY.md).
_beat("requeue-pending-analyses", "hub.requeue_pending_analyses", "MODELHUB_REQUEUE_EVERY", 300)
# Follow-up work (re-judging descendants, notifications …) whose send failed after its commit:
# the task outbox (workers/enqueue.py; docs/RELIABILITY.md).
_beat("send-outbox", "workers.send_outbox", "MODELHUB_OUTBOX_EVERY", 60)

# Analyses made by an older engine or knowledge base (hub/services/reanalysis.py; docs/operations.md):
# beat re-sends at most MODELHUB_REANALYSE_BATCH of them every MODELHUB_REANALYSE_EVERY seconds, and
# only while the queue is empty. 0 turns it off (``manage.py reanalyse`` still works).
REANALYSE_BATCH = env_int("MODELHUB_REANALYSE_BATCH", 200)
if REANALYSE_BATCH < 0:  # a negative slice made every sweep fail ("Negative indexing is not supported")
    raise ConfigError(f"MODELHUB_REANALYSE_BATCH={REANALYSE_BATCH} must be 0 or more")
_beat("reanalyse-stale", "hub.reanalyse_stale", "MODELHUB_REANALYSE_EVERY", 600)

# Garbage collection (hub/services/garbage.py; docs/hub-api.md "Storage reclamation"): content no revision references
# and abandoned uploads, once older than MODELHUB_GC_GRACE seconds. MODELHUB_GC_EVERY=0 turns the
# scheduled run off (``manage.py blobstore gc`` still works).
GC_GRACE = env_int("MODELHUB_GC_GRACE", 86400)
_beat("collect-garbage", "hub.collect_garbage", "MODELHUB_GC_EVERY", 86400)

# --- Mirror workers (workers/mirror/; docs/mirror.md) ------------------------------------
# Beat fires the dispatcher every minute; it starts specs whose interval has passed and
# re-enqueues runs whose worker died. Runs hold a lease renewed every MIRROR_HEARTBEAT s
# and are taken over once it is MIRROR_STALE_AFTER s old. The Redis visibility timeout
# bounds how long an unacked mirror task waits before redelivery after a worker is lost.
_beat("mirror-dispatch", "workers.mirror_dispatch", "MIRROR_DISPATCH_EVERY", 60)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("MODELHUB_BROKER_VISIBILITY_TIMEOUT", 3600),
    # without a socket timeout a publish to a Redis that stopped answering waits for ever (kombu's
    # own advice), and the request that committed before sending it hangs until gunicorn kills it
    "socket_timeout": REDIS_TIMEOUT,
    "socket_connect_timeout": REDIS_TIMEOUT,
    # kombu sweeps for unacked messages every interval × throttle seconds (100 s by default)
    "unacked_restore_interval": env_int("MODELHUB_BROKER_RESTORE_INTERVAL", 10),
    "unacked_restore_throttle": env_int("MODELHUB_BROKER_RESTORE_THROTTLE", 10),
}
MIRROR_PAGE_SIZE = env_int("MIRROR_PAGE_SIZE", 500)  # listing page size (the Hub caps it at 1000)
MIRROR_MAX_CONCURRENCY = env_int("MIRROR_MAX_CONCURRENCY", 4)  # default when a spec does not say
MIRROR_TIMEOUT = float(os.environ.get("MIRROR_TIMEOUT", "30"))  # seconds per upstream request
MIRROR_MAX_ATTEMPTS = env_int("MIRROR_MAX_ATTEMPTS", 6)  # per request, 429/5xx/timeouts included
MIRROR_BACKOFF_BASE = float(os.environ.get("MIRROR_BACKOFF_BASE", "0.5"))  # seconds, doubled per attempt
MIRROR_BACKOFF_MAX = float(os.environ.get("MIRROR_BACKOFF_MAX", "30"))
MIRROR_MAX_RETRY_AFTER = float(os.environ.get("MIRROR_MAX_RETRY_AFTER", "300"))  # longer waits fail the repo
MIRROR_SMALL_FILE_MAX = env_int("MIRROR_SMALL_FILE_MAX", 5 * 1024**2)  # "small" files: configs, licences
MIRROR_DESCENDANT_DEPTH = env_int("MIRROR_DESCENDANT_DEPTH", 3)  # base_model: generations followed
MIRROR_HEARTBEAT = float(os.environ.get("MIRROR_HEARTBEAT", "5"))
MIRROR_STALE_AFTER = env_int("MIRROR_STALE_AFTER", 120)
# A run still queued, never picked up, this long after it was created lost its message (a Redis
# restarted without persistence): the dispatcher sends it again (workers/tasks.py).
MIRROR_QUEUED_RESCUE_AFTER = env_int("MIRROR_QUEUED_RESCUE_AFTER", 900)

# --- Blob store -----------------------------------------------------------------------
BLOB_STORE = os.environ.get("BLOB_STORE", "filesystem").strip().lower()
BLOB_ROOT = MODELHUB_VAR / "blobs"
# How the filesystem store makes a batch of small blobs durable (the mirror's READMEs): one syncfs(2)
# per batch, or an fsync per file and directory when the blob root shares a busy disk with other work.
BLOB_FS_SYNC = os.environ.get("BLOB_FS_SYNC", "syncfs").strip().lower()
if BLOB_FS_SYNC not in {"syncfs", "fsync"}:
    raise ConfigError(f"BLOB_FS_SYNC={BLOB_FS_SYNC!r}: use 'syncfs' (default) or 'fsync'")
S3_ENDPOINT_URL = os.environ.get("S3_ENDPOINT_URL") or None
S3_BUCKET = os.environ.get("S3_BUCKET", "")
S3_REGION = os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1"
S3_PRESIGN_SECONDS = env_int("S3_PRESIGN_SECONDS", 900)
# Part size advertised to LFS clients for multipart uploads to S3 (huggingface_hub PUTs the parts one
# after another; S3 needs >= 5 MiB per part and at most 10,000 parts).
MODELHUB_LFS_CHUNK_SIZE = env_int("MODELHUB_LFS_CHUNK_SIZE", 64 * 1024**2)
if not 5 * 1024**2 <= MODELHUB_LFS_CHUNK_SIZE <= 5 * 1024**3:
    raise ConfigError(f"MODELHUB_LFS_CHUNK_SIZE={MODELHUB_LFS_CHUNK_SIZE}: S3 parts must be 5 MiB to 5 GiB")
# A stalled S3 must answer 503 before gunicorn's worker timeout (30 s) kills the request:
# attempts × (connect + read) stays under it with these defaults (2 × 13 s).
S3_CONNECT_TIMEOUT = float(os.environ.get("S3_CONNECT_TIMEOUT", "3"))
S3_READ_TIMEOUT = float(os.environ.get("S3_READ_TIMEOUT", "10"))
S3_MAX_ATTEMPTS = env_int("S3_MAX_ATTEMPTS", 2)
if BLOB_STORE not in {"filesystem", "s3"}:
    raise ConfigError(f"BLOB_STORE={BLOB_STORE!r}: use 'filesystem' (default) or 's3'")
if BLOB_STORE == "s3" and not S3_BUCKET:
    raise ConfigError("BLOB_STORE=s3 needs S3_BUCKET (and S3_ENDPOINT_URL for MinIO/Ceph)")

# Upload caps (bytes). A commit over the per-commit cap is refused whole.
MAX_FILE_SIZE = env_int("MODELHUB_MAX_FILE_SIZE", 50 * 1024**3)
MAX_COMMIT_SIZE = env_int("MODELHUB_MAX_COMMIT_SIZE", 200 * 1024**3)
MAX_INLINE_FILE_SIZE = env_int("MODELHUB_MAX_INLINE_FILE_SIZE", 10 * 1024**2)

# --- Static files, i18n -----------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = MODELHUB_VAR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise scans it at start-up, even before collectstatic
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# An embedded instance serves the apps' static files straight from their folders, with or without
# DEBUG (scripts/serve.sh runs without it; nothing has run collectstatic there); production
# serves the collected, hashed copies only.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG and not PRODUCTION
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
LOGIN_URL = "/login"
LOGIN_REDIRECT_URL = "/"
# Passwords set through the admin, ``createsuperuser``, ``changepassword`` and /settings/password are
# checked (Django's project template has these; without them "1" was accepted everywhere).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env_int("MODELHUB_PASSWORD_MIN_LENGTH", 10)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- REST framework ---------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_PAGINATION_CLASS": "hub.api.drf.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_PARSER_CLASSES": ["hub.api.drf.JSONBodyParser"],
    # One error body for the whole native API: {"error": {"code", "message", "detail"}}.
    "EXCEPTION_HANDLER": "licenses.api.errors.api_exception_handler",
}
MODELHUB_API_RATE = os.environ.get("MODELHUB_API_RATE", "1200/min")
# How many reverse proxies stand in front of the web processes, each appending to X-Forwarded-For.
# The API's throttles and the sign-in throttle take the client's address from there (the N-th entry
# from the end, which the outermost proxy wrote) only when this says so: DRF's default read the
# whole header, so a client sending its own X-Forwarded-For got a fresh bucket per request.
TRUSTED_PROXIES = env_int("MODELHUB_TRUSTED_PROXIES", 0)
if TRUSTED_PROXIES < 0:
    raise ConfigError(f"MODELHUB_TRUSTED_PROXIES={TRUSTED_PROXIES} must be 0 or more")
REST_FRAMEWORK["NUM_PROXIES"] = TRUSTED_PROXIES
# Sign-in throttle (hub/signin.py): attempts that may fail per account name and per client address
# within a window of MODELHUB_LOGIN_WINDOW seconds (0: no limit of that kind).
MODELHUB_LOGIN_ACCOUNT_FAILURES = env_int("MODELHUB_LOGIN_ACCOUNT_FAILURES", 10)
MODELHUB_LOGIN_ADDRESS_FAILURES = env_int("MODELHUB_LOGIN_ADDRESS_FAILURES", 50)
MODELHUB_LOGIN_WINDOW = env_int("MODELHUB_LOGIN_WINDOW", 900)
for _name in ("MODELHUB_LOGIN_ACCOUNT_FAILURES", "MODELHUB_LOGIN_ADDRESS_FAILURES"):
    if globals()[_name] < 0:
        raise ConfigError(f"{_name}={globals()[_name]} must be 0 (no limit) or more")
if MODELHUB_LOGIN_WINDOW < 1:
    raise ConfigError(f"MODELHUB_LOGIN_WINDOW={MODELHUB_LOGIN_WINDOW} must be at least 1 second")
MODELHUB_NOTIFY_WEBHOOK = os.environ.get("MODELHUB_NOTIFY_WEBHOOK", "")
MODELHUB_NOTIFY_EMAILS = env_list("MODELHUB_NOTIFY_EMAILS", [])
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
# Seconds an SMTP connect/read may take. Django's default is no timeout at all: a relay that accepts
# the connection and never answers held the notification task (in-process: the commit request
# that found the violation) for ever.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "modelhub@localhost")
# An organisation's relay (port 587 with STARTTLS, or 465 with TLS) wants credentials; without these
# the only relay the notification e-mails could use was an open one.
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if os.environ.get("EMAIL_FILE_PATH"):  # django.core.mail.backends.filebased.EmailBackend writes here
    EMAIL_FILE_PATH = os.environ["EMAIL_FILE_PATH"]
SPECTACULAR_SETTINGS = {
    "TITLE": "Modelhub API",
    "DESCRIPTION": "Repositories, licence analysis, compliance checks and AI-BOMs.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # the default hook, then every operation's error responses in the one error body
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "hub.api.schema.add_error_responses",
    ],
    # Swagger UI assets from the installed sidecar package: the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "RevisionAnalysisStatusEnum": "hub.models.RevisionAnalysis.Status",
        "AccessRequestStatusEnum": "hub.models.AccessRequest.Status",
        "ViolationStatusEnum": "licenses.models.Violation.Status",
    },
}

# --- Logging: to stderr, never secrets ---------------------------------------------------
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").strip().upper() or "INFO"
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ConfigError(f"LOG_LEVEL={os.environ['LOG_LEVEL']!r}: use DEBUG, INFO, WARNING, ERROR or CRITICAL")
# The HTTP and AWS libraries log credentials at DEBUG: botocore the Authorization header and, for every
# presigned URL, its canonical request and signature (enough to rebuild the URL and download a private
# file), urllib3 every URL with its query string (a webhook's key). LOG_LEVEL=DEBUG is for our own code;
# these stay at INFO at most.
_LIBRARY_LEVEL = "INFO" if LOG_LEVEL == "DEBUG" else LOG_LEVEL
LIBRARY_LOGGERS = (
    "botocore",
    "boto3",
    "s3transfer",
    "urllib3",
    "requests",
    "httpx",
    "httpcore",
    "httpx2",
    "httpcore2",
)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    "loggers": {name: {"level": _LIBRARY_LEVEL} for name in LIBRARY_LOGGERS},
}

# --- Production hardening (checked by `manage.py check --deploy`) ------------------------
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
