"""Settings for every node. Everything that differs between deployments comes from the
environment; the defaults run a development node with no servers at all (SQLite under var/,
a filesystem Celery broker)."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from sharing.env import envbool, envint, envlist, envsecret

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.getenv("VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# "development" (default) or "production". Production refuses unsafe settings at start.
ENVIRONMENT = os.getenv("SANCTIONS_ENV", "development")
if ENVIRONMENT not in {"development", "production"}:
    raise ImproperlyConfigured("SANCTIONS_ENV must be 'development' or 'production'")
PRODUCTION = ENVIRONMENT == "production"

DEBUG = envbool("DEBUG", "false" if PRODUCTION else "true")


def _development_secret_key() -> str:
    # A per-checkout random key kept under var/ (git-ignored), so no secret is ever in the repo.
    path = VAR_DIR / "dev-secret-key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = envsecret("SECRET_KEY") or ("" if PRODUCTION else _development_secret_key())


def check_production_settings(*, debug: bool, secret_key: str, allowed_hosts: list[str]) -> None:
    """Refuse to start a production node with settings that would expose it."""
    problems = []
    if debug:
        problems.append("DEBUG must be off in production")
    if len(secret_key) < 50 or len(set(secret_key)) < 5 or secret_key.startswith("django-insecure"):
        problems.append("SECRET_KEY (or SECRET_KEY_FILE) must be set to a long random value")
    if not allowed_hosts:
        problems.append("ALLOWED_HOSTS must name this node's host names")
    if problems:
        raise ImproperlyConfigured("Refusing to start in production: " + "; ".join(problems))


ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "" if PRODUCTION else "localhost,127.0.0.1,[::1]")
if PRODUCTION:
    check_production_settings(debug=DEBUG, secret_key=SECRET_KEY, allowed_hosts=ALLOWED_HOSTS)

# This node's identity in the federation.
NODE_ID = os.getenv("NODE_ID", "local")
NODE_NAME = os.getenv("NODE_NAME", "Local node")
NODE_BASE_URL = os.getenv("NODE_BASE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "sharing",
    "agencies",
    "designations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "agencies.sign_in.RequireSecondStepMiddleware",
    "sharing.audit.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",  # answers a locked-out sign-in
]

ROOT_URLCONF = "sharing.urls"
WSGI_APPLICATION = "sharing.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sharing.context_processors.node",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / f'{NODE_ID}.sqlite3'}", conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the Celery worker write the same file: WAL lets readers run beside
    # the writer, IMMEDIATE transactions take the write lock up front instead of failing
    # half-way with "database is locked", and the timeout waits for the other writer.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory, so that a real Celery worker started by a test sees the test data.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{NODE_ID}.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "agencies.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked-out account before the password
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"  # the dashboard
LOGOUT_REDIRECT_URL = "login"

# guardian: no anonymous user row; the portal and API require login.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"

# Sign-in: a password, then a code from an authenticator app (agencies.sign_in). Only the
# local demo may do without the code.
REQUIRE_TOTP = envbool("REQUIRE_TOTP", "true")
if PRODUCTION and not REQUIRE_TOTP:
    raise ImproperlyConfigured("REQUIRE_TOTP=false is for the local demo, never production.")
OTP_TOTP_ISSUER = f"Sanctions Exchange ({NODE_NAME})"
# Failed passwords and codes, per account: locked for a while after this many.
AXES_FAILURE_LIMIT = envint("SIGN_IN_FAILURE_LIMIT", "5")
AXES_COOLOFF_TIME = dt.timedelta(minutes=envint("SIGN_IN_LOCKOUT_MINUTES", "15"))
# Per account, not per address: an agency's people often share one egress address, and one
# person's typos must not lock out the whole agency (django-otp also slows code guessing).
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]  # "no ip_address in AXES_LOCKOUT_PARAMETERS": see above
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429  # Too Many Requests
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# A session lasts a working day and ends with the browser.
SESSION_COOKIE_AGE = envint("SESSION_SECONDS", str(8 * 3600))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Security headers and cookies. Secure cookies and HSTS need HTTPS, which production has.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", "31536000")
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "true")
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content Security Policy: same-origin only, no inline script or style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# Celery. The broker only wakes workers; the change log is the source of truth, so the
# filesystem transport's weakness (a message can be lost if a worker dies) costs a delay only.
CELERY_BROKER_URL = os.getenv("CELERY_BROKER_URL", "filesystem://")
_broker_dir = VAR_DIR / "broker" / NODE_ID
if CELERY_BROKER_URL == "filesystem://":
    (_broker_dir / "out").mkdir(parents=True, exist_ok=True)
    (_broker_dir / "processed").mkdir(parents=True, exist_ok=True)
    (_broker_dir / "control").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Kombu's default is ./control, which would litter the checkout.
        "control_folder": str(_broker_dir / "control"),
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / f"celerybeat-{NODE_ID}")
SYNC_PULL_SECONDS = envint("SYNC_PULL_SECONDS", "30")  # also the unit of the pull's backoff
# Published lists this node re-imports on a schedule: a JSON list of {"publisher": "un",
# "location": "https://... or /path/to/file-or-folder", "agency": "UNSC" (optional)}.
LIST_SOURCES = json.loads(os.getenv("LIST_SOURCES", "[]"))
SCREENING_JOB_DAYS = envint("SCREENING_JOB_DAYS", "7")  # batch screening files are kept this long
LIST_DOWNLOAD_MAX_BYTES = envint("LIST_DOWNLOAD_MAX_BYTES", str(500 * 1024 * 1024))
CELERY_BEAT_SCHEDULE = {
    "node-heartbeat": {
        "task": "sharing.tasks.node_heartbeat",
        "schedule": envint("HEARTBEAT_SECONDS", "30"),
    },
    # Pull from every partner (push makes changes arrive sooner; this catches up).
    "sync-pull-all": {
        "task": "sharing.tasks.sync_pull_all",
        "schedule": SYNC_PULL_SECONDS,
    },
    # Compare digests with every partner and repair what push and pull missed.
    "sync-reconcile-all": {
        "task": "sharing.tasks.sync_reconcile_all",
        "schedule": envint("SYNC_RECONCILE_SECONDS", "300"),
    },
    # Link designations of the same subject; imports and sync also queue it.
    "reconcile-subjects": {
        "task": "designations.tasks.reconcile_subjects",
        "schedule": envint("SUBJECT_RECONCILE_SECONDS", "3600"),
    },
    "expire-screening-jobs": {
        "task": "designations.tasks.expire_screening_jobs",
        "schedule": 86400,
    },
}
# Fetch and import the configured published lists (LIST_SOURCES); unchanged files are no-ops.
if LIST_SOURCES:
    CELERY_BEAT_SCHEDULE["reimport-lists"] = {
        "task": "designations.tasks.reimport_lists",
        "schedule": envint("LIST_REIMPORT_SECONDS", "21600"),
    }

REST_FRAMEWORK = {
    # Media types are chosen by Accept alone; a ?format= override would be one more way to
    # reach a renderer and one more parameter for every operation.
    "URL_FORMAT_OVERRIDE": None,
    # Tokens first: an unauthenticated request gets 401 with a WWW-Authenticate challenge.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "sharing.api_auth.ApiClientAuthentication",
        "sharing.api_auth.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["sharing.api_auth.HasScope"],
    "DEFAULT_THROTTLE_CLASSES": ["sharing.api_auth.ClientRateThrottle"],
    # JSON bodies only (files are raw bodies): one unambiguous encoding for partners.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "sharing.api_auth.ProblemJSONRenderer",
    ],
    "EXCEPTION_HANDLER": "sharing.api.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

# Which agency owns imported lists, by publisher (the agency's code).
# The local agency each published list belongs to by default (import_list --agency overrides).
LIST_PUBLISHER_AGENCIES = {
    "un": os.getenv("UN_AGENCY_CODE", "UNSC"),
    "ofac": os.getenv("OFAC_AGENCY_CODE", "OFAC"),
    "eu": os.getenv("EU_AGENCY_CODE", "EU"),
    "uk": os.getenv("UK_AGENCY_CODE", "OFSI"),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        # Sync events as one JSON object per line, for operators' log pipelines.
        "json": {"()": "sharing.log_format.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "console_json": {"class": "logging.StreamHandler", "formatter": "json"},
    },
    "loggers": {
        "sharing.sync": {"handlers": ["console_json"], "level": "INFO", "propagate": False},
    },
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "INFO")},
}

# Where load_demo finds the published lists (the repository's sibling shared/data by default).
DEMO_DATA_DIR = Path(os.getenv("DEMO_DATA_DIR", BASE_DIR.parent / "shared" / "data"))

# Attachments: encrypted at rest (sharing/crypto.py), stored through Django's storage API.
ATTACHMENTS_DIR = Path(os.getenv("ATTACHMENTS_DIR", VAR_DIR / "attachments"))
ATTACHMENTS_DIR.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    # Swap for an S3-compatible backend (django-storages) with ATTACHMENT_STORAGE_BACKEND.
    "attachments": {
        "BACKEND": os.getenv(
            "ATTACHMENT_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage"
        ),
        "OPTIONS": {"location": str(ATTACHMENTS_DIR)}
        if "ATTACHMENT_STORAGE_BACKEND" not in os.environ
        else {},
    },
}
ATTACHMENT_MAX_BYTES = envint("ATTACHMENT_MAX_BYTES", str(4 * 1024**3))
# How far a partner's clock may be from ours: a signed request older (or newer) is refused.
NODE_CLOCK_SKEW_SECONDS = envint("NODE_CLOCK_SKEW_SECONDS", "60")
# Seconds a request to a partner node may take before the run is retried later.
SYNC_HTTP_TIMEOUT = envint("SYNC_HTTP_TIMEOUT", "30")
# A sync run holds its partner's lease this long, renewed per batch (one run per partner).
SYNC_LEASE_SECONDS = envint("SYNC_LEASE_SECONDS", "120")
# This node's private Ed25519 (signing) and X25519 (key exchange) keys; `node init` writes it.
NODE_KEY_FILE = Path(os.getenv("NODE_KEY_FILE", VAR_DIR / f"node-{NODE_ID}.key.json"))
ATTACHMENT_KEYRING_FILE = Path(os.getenv("ATTACHMENT_KEYRING_FILE", VAR_DIR / "keyring.json"))
# Only the in-memory handler for ordinary uploads: Django's default would spool uploads over
# 2.5 MB to a plaintext temporary file. Attachment views install the encrypting handler.
FILE_UPLOAD_HANDLERS = ["django.core.files.uploadhandler.MemoryFileUploadHandler"]

# API rate per client (or person), e.g. "600/minute". Counters live in the cache: a local
# memory cache per process by default, Redis (CACHE_URL=redis://...) to share them.
API_RATE = os.getenv("API_RATE", "600/minute")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ["CACHE_URL"],
    }
    if os.getenv("CACHE_URL")
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Sanctions Exchange API",
    "DESCRIPTION": (
        "Designations, notes and attachments shared between sanctions authorities. Every read "
        "returns only what the caller's agency may see; objects one may not see answer 404. "
        "Errors are RFC 9457 problem details (application/problem+json)."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Fields named "kind" and "status" mean different things on designations and proposals.
    "ENUM_NAME_OVERRIDES": {
        "SubjectKindEnum": "designations.models.SubjectKind",
        "DesignationStatusEnum": "designations.models.DesignationStatus",
        "ProposalKindEnum": "designations.models.ProposalKind",
        "ProposalStatusEnum": "designations.models.ProposalStatus",
        "IdentifierKindEnum": "designations.models.IdentifierKind",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "designations.api_schema.split_problem_media_types",
    ],
}
