"""The pins hardware layer and pins service on a real Linux GPIO stack: Debian's 6.1 arm64 kernel with
upstream ``pinctrl-bcm2835`` on QEMU's Raspberry Pi 3B (``../shared/realkernel``, beside the clone).

One boot runs ``guest_lane.py`` there (the checks and what the kernel answered are in its report): the
header chip found by label, line info and consumer names, a pin another process holds refused and
named, an I2C pin refused with its function unchanged (debugfs ``pins``), a failed batch leaving every
pin exactly as before, an unclaimed pin's direction from the function select, PWM, and a taken-over
pin given its bus back. ``.ci/run`` builds the kernel first (``build.sh``, idempotent).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
REALKERNEL = Path(os.environ.get("ENDRPI_REALKERNEL", ROOT.parent / "shared" / "realkernel"))
CACHE = Path(os.environ.get("REALKERNEL_CACHE", "/var/tmp/endrpi-realkernel"))
# What ``pins.services`` imports beyond the guest's gpiozero and lgpio: pure-Python packages, copied
# from this virtualenv (the guest is aarch64; none of these needs its compiled parts).
PACKAGES = (
    "django", "rest_framework", "channels", "asgiref", "sqlparse", "inflection", "uritemplate", "yaml",
    "requests", "urllib3", "idna", "certifi", "charset_normalizer",
)  # fmt: skip
LEAVE_OUT = shutil.ignore_patterns(
    "__pycache__", "LC_MESSAGES", "static", "templates", "tests", "gis", "*.so", "*.mo", "*.po"
)
MODULES = ("kernel/drivers/i2c/busses/i2c-bcm2835.ko", "kernel/drivers/watchdog/bcm2835_wdt.ko")


def stage(directory: Path) -> None:
    """The guest's working directory: the lane, Endrpi's packages, and what they import."""
    directory.mkdir()
    for name in ("guest_lane.py", "guest_settings.py"):
        shutil.copy(HERE / name, directory / name)
    for package in ("pins", "system", "endrpi_project"):
        shutil.copytree(ROOT / package, directory / package, ignore=LEAVE_OUT)
    site = directory / "site"
    site.mkdir()
    for name in PACKAGES:
        spec = importlib.util.find_spec(name)
        assert spec is not None, f"{name} is not installed here"
        assert spec.origin is not None, name
        origin = Path(spec.origin)
        if origin.name == "__init__.py":
            shutil.copytree(origin.parent, site / name, ignore=LEAVE_OUT)
        else:
            shutil.copy(origin, site / origin.name)
    # The root filesystem's modules directory may lack the I2C and watchdog modules: the lane loads
    # these copies (without the watchdog the guest cannot reboot, and QEMU runs until its timeout).
    for kver in (CACHE / "modules" / "lib" / "modules").glob("*"):
        for module in MODULES:
            if (kver / module).exists():
                shutil.copy(kver / module, directory / Path(module).name)


def test_the_pins_layer_and_service_on_a_real_kernel(tmp_path):
    run = REALKERNEL / "run.sh"
    if not run.exists():
        pytest.skip(f"no real kernel here: {REALKERNEL} is absent (CI keeps shared/ beside the clone)")
    guest = tmp_path / "guest"
    stage(guest)
    finished = subprocess.run(
        [str(run), str(guest), "python3", "guest_lane.py"],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "REALKERNEL_TIMEOUT": os.environ.get("REALKERNEL_TIMEOUT", "600")},
    )
    reports = [line for line in finished.stdout.splitlines() if line.startswith("=== LANE ")]
    assert reports, (
        f"no report from the lane (exit {finished.returncode}):\n{finished.stdout[-3000:]}\n{finished.stderr[-2000:]}"
    )
    report = json.loads(reports[-1].removeprefix("=== LANE "))
    (ROOT / "var").mkdir(exist_ok=True)
    (ROOT / "var" / "realkernel-lane.json").write_text(json.dumps(report, indent=2))
    failed = [result for result in report["results"] if not result["ok"]]
    assert failed == [], json.dumps(failed, indent=2)
    assert finished.returncode == 0
    assert len(report["results"]) >= 15, "every check ran"
