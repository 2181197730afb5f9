"""The least Django settings the pins app runs with in the real-kernel guest: no database is touched
(``tests/kernel/guest_lane.py`` remembers the pin settings in memory), real GPIO required."""

SECRET_KEY = "realkernel-lane"
INSTALLED_APPS = ["django.contrib.contenttypes", "pins"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
USE_TZ = True
ENDRPI_GPIO = "real"
ENDRPI_HOST_ROOT = "/"
ENDRPI_PWM_FREQUENCY = 100.0
