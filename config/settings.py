"""Settings for the merchant-compliance back-office.

Everything that differs between machines is an environment variable with a safe
development default (cookiecutter-django style). Production mode is
``DJANGO_DEBUG=false``: it then insists on a real secret key and host names, and
turns on every transport-security setting that ``check --deploy`` asks for.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# Demo data (seed_demo) and other development conveniences exist only outside
# production mode; decided from the environment, not from the runtime DEBUG flag
# that the test runner switches off.
PRODUCTION = not DEBUG

_DEV_SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
if PRODUCTION and (not SECRET_KEY or SECRET_KEY == _DEV_SECRET_KEY):
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is false.")

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"] if DEBUG else []
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set when DJANGO_DEBUG is false.")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "compliance.apps.ComplianceAdminConfig",  # django.contrib.admin with the dashboard
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "csp",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "shops",
    # Before django_tasks_db: its db_worker command is ours (heartbeats, a
    # killed worker's task run again; compliance/worker.py).
    "compliance",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.middleware.RequestSizeLimitMiddleware",
    "config.middleware.NulCharacterMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "compliance.portal.middleware.RoleRoutingMiddleware",
    # AxesMiddleware must come last: it turns a lock-out into its response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=0)
# PgBouncer in transaction-pooling mode: leave server-side cursors on — the
# export streams inside a transaction, where they work through the pooler —
# unless the pooler is set up otherwise (docs/SCALING.md).
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool("DJANGO_DISABLE_SERVER_SIDE_CURSORS", default=False)
if env.str("DATABASE_REPLICA_URL", default=""):
    # Read-only heavy work goes here (config/db_router.py); tests mirror the primary.
    DATABASES["replica"] = {**env.db("DATABASE_REPLICA_URL"), "TEST": {"MIRROR": "default"},
                            "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"]}
DATABASE_ROUTERS = ["config.db_router.ReplicaRouter"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A worker is another process: on SQLite it reaches the database only
    # through a file, tests' databases included (tests/worker.py), and it
    # waits for the web server's writes instead of failing at once.
    # BEGIN IMMEDIATE: a transaction takes the write lock when it starts and
    # others wait their turn, instead of two readers deadlocking when both
    # then write ("database is locked").
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
    DATABASES["default"]["TEST"] = {"NAME": env.str("SQLITE_TEST_NAME", default=str(BASE_DIR / "var" / "test.sqlite3"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses locked-out credentials before any password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-axes: five failed logins for one username from one address lock that
# pair out for an hour (README, "Log-in lock-out").
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(hours=env.float("AXES_COOLOFF_HOURS", default=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
AXES_VERBOSE = False

LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"  # staff who log in there are routed on to the admin

# Internationalisation: Simplified Chinese first, English switchable.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
FORMAT_MODULE_PATH = ["config.formats"]  # one date-time format: 2026-11-22 20:49
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Development serves straight from the apps' static folders; production serves
# the collected, compressed and hashed files (whitenoise).
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# Uploaded documents (ID-card images, certificates, evidence) are personal data:
# they live outside any public path and are only ever served through views that
# check permissions. There is deliberately no MEDIA_URL for them.
# Whole request bodies above this are refused (413) before they are read.
MAX_REQUEST_BYTES = env.int("DJANGO_MAX_REQUEST_MB", default=50) * 1_000_000  # MB = 10^6 bytes, as in every message
PRIVATE_MEDIA_ROOT = env.path("DJANGO_PRIVATE_MEDIA_ROOT", default=BASE_DIR / "var" / "private")

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Admin changelists: above this many rows an unfiltered PostgreSQL changelist
# shows the planner's estimate instead of counting (shops.admin_base).
ADMIN_ESTIMATED_COUNT_THRESHOLD = env.int("ADMIN_ESTIMATED_COUNT_THRESHOLD", default=100_000)
# Links in e-mails to merchants point here (the portal's public address).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# The dashboard's 30-day chart is recomputed at most this often (per process).
DASHBOARD_CHART_SECONDS = env.int("DASHBOARD_CHART_SECONDS", default=60)
# A filtered admin list counts at most this many rows and then says "1,000+".
ADMIN_COUNT_CAP = env.int("ADMIN_COUNT_CAP", default=1000)

# Background work (SPEC §10): the Django Tasks API on the database's own
# queue. Workers are `manage.py db_worker` (compliance/worker.py), any number
# on any number of hosts; docs/SCALING.md says when to move to a broker.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "mail", "daily", "jobs", "events", "webhooks"]}}
# A worker writes a heartbeat this often; one silent for WORKER_LEASE_SECONDS
# is taken for dead and the task it was running is run again by another.
WORKER_BEAT_SECONDS = env.float("WORKER_BEAT_SECONDS", default=5)
WORKER_LEASE_SECONDS = env.float("WORKER_LEASE_SECONDS", default=60)
# Workers keep their database connection this long (seconds; web processes
# follow DJANGO_CONN_MAX_AGE).
WORKER_CONN_MAX_AGE = env.int("WORKER_CONN_MAX_AGE", default=600)
# PostgreSQL's JIT for workers' queries (off: docs/SCALING.md).
WORKER_JIT = env.bool("WORKER_JIT", default=False)
# A task draining a queue (e-mail, the events relay, webhook deliveries) works
# this long at most before it queues another for the rest and makes way
# (compliance.queueing.Share): other queues are served in between, and a
# worker asked to stop stops within about this much.
TASK_SHARE_SECONDS = env.float("TASK_SHARE_SECONDS", default=5)
# A process that saw the relay's or the e-mail's task waiting does not ask
# again for this long (compliance.queueing.wake: a statement a ticket).
WAKE_COALESCE_SECONDS = env.float("WAKE_COALESCE_SECONDS", default=0.25)
# The daily job's steps are split into this many shards of shops, each a task.
DAILY_SHARDS = env.int("DAILY_SHARDS", default=4)
# The daily missing-certificate check reads every product on sale on this
# weekday (0 = Monday, Shanghai) and when no earlier run has finished; on the
# other days only the shops changed since the last run (services.daily).
DAILY_FULL_GAP_CHECK_WEEKDAY = env.int("DAILY_FULL_GAP_CHECK_WEEKDAY", default=0)
# Rows a daily step changes in one transaction, and a pause between two such
# batches (milliseconds) to give a busy primary and its replicas air.
DAILY_BATCH = env.int("DAILY_BATCH", default=2000)
DAILY_BATCH_PAUSE_MS = env.int("DAILY_BATCH_PAUSE_MS", default=0)
# An outbox e-mail is handed to the mail server at most this long before a
# worker that took it is thought dead and another sends it again.
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=120)
# Webhook deliveries a worker POSTs side by side (a batch of 50, 10 s each at
# most: 50 s within the lease above), each to a different shop's stream.
WEBHOOK_THREADS = env.int("WEBHOOK_THREADS", default=10)
# Webhook receivers (SPEC §13) on this machine or a private network: allowed
# in development, refused in production unless this says otherwise (an
# internal receiver behind the firewall). Checked when a URL is saved and
# again at every delivery (compliance.webhooks).
WEBHOOK_ALLOW_PRIVATE_URLS = env.bool("DJANGO_WEBHOOK_ALLOW_PRIVATE_URLS", default=DEBUG)
# An export of more rows than this is written by a job, not streamed in the request.
EXPORT_IN_REQUEST_ROWS = env.int("EXPORT_IN_REQUEST_ROWS", default=10_000)
# A bulk preview or decision of more items than this (warnings, missing-certificate products) is a job.
BULK_IN_REQUEST_ITEMS = env.int("BULK_IN_REQUEST_ITEMS", default=20)

# E-mail: console in development, SMTP via EMAIL_URL (smtp+tls://user:pass@host:587).
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="compliance@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Security. Development keeps plain HTTP; production turns everything on.
# The integration API (SPEC §12, compliance/api/).
API_REQUESTS_PER_MINUTE = env.int("API_REQUESTS_PER_MINUTE", default=600)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["compliance.api.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["compliance.api.auth.HasScope"],
    "DEFAULT_THROTTLE_CLASSES": ["compliance.api.auth.PerKeyRateLimit"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON within the API's size and nesting limits (compliance/api/limits.py).
    "DEFAULT_PARSER_CLASSES": ["compliance.api.parsers.JSONBodyParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "compliance.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Merchant compliance API",
    "DESCRIPTION": "Detectors submit violation warnings; the platform's services read shops' standing and "
                   "tickets and send daily orders and experience scores (SPEC §11, §12). Authenticate with "
                   "`Authorization: Bearer <key>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # A webhook subscription's two visible statuses, one enum for its two shapes.
    "ENUM_NAME_OVERRIDES": {"WebhookStatusEnum": ["active", "paused"],
                            "EventTypeEnum": "compliance.models.webhooks.EVENT_TYPES"},
}

CSRF_FAILURE_VIEW = "config.views.csrf_failure"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp) on every page: scripts only from our own
# static files, never inline; no plugins; no framing by others. Inline style
# attributes (progress bars, Django's admin) are allowed: they cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "frame-src": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
    },
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
}
