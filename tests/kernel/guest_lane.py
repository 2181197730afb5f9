"""Run inside the real-kernel guest (Debian's 6.1 arm64 kernel on QEMU's raspi3b, upstream pinctrl-bcm2835,
I2C1 on GPIO2/3): the project's pins hardware layer and pins service against the real GPIO stack.

Started by ``tests/kernel/test_real_kernel.py`` through ``../shared/realkernel/run.sh`` with this
project's ``pins``, ``system`` and ``endrpi_project`` packages and the pure-Python packages they import
copied in beside it. Prints one ``=== LANE {json}`` line: every check with what the kernel answered, so
the host test can say what failed and the closing notes can quote the kernel. Exits 0 when every
check held.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEBUGFS = Path("/sys/kernel/debug/pinctrl")
results: list[dict[str, Any]] = []
HOLD_22 = (
    "import lgpio,time; h=lgpio.gpiochip_open(0); lgpio.gpio_claim_output(h,22,1); print('held', flush=True); "
    "time.sleep(600)"
)


def check(name: str, ok: bool, answer: Any) -> None:
    results.append({"check": name, "ok": bool(ok), "answer": answer})


def load_modules() -> None:
    """The I2C controller (so GPIO2/3 are muxed to I2C1 as on a Pi with i2c_arm on) and the watchdog the
    guest reboots through, from the copies beside this script when the root filesystem lacks them."""
    for module, name in (("i2c-bcm2835.ko", "i2c_bcm2835"), ("bcm2835_wdt.ko", "bcm2835_wdt")):
        if not Path(f"/sys/module/{name}").exists() and (HERE / module).exists():
            subprocess.run(["insmod", str(HERE / module)], check=False)


def debugfs_pin(bcm: int) -> str:
    """The pin controller's own line for ``bcm`` (``function alt0 in lo``), read as root."""
    for directory in DEBUGFS.iterdir():
        if directory.name.endswith("pinctrl-bcm2835"):
            for line in (directory / "pins").read_text().splitlines():
                if line.startswith(f"pin {bcm} "):
                    return line.split(") ", 1)[1].split(";")[0].removeprefix("0:? ")
    return "?"


def debugfs_owner(bcm: int) -> str:
    for directory in DEBUGFS.iterdir():
        if directory.name.endswith("pinctrl-bcm2835"):
            for line in (directory / "pinmux-pins").read_text().splitlines():
                if line.startswith(f"pin {bcm} "):
                    return line.split(": ", 1)[1]
    return "?"


def select(bcm: int, function: str) -> None:
    for directory in DEBUGFS.iterdir():
        if directory.name.endswith("pinctrl-bcm2835"):
            (directory / "pinmux-select").write_text(f"gpio{bcm} {function}\n")


def lane() -> None:
    import django

    django.setup()
    import lgpio

    from endrpi_project.api.errors import Conflict
    from pins import hardware, parsers, services
    from pins.configuration import InputChange, OutputChange
    from pins.models import PinSetting

    # --- the header chip, by label; the factory gpiozero would use ---------------------------------
    chip = hardware.find_header_chip(hardware.GpioChipDevice())
    check("header chip found by label", chip is not None and chip.label == "pinctrl-bcm2835", str(chip))
    gpio = hardware.create_gpio("real")
    hardware.install_gpio(gpio)
    hardware.watch_edges(services.pin_edge_changed)
    services.pin_settings_remember({3: PinSetting(pin=3, may_take_over=True)})  # an admin allowed GPIO3 only
    check("real lgpio factory", gpio.factory_name == "LGPIOFactory" and not gpio.simulated, gpio.factory_name)
    assert gpio.lines is not None
    assert gpio.mux is not None
    lines = gpio.lines

    def line_info(pin: int) -> parsers.LineInfo:
        return parsers.parse_line_info(lines.device.line_info(lines.path, parsers.line_info_request(pin)))

    check("function select read from debugfs", gpio.mux.source is not None, gpio.mux.source)

    # --- line info and a muxed pin ------------------------------------------------------------------
    info = line_info(2)
    check(
        "line info of I2C1's GPIO2 says free (not a strict pin controller)",
        not info.used,
        {"used": info.used, "direction": info.direction, "debugfs": debugfs_pin(2), "owner": debugfs_owner(2)},
    )
    read = services.pin_configurations_read()
    check(
        "GPIO2/GPIO3 read as I2C1 SDA/SCL with their driver",
        (read["GPIO2"].function, read["GPIO3"].function, read["GPIO2"].used_by)
        == ("I2C1 SDA", "I2C1 SCL", "3f804000.i2c"),
        {name: vars(read[name]) for name in ("GPIO2", "GPIO3")},
    )
    check("a plain pin reads GPIO", read["GPIO17"].function == "GPIO", vars(read["GPIO17"]))

    # --- a pin another process holds: refused, named ---------------------------------------------
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_22],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    holder.stdout.readline()
    read22 = services.pin_configuration_read(pin=22)
    check("a line another process holds reads its consumer", read22.used_by == "lg", vars(read22))
    try:
        services.pin_configurations_update(changes={22: OutputChange(state=0.0)})
        check("a held pin is refused and named", False, "accepted")
    except Conflict as error:
        check(
            "a held pin is refused and named",
            "GPIO22 is in use by another program or driver (lg)" in error.message,
            error.message,
        )

    # --- an I2C pin: refused, its function unchanged ----------------------------------------------
    before = debugfs_pin(2)
    try:
        services.pin_configurations_update(changes={17: OutputChange(state=1.0), 2: OutputChange(state=0.0)})
        check("an I2C pin is refused", False, "accepted")
    except Conflict as error:
        check(
            "an I2C pin is refused",
            error.message == "GPIO2 is I2C1 SDA (the kernel's 3f804000.i2c driver holds it); no pin was changed",
            error.message,
        )
    after = debugfs_pin(2)
    check(
        "its function unchanged afterwards (debugfs pins)",
        after == before and before.startswith("function alt0"),
        {"before": before, "after": after},
    )
    check("GPIO17 of that batch untouched", debugfs_pin(17).startswith("function gpio_in"), debugfs_pin(17))

    # --- a failed batch leaves every pin exactly as before ----------------------------------------
    select(27, "gpio_out")  # an output nobody holds (as config.txt's gpio=27=op can leave one)
    pins = (3, 17, 23, 27)
    before_batch = {pin: (debugfs_pin(pin), debugfs_owner(pin)) for pin in pins}
    try:
        services.pin_configurations_update(
            changes={
                17: OutputChange(state=1.0),
                23: InputChange(pull="UP"),
                27: InputChange(pull="FLOATING"),
                3: OutputChange(state=0.0),  # I2C1 SCL, taken over: the admin allowed it
                22: OutputChange(state=1.0),  # held by the other process: the batch fails here
            }
        )
        check("the batch fails on the held pin", False, "accepted")
    except Conflict as error:
        check("the batch fails on the held pin", "GPIO22" in error.message, error.message)
    after_batch = {pin: (debugfs_pin(pin), debugfs_owner(pin)) for pin in pins}
    check(
        "a failed batch leaves every pin exactly as before",
        after_batch == before_batch,
        {"before": before_batch, "after": after_batch},
    )
    claimed = {
        pin: parsers.parse_line_info(
            gpio.lines.device.line_info(gpio.lines.path, parsers.line_info_request(pin))
        ).consumer
        for pin in pins
    }
    check("nothing left claimed", set(claimed.values()) == {""}, claimed)
    holder.kill()
    holder.wait()

    # --- direction of an unclaimed pin: from the function select, not line info -------------------
    services.pin_configurations_update(changes={24: OutputChange(state=1.0)})
    gpio.release(24)  # given back as it was found: an input
    info24 = line_info(24)
    h = lgpio.gpiochip_open(0)
    lgpio.gpio_claim_output(h, 25, 1)
    lgpio.gpio_free(h, 25)
    lgpio.gpiochip_close(h)
    info25 = line_info(25)
    read25 = services.pin_configuration_read(pin=25)
    check(
        "a released output: line info says output, the function select input, and Endrpi says INPUT",
        info25.direction == "output" and debugfs_pin(25).startswith("function gpio_in") and read25.io == "INPUT",
        {
            "line info": info25.direction,
            "debugfs": debugfs_pin(25),
            "endrpi": vars(read25),
            "GPIO24 line info": info24.direction,
        },
    )

    # --- PWM ----------------------------------------------------------------------------------------
    services.pin_configurations_update(changes={18: OutputChange(state=0.5)})
    levels = set()
    for _ in range(200):
        levels.add(debugfs_pin(18).split(" in ")[1])
        if len(levels) == 2:
            break
        time.sleep(0.002)
    read18 = services.pin_configuration_read(pin=18)
    check(
        "PWM at 50 %: the pin toggles (debugfs level hi and lo), reads 0.5",
        levels == {"hi", "lo"} and read18.state == 0.5,
        {"levels": sorted(levels), "read": vars(read18)},
    )
    # Under 1 %: gpiozero's LGPIOPin would pass lgpio int(0.005 * 100) = 0 and run PWM at 0 % (never
    # high); Endrpi passes lgpio's tx_pwm the float 0.5 (50 us high of each 10,000 us period).
    services.pin_configurations_update(changes={18: OutputChange(state=0.005)})
    line = gpio.factory.pin(18)  # gpiozero's pin: its state reads the line's level (lgpio gpio_read)
    samples = 20_000
    high = sum(1 for _ in range(samples) if line.state)
    read18 = services.pin_configuration_read(pin=18)
    # Emulated, lgpio's PWM thread wakes late, so a 50 us pulse lasts longer (538 of 20,000 samples
    # were high in one run): the bound only tells "driven" from "never high" and from "stuck high".
    check(
        "PWM at 0.5 %: the line is high in some samples, under a quarter of them; reads 0.005",
        0 < high < samples * 0.25 and read18.state == 0.005,
        {"high samples": high, "of": samples, "read": vars(read18)},
    )
    services.pin_configurations_update(changes={18: OutputChange(state=0.0)})
    check("PWM stopped at 0: low", debugfs_pin(18) == "function gpio_out in lo", debugfs_pin(18))

    # --- an allowed takeover, and its bus back at shutdown -----------------------------------------
    services.pin_configurations_update(changes={3: OutputChange(state=1.0)})
    taken = debugfs_pin(3)
    gpio.shutdown()
    check(
        "a taken-over pin drives as GPIO, and gets I2C back at shutdown",
        taken == "function gpio_out in hi"
        and debugfs_pin(3).startswith("function alt0")
        and "3f804000.i2c" in debugfs_owner(3),
        {"taken": taken, "after shutdown": debugfs_pin(3), "owner": debugfs_owner(3)},
    )
    fake_parity(gpio)


def fake_parity(gpio: Any) -> None:
    """The case the fakes are checked with (``tests/pins/test_pinmux.py``:
    ``test_the_fake_kernel_lets_a_muxed_pin_be_claimed_and_re_muxes_it_as_the_real_one_did``), here
    against the kernel; then the function select written back as Endrpi does."""
    import lgpio

    handle = lgpio.gpiochip_open(0)
    claimed = lgpio.gpio_claim_output(handle, 2, 0)
    remuxed, owner = debugfs_pin(2), debugfs_owner(2)
    lgpio.gpio_free(handle, 2)
    lgpio.gpiochip_close(handle)
    released = debugfs_pin(2)
    check(
        "lgpio claims I2C1's GPIO2 (not EBUSY) and re-muxes it; released, it stays gpio_in (the fakes' model)",
        claimed == 0
        and remuxed.startswith("function gpio_out")
        and "3f804000.i2c" in owner
        and released.startswith("function gpio_in"),
        {"claim": claimed, "claimed": remuxed, "owner": owner, "released": released},
    )
    written = gpio.mux.set_mode(2, "alt0")
    check(
        "Endrpi writes alt0 back (debugfs pinmux-select)",
        written and debugfs_pin(2).startswith("function alt0"),
        debugfs_pin(2),
    )


def main() -> int:
    load_modules()
    sys.path[:0] = [str(HERE / "site"), str(HERE)]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guest_settings")
    started = time.monotonic()
    try:
        lane()
    except Exception:
        check("the lane ran to its end", False, traceback.format_exc())
    print("=== LANE " + json.dumps({"seconds": round(time.monotonic() - started, 1), "results": results}), flush=True)
    return 0 if results and all(result["ok"] for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
