"""Endrpi settings: one module, driven by ``ENDRPI_*`` environment variables.

Every default is the embedded one a Pi owner gets from ``scripts/serve``: SQLite under
``ENDRPI_DATA_DIR``, the in-memory channel layer and simulated GPIO off a Raspberry Pi.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from endrpi_project.env import (
    SettingError,
    env_bool,
    env_choice,
    env_float,
    env_host,
    env_host_patterns,
    env_int,
    env_list,
    env_path,
    env_port,
    env_str,
    env_url,
    env_writable,
    sqlite_database,
    sqlite_read_only_reason,
)

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = env_path("ENDRPI_DATA_DIR", BASE_DIR / "var")

DEBUG = env_bool("ENDRPI_DEBUG", False)


def _secret_key() -> str:
    """Use ``ENDRPI_SECRET_KEY``, else a random key kept in the data directory across restarts."""
    configured = env_str("ENDRPI_SECRET_KEY", "")
    if configured:
        return configured
    key_file = DATA_DIR / "secret_key"
    try:
        return key_file.read_text().strip()
    except FileNotFoundError:
        env_writable("ENDRPI_DATA_DIR", key_file, what="its secret_key file (or set ENDRPI_SECRET_KEY)")
        key = secrets.token_urlsafe(50)
        try:
            key_file.write_text(key)
            key_file.chmod(0o600)
        except OSError as error:
            raise SettingError(
                f"ENDRPI_DATA_DIR must be a directory the server can write; cannot create {key_file} "
                f"({error.strerror}), or set ENDRPI_SECRET_KEY"
            ) from None
        return key
    except OSError as error:
        raise SettingError(
            f"ENDRPI_DATA_DIR must be a directory the server can read and write; cannot read {key_file} "
            f"({error.strerror})"
        ) from None


SECRET_KEY = _secret_key()

# The names the server answers to besides IP addresses, localhost and this machine's own name (with
# and without .local), which always work: Endrpi's host rule (endrpi_project.access.origins) applies
# them to HTTP and WebSocket alike and refuses any other name (DNS rebinding). Django's own check is
# left open because it cannot say "any IP address".
ENDRPI_ALLOWED_HOSTS = env_host_patterns("ENDRPI_ALLOWED_HOSTS", [])
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Wiring (system checks), then from the bottom layer up: access, the apps, the pages.
    "endrpi_project.apps.EndrpiConfig",
    "endrpi_project.access",
    "system",
    "pins",
    "system.sensors",
    "endrpi_project.history",
    "endrpi_project.metrics",
    "endrpi_project.mqtt",
    "endrpi_project.pages",
    "endrpi_project.doctor",
]

MIDDLEWARE = [
    "endrpi_project.api.errors.JsonErrorMiddleware",
    "endrpi_project.access.origins.HostMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "endrpi_project.http.static.StaticFilesMiddleware",
    "endrpi_project.metrics.middleware.RequestTallyMiddleware",
    "endrpi_project.access.origins.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "endrpi_project.urls"
CSRF_FAILURE_VIEW = "endrpi_project.api.errors.csrf_failure"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Overrides of other apps' templates (the admin's and the browsable API's header, in the
        # dashboard's look): found before every app's own templates, whatever INSTALLED_APPS' order.
        "DIRS": [BASE_DIR / "endrpi_project" / "pages" / "overrides"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "endrpi_project.pages.context.navigation",
            ],
        },
    },
]

ASGI_APPLICATION = "endrpi_project.asgi.application"

DATABASE_PATH = env_path("ENDRPI_DATABASE_PATH", DATA_DIR / "endrpi.sqlite3")
# The setting a message about the database's file names (the one the owner set, else the data directory).
DATABASE_SETTING = "ENDRPI_DATABASE_PATH" if env_str("ENDRPI_DATABASE_PATH", "").strip() else "ENDRPI_DATA_DIR"
# A database that does not exist must be creatable.
env_writable(DATABASE_SETTING, DATABASE_PATH, what="the database")
# A database that exists but cannot be written (an SD card remounted read-only) is opened read-only:
# reads keep working, and a change is refused with a 503 naming this reason (api.errors).
DATABASE_READ_ONLY = sqlite_read_only_reason(DATABASE_PATH)
DATABASES = {"default": sqlite_database(DATABASE_PATH, read_only=DATABASE_READ_ONLY is not None)}

# Passive messages fan out through groups of this layer. In memory by default (one process); a
# Redis layer (channels_redis) can replace it here without code changes. A connection's channel
# holds at most ``capacity`` undelivered messages (beyond that the layer drops them, and the
# client is told: see endrpi_project.push) and a message waits at most ``expiry`` seconds.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels.layers.InMemoryChannelLayer",
        "CONFIG": {"capacity": env_int("ENDRPI_CHANNEL_CAPACITY", 500, minimum=10), "expiry": 60},
    }
}
# Passive messages waiting to be sent to one client before they are folded, one per topic, into
# the latest state (a slow client gets MESSAGES_DROPPED instead of growing the server's memory).
ENDRPI_PUSH_QUEUE = env_int("ENDRPI_PUSH_QUEUE", 100, minimum=1, maximum=100_000)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Static files (dashboard, admin, browsable API, Swagger UI) are served by the server itself with
# WhiteNoise, DEBUG or not. ``scripts/serve`` collects them into STATIC_ROOT (compressed, cacheable);
# files not collected yet are still found in the apps, so a fresh checkout works without that step.
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["endrpi_project.api.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["endrpi_project.access.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["endrpi_project.access.authentication.EndrpiAccess"],
    # Pin updates per client address and for the whole server (endrpi_project.access.limits).
    "DEFAULT_THROTTLE_CLASSES": ["endrpi_project.access.limits.RestWriteThrottle"],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "endrpi_project.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

# The OpenAPI schema at /api/schema and Swagger UI at /docs, with Swagger's assets served locally.
SPECTACULAR_SETTINGS = {
    "TITLE": "Endrpi",
    "DESCRIPTION": (
        'Raspberry Pi health and GPIO over REST. Every error is a `Message` body: `{"message": "..."}`.\n\n'
        "The same readings and pin updates are available with lower latency over the "
        "[WebSocket API](/docs/websocket) at `ws://<host>:<port>/`. The [dashboard](/) uses it."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "endrpi_project.api.schema.strip_optional_slash",
        "endrpi_project.access.schema.drop_unused_security_schemes",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # Access tokens never reach the log, wherever a record comes from (a ?token= in a URL, say).
    "filters": {"redact": {"()": "endrpi_project.access.redaction.RedactSecretsFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}},
    "root": {
        "handlers": ["console"],
        "level": env_choice("ENDRPI_LOG_LEVEL", "INFO", ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]),
    },
}

# daphne's access log, a line per request, for debugging (``scripts/serve --verbose``); off by default
# under ``manage.py endrpi_serve`` (scripts/serve and the service). Plain daphne decides for itself.
ENDRPI_ACCESS_LOG = env_bool("ENDRPI_ACCESS_LOG", False)

# --- Endrpi hardware -----------------------------------------------------------------------------

# Every file Endrpi reads from /sys, /proc and /dev is looked up below this root, so tests (and a
# container with the host's trees mounted elsewhere) can point it at another directory.
ENDRPI_HOST_ROOT = env_path("ENDRPI_HOST_ROOT", Path("/"))

# The firmware's command-line client, found on PATH unless a full path is given, and how long one
# call may take before the reading fails.
ENDRPI_VCGENCMD = env_str("ENDRPI_VCGENCMD", "vcgencmd")
ENDRPI_FIRMWARE_TIMEOUT = env_float("ENDRPI_FIRMWARE_TIMEOUT", 2.0, minimum=0.01)

# GPIO: "auto" drives the real pins on a Raspberry Pi and simulates them elsewhere; "mock" always
# simulates; "real" refuses to start without real GPIO.
ENDRPI_GPIO = env_choice("ENDRPI_GPIO", "auto", ["auto", "mock", "real"])
# The PWM frequency used when an output pin is given a duty cycle between 0 and 1. Its range is lgpio's
# (0.1 to 10,000 Hz), checked at start-up by the pins app (pins.rules), where that rule lives.
ENDRPI_PWM_FREQUENCY = env_float("ENDRPI_PWM_FREQUENCY", 100.0)

# --- Endrpi security (see docs/security.md) ------------------------------------------------------

# Where scripts/serve binds daphne; only used to warn at start-up when an open server is reachable
# from other machines (empty when the server was started some other way, which is warned about too).
# Checked here so that scripts/serve's first step (manage.py migrate) refuses a bad value by name.
ENDRPI_HOST = env_host("ENDRPI_HOST", "")
ENDRPI_PORT = env_port("ENDRPI_PORT", 5000)
# Access tokens: "off" (anyone on the network may read and drive pins), "write" (reads are open, pin
# updates need a read-write token) or "all" (every request needs a token).
ENDRPI_AUTH = env_choice("ENDRPI_AUTH", "off", ["off", "write", "all"])
# Other web origins (scheme://host[:port]) whose pages may use the WebSocket and, through CORS, the
# REST API. A page served by Endrpi itself is always allowed; clients that send no Origin are too.
ENDRPI_ALLOWED_ORIGINS = env_list("ENDRPI_ALLOWED_ORIGINS", [])
# WebSocket limits, per connection: the largest message answered (daphne itself closes the connection
# above its own 1 MiB limit), and pin updates per second with the burst allowed above that rate.
ENDRPI_WS_MAX_MESSAGE_BYTES = env_int("ENDRPI_WS_MAX_MESSAGE_BYTES", 64 * 1024, minimum=256)
ENDRPI_WS_WRITE_RATE = env_float("ENDRPI_WS_WRITE_RATE", 50.0, minimum=0.01)
ENDRPI_WS_WRITE_BURST = env_int("ENDRPI_WS_WRITE_BURST", 100, minimum=1)

# --- Endrpi history (see endrpi_project/history) --------------------------------------------------

# A sample of temperature, clocks, memory and throttle flags every INTERVAL seconds, kept RETENTION
# days; samples wait in memory and are written in one transaction every FLUSH_INTERVAL seconds (SD
# cards wear with every write: a power cut loses at most that much).
ENDRPI_HISTORY_INTERVAL = env_int("ENDRPI_HISTORY_INTERVAL", 10, minimum=1, maximum=3600)
# Seconds between two looks for the Pi's own sensors (1-wire, IIO, hwmon) and readings of them all.
ENDRPI_SENSORS_INTERVAL = env_int("ENDRPI_SENSORS_INTERVAL", 10, minimum=1, maximum=3600)
ENDRPI_HISTORY_RETENTION = env_int("ENDRPI_HISTORY_RETENTION", 30, minimum=1, maximum=3650)
ENDRPI_HISTORY_FLUSH_INTERVAL = env_int("ENDRPI_HISTORY_FLUSH_INTERVAL", 60, minimum=1, maximum=3600)

# Requests a WebSocket client may have sent and not yet had answered; past this the server stops
# reading its socket until it catches up (see endrpi_project.websocket.consumers).
ENDRPI_WS_MAX_PENDING = env_int("ENDRPI_WS_MAX_PENDING", 64, minimum=1, maximum=10_000)
# Pin updates per second for the whole server (WebSocket and REST together), with a burst of one
# second's worth; REST clients also get ENDRPI_WS_WRITE_RATE / _BURST per client address.
ENDRPI_WRITE_RATE = env_float("ENDRPI_WRITE_RATE", 200.0, minimum=0.01)
# Connections (see endrpi_project.access.connections): at most this many at once (the open-file limit
# must hold them plus 64; the server raises its soft limit or refuses to start), at most this many from
# one client address, and the seconds a connection has to send a whole HTTP request head.
ENDRPI_MAX_CONNECTIONS = env_int("ENDRPI_MAX_CONNECTIONS", 1024, minimum=8, maximum=1_000_000)
ENDRPI_MAX_CONNECTIONS_PER_CLIENT = env_int("ENDRPI_MAX_CONNECTIONS_PER_CLIENT", 256, minimum=1)
ENDRPI_HTTP_HEAD_TIMEOUT = env_float("ENDRPI_HTTP_HEAD_TIMEOUT", 10.0, minimum=0.1)

# --- Endrpi over MQTT: Home Assistant and the fleet (see docs/mqtt.md) ---------------------------

# Off unless set: mqtt://user:password@broker.local:1883, or mqtts://... for TLS (port 8883 unless
# given), optionally checked against the CA certificates in ENDRPI_MQTT_CA_FILE (else the system's).
ENDRPI_MQTT_URL = env_url("ENDRPI_MQTT_URL", "", schemes=["mqtt", "mqtts"])
ENDRPI_MQTT_CA_FILE = env_str("ENDRPI_MQTT_CA_FILE", "")
# This Pi's topics are endrpi/<node id>/...; empty means the host name, made topic-safe.
ENDRPI_MQTT_NODE_ID = env_str("ENDRPI_MQTT_NODE_ID", "")
# Seconds between published readings; and between throttle checks, which publish the readings at
# once when the throttle flags change (0 checks only with the readings).
ENDRPI_MQTT_INTERVAL = env_float("ENDRPI_MQTT_INTERVAL", 30.0, minimum=1.0)
ENDRPI_MQTT_THROTTLE_CHECK = env_float("ENDRPI_MQTT_THROTTLE_CHECK", 2.0, minimum=0.0)
# Home Assistant discovery, and its topic prefix.
ENDRPI_MQTT_DISCOVERY = env_bool("ENDRPI_MQTT_DISCOVERY", True)
ENDRPI_MQTT_DISCOVERY_PREFIX = env_str("ENDRPI_MQTT_DISCOVERY_PREFIX", "homeassistant")
# Where this Pi's dashboard is, as Home Assistant and the fleet page link to it; empty means
# http://<host name>:<ENDRPI_PORT>/.
ENDRPI_MQTT_DASHBOARD_URL = env_url("ENDRPI_MQTT_DASHBOARD_URL", "", schemes=["http", "https"])

# --- Endrpi serving (scripts/serve, the systemd service; see endrpi_project.doctor) ---------------
# They listen on ENDRPI_HOST (empty: 0.0.0.0) and ENDRPI_PORT, above.


def _tls_files() -> tuple[Path, Path] | None:
    """HTTPS without a proxy: a PEM certificate and its private key, both or neither."""
    cert = env_str("ENDRPI_TLS_CERT", "").strip()
    key = env_str("ENDRPI_TLS_KEY", "").strip()
    if cert and key:
        return Path(cert).expanduser(), Path(key).expanduser()
    if cert or key:
        given, missing = ("ENDRPI_TLS_CERT", "ENDRPI_TLS_KEY") if cert else ("ENDRPI_TLS_KEY", "ENDRPI_TLS_CERT")
        raise SettingError(
            f"{given} is set but {missing} is not: HTTPS needs both (a PEM certificate and its private key), "
            "plain HTTP neither"
        )
    return None


# With both set, scripts/serve and the service listen with TLS (https:// and wss://) on ENDRPI_PORT.
ENDRPI_TLS_CERT, ENDRPI_TLS_KEY = _tls_files() or (None, None)
