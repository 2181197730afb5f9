"""What each header GPIO's function-select value means: plain GPIO, or which peripheral (``I2C1 SDA``).

Pure data and one naming function. The tables are the SoCs' alternate-function tables for GPIO0-27
as raspberrypi/utils ``pinctrl`` carries them (``pinctrl/gpiochip_bcm2835.c``
``bcm2835_gpio_alt_names``/``bcm2711_gpio_alt_names``, ``pinctrl/gpiochip_rp1.c``
``rp1_gpio_fsel_names``), themselves from the BCM2835/BCM2711 ARM peripherals datasheets (section 6.2,
"Alternative Function Assignments") and the RP1 peripherals datasheet. ``None``: the SoC reserves it.

A mode is how :mod:`pins.parsers` decodes the function select: ``"input"``/``"output"`` for plain
GPIO, ``"alt0"`` ... ``"alt8"`` for a peripheral, ``"none"`` for an RP1 pin with its function
switched off (``RP1_FSEL_NULL``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

# BCM2835/6/7 (Pi 1-3, Zero): ALT0 ... ALT5 for GPIO0-27.
BCM2835: tuple[tuple[str | None, ...], ...] = (
    ("SDA0", "SA5", "PCLK", "AVEOUT_VCLK", "AVEIN_VCLK", None),
    ("SCL0", "SA4", "DE", "AVEOUT_DSYNC", "AVEIN_DSYNC", None),
    ("SDA1", "SA3", "LCD_VSYNC", "AVEOUT_VSYNC", "AVEIN_VSYNC", None),
    ("SCL1", "SA2", "LCD_HSYNC", "AVEOUT_HSYNC", "AVEIN_HSYNC", None),
    ("GPCLK0", "SA1", "DPI_D0", "AVEOUT_VID0", "AVEIN_VID0", "ARM_TDI"),
    ("GPCLK1", "SA0", "DPI_D1", "AVEOUT_VID1", "AVEIN_VID1", "ARM_TDO"),
    ("GPCLK2", "SOE_N_SE", "DPI_D2", "AVEOUT_VID2", "AVEIN_VID2", "ARM_RTCK"),
    ("SPI0_CE1_N", "SWE_N_SRW_N", "DPI_D3", "AVEOUT_VID3", "AVEIN_VID3", None),
    ("SPI0_CE0_N", "SD0", "DPI_D4", "AVEOUT_VID4", "AVEIN_VID4", None),
    ("SPI0_MISO", "SD1", "DPI_D5", "AVEOUT_VID5", "AVEIN_VID5", None),
    ("SPI0_MOSI", "SD2", "DPI_D6", "AVEOUT_VID6", "AVEIN_VID6", None),
    ("SPI0_SCLK", "SD3", "DPI_D7", "AVEOUT_VID7", "AVEIN_VID7", None),
    ("PWM0", "SD4", "DPI_D8", "AVEOUT_VID8", "AVEIN_VID8", "ARM_TMS"),
    ("PWM1", "SD5", "DPI_D9", "AVEOUT_VID9", "AVEIN_VID9", "ARM_TCK"),
    ("TXD0", "SD6", "DPI_D10", "AVEOUT_VID10", "AVEIN_VID10", "TXD1"),
    ("RXD0", "SD7", "DPI_D11", "AVEOUT_VID11", "AVEIN_VID11", "RXD1"),
    ("FL0", "SD8", "DPI_D12", "CTS0", "SPI1_CE2_N", "CTS1"),
    ("FL1", "SD9", "DPI_D13", "RTS0", "SPI1_CE1_N", "RTS1"),
    ("PCM_CLK", "SD10", "DPI_D14", "I2CSL_SDA_MOSI", "SPI1_CE0_N", "PWM0"),
    ("PCM_FS", "SD11", "DPI_D15", "I2CSL_SCL_SCLK", "SPI1_MISO", "PWM1"),
    ("PCM_DIN", "SD12", "DPI_D16", "I2CSL_MISO", "SPI1_MOSI", "GPCLK0"),
    ("PCM_DOUT", "SD13", "DPI_D17", "I2CSL_CE_N", "SPI1_SCLK", "GPCLK1"),
    ("SD0_CLK", "SD14", "DPI_D18", "SD1_CLK", "ARM_TRST", None),
    ("SD0_CMD", "SD15", "DPI_D19", "SD1_CMD", "ARM_RTCK", None),
    ("SD0_DAT0", "SD16", "DPI_D20", "SD1_DAT0", "ARM_TDO", None),
    ("SD0_DAT1", "SD17", "DPI_D21", "SD1_DAT1", "ARM_TCK", None),
    ("SD0_DAT2", "TE0", "DPI_D22", "SD1_DAT2", "ARM_TDI", None),
    ("SD0_DAT3", "TE1", "DPI_D23", "SD1_DAT3", "ARM_TMS", None),
)
# BCM2711 (Pi 4, Pi 400, CM4): ALT0 ... ALT5 for GPIO0-27.
BCM2711: tuple[tuple[str | None, ...], ...] = (
    ("SDA0", "SA5", "PCLK", "SPI3_CE0_N", "TXD2", "SDA6"),
    ("SCL0", "SA4", "DE", "SPI3_MISO", "RXD2", "SCL6"),
    ("SDA1", "SA3", "LCD_VSYNC", "SPI3_MOSI", "CTS2", "SDA3"),
    ("SCL1", "SA2", "LCD_HSYNC", "SPI3_SCLK", "RTS2", "SCL3"),
    ("GPCLK0", "SA1", "DPI_D0", "SPI4_CE0_N", "TXD3", "SDA3"),
    ("GPCLK1", "SA0", "DPI_D1", "SPI4_MISO", "RXD3", "SCL3"),
    ("GPCLK2", "SOE_N_SE", "DPI_D2", "SPI4_MOSI", "CTS3", "SDA4"),
    ("SPI0_CE1_N", "SWE_N_SRW_N", "DPI_D3", "SPI4_SCLK", "RTS3", "SCL4"),
    ("SPI0_CE0_N", "SD0", "DPI_D4", "I2CSL_CE_N", "TXD4", "SDA4"),
    ("SPI0_MISO", "SD1", "DPI_D5", "I2CSL_SDI_MISO", "RXD4", "SCL4"),
    ("SPI0_MOSI", "SD2", "DPI_D6", "I2CSL_SDA_MOSI", "CTS4", "SDA5"),
    ("SPI0_SCLK", "SD3", "DPI_D7", "I2CSL_SCL_SCLK", "RTS4", "SCL5"),
    ("PWM0_0", "SD4", "DPI_D8", "SPI5_CE0_N", "TXD5", "SDA5"),
    ("PWM0_1", "SD5", "DPI_D9", "SPI5_MISO", "RXD5", "SCL5"),
    ("TXD0", "SD6", "DPI_D10", "SPI5_MOSI", "CTS5", "TXD1"),
    ("RXD0", "SD7", "DPI_D11", "SPI5_SCLK", "RTS5", "RXD1"),
    (None, "SD8", "DPI_D12", "CTS0", "SPI1_CE2_N", "CTS1"),
    (None, "SD9", "DPI_D13", "RTS0", "SPI1_CE1_N", "RTS1"),
    ("PCM_CLK", "SD10", "DPI_D14", "SPI6_CE0_N", "SPI1_CE0_N", "PWM0_0"),
    ("PCM_FS", "SD11", "DPI_D15", "SPI6_MISO", "SPI1_MISO", "PWM0_1"),
    ("PCM_DIN", "SD12", "DPI_D16", "SPI6_MOSI", "SPI1_MOSI", "GPCLK0"),
    ("PCM_DOUT", "SD13", "DPI_D17", "SPI6_SCLK", "SPI1_SCLK", "GPCLK1"),
    ("SD0_CLK", "SD14", "DPI_D18", "SD1_CLK", "ARM_TRST", "SDA6"),
    ("SD0_CMD", "SD15", "DPI_D19", "SD1_CMD", "ARM_RTCK", "SCL6"),
    ("SD0_DAT0", "SD16", "DPI_D20", "SD1_DAT0", "ARM_TDO", "SPI3_CE1_N"),
    ("SD0_DAT1", "SD17", "DPI_D21", "SD1_DAT1", "ARM_TCK", "SPI4_CE1_N"),
    ("SD0_DAT2", None, "DPI_D22", "SD1_DAT2", "ARM_TDI", "SPI5_CE1_N"),
    ("SD0_DAT3", None, "DPI_D23", "SD1_DAT3", "ARM_TMS", "SPI6_CE1_N"),
)
# RP1 (Pi 5): ALT0 ... ALT8 for GPIO0-27 (ALT5 is SYS_RIO, i.e. plain GPIO; decoded as input/output).
RP1: tuple[tuple[str | None, ...], ...] = (
    ("SPI0_SIO3", "DPI_PCLK", "TXD1", "SDA0", None, "SYS_RIO00", "PROC_RIO00", "PIO0", "SPI2_CE0"),
    ("SPI0_SIO2", "DPI_DE", "RXD1", "SCL0", None, "SYS_RIO01", "PROC_RIO01", "PIO1", "SPI2_SIO1"),
    ("SPI0_CE3", "DPI_VSYNC", "CTS1", "SDA1", "IR_RX0", "SYS_RIO02", "PROC_RIO02", "PIO2", "SPI2_SIO0"),
    ("SPI0_CE2", "DPI_HSYNC", "RTS1", "SCL1", "IR_TX0", "SYS_RIO03", "PROC_RIO03", "PIO3", "SPI2_SCLK"),
    ("GPCLK0", "DPI_D0", "TXD2", "SDA2", "RI0", "SYS_RIO04", "PROC_RIO04", "PIO4", "SPI3_CE0"),
    ("GPCLK1", "DPI_D1", "RXD2", "SCL2", "DTR0", "SYS_RIO05", "PROC_RIO05", "PIO5", "SPI3_SIO1"),
    ("GPCLK2", "DPI_D2", "CTS2", "SDA3", "DCD0", "SYS_RIO06", "PROC_RIO06", "PIO6", "SPI3_SIO0"),
    ("SPI0_CE1", "DPI_D3", "RTS2", "SCL3", "DSR0", "SYS_RIO07", "PROC_RIO07", "PIO7", "SPI3_SCLK"),
    ("SPI0_CE0", "DPI_D4", "TXD3", "SDA0", None, "SYS_RIO08", "PROC_RIO08", "PIO8", "SPI4_CE0"),
    ("SPI0_MISO", "DPI_D5", "RXD3", "SCL0", None, "SYS_RIO09", "PROC_RIO09", "PIO9", "SPI4_SIO0"),
    ("SPI0_MOSI", "DPI_D6", "CTS3", "SDA1", None, "SYS_RIO010", "PROC_RIO010", "PIO10", "SPI4_SIO1"),
    ("SPI0_SCLK", "DPI_D7", "RTS3", "SCL1", None, "SYS_RIO011", "PROC_RIO011", "PIO11", "SPI4_SCLK"),
    ("PWM0_CHAN0", "DPI_D8", "TXD4", "SDA2", "AAUD_LEFT", "SYS_RIO012", "PROC_RIO012", "PIO12", "SPI5_CE0"),
    ("PWM0_CHAN1", "DPI_D9", "RXD4", "SCL2", "AAUD_RIGHT", "SYS_RIO013", "PROC_RIO013", "PIO13", "SPI5_SIO1"),
    ("PWM0_CHAN2", "DPI_D10", "CTS4", "SDA3", "TXD0", "SYS_RIO014", "PROC_RIO014", "PIO14", "SPI5_SIO0"),
    ("PWM0_CHAN3", "DPI_D11", "RTS4", "SCL3", "RXD0", "SYS_RIO015", "PROC_RIO015", "PIO15", "SPI5_SCLK"),
    ("SPI1_CE2", "DPI_D12", "DSI0_TE_EXT", None, "CTS0", "SYS_RIO016", "PROC_RIO016", "PIO16", None),
    ("SPI1_CE1", "DPI_D13", "DSI1_TE_EXT", None, "RTS0", "SYS_RIO017", "PROC_RIO017", "PIO17", None),
    ("SPI1_CE0", "DPI_D14", "I2S0_SCLK", "PWM0_CHAN2", "I2S1_SCLK", "SYS_RIO018", "PROC_RIO018", "PIO18", "GPCLK1"),
    ("SPI1_MISO", "DPI_D15", "I2S0_WS", "PWM0_CHAN3", "I2S1_WS", "SYS_RIO019", "PROC_RIO019", "PIO19", None),
    ("SPI1_MOSI", "DPI_D16", "I2S0_SDI0", "GPCLK0", "I2S1_SDI0", "SYS_RIO020", "PROC_RIO020", "PIO20", None),
    ("SPI1_SCLK", "DPI_D17", "I2S0_SDO0", "GPCLK1", "I2S1_SDO0", "SYS_RIO021", "PROC_RIO021", "PIO21", None),
    ("SD0_CLK", "DPI_D18", "I2S0_SDI1", "SDA3", "I2S1_SDI1", "SYS_RIO022", "PROC_RIO022", "PIO22", None),
    ("SD0_CMD", "DPI_D19", "I2S0_SDO1", "SCL3", "I2S1_SDO1", "SYS_RIO023", "PROC_RIO023", "PIO23", None),
    ("SD0_DAT0", "DPI_D20", "I2S0_SDI2", None, "I2S1_SDI2", "SYS_RIO024", "PROC_RIO024", "PIO24", "SPI2_CE1"),
    ("SD0_DAT1", "DPI_D21", "I2S0_SDO2", "MIC_CLK", "I2S1_SDO2", "SYS_RIO025", "PROC_RIO025", "PIO25", "SPI3_CE1"),
    ("SD0_DAT2", "DPI_D22", "I2S0_SDI3", "MIC_DAT0", "I2S1_SDI3", "SYS_RIO026", "PROC_RIO026", "PIO26", "SPI5_CE1"),
    ("SD0_DAT3", "DPI_D23", "I2S0_SDO3", "MIC_DAT1", "I2S1_SDO3", "SYS_RIO027", "PROC_RIO027", "PIO27", "SPI1_CE1"),
)

# The header gpiochip's kernel label -> its SoC's table.
TABLES = {"pinctrl-bcm2835": BCM2835, "pinctrl-bcm2711": BCM2711, "pinctrl-rp1": RP1}

GPIO = "GPIO"  # the function of a pin in plain GPIO mode, input or output
PLAIN = ("input", "output")

_BUSES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (re.compile(r"^(SDA|SCL)(\d)$"), lambda m: f"I2C{m[2]} {m[1]}"),
    (re.compile(r"^(TXD|RXD|CTS|RTS)(\d)$"), lambda m: f"UART{m[2]} {m[1]}"),
    (re.compile(r"^SPI(\d)_CE(\d)(_N)?$"), lambda m: f"SPI{m[1]} CE{m[2]}"),
)


def readable(raw: str) -> str:
    """A datasheet signal name as people write it: ``SDA1`` -> ``I2C1 SDA``, ``SPI0_CE0_N`` -> ``SPI0 CE0``,
    ``TXD0`` -> ``UART0 TXD``, ``PCM_CLK`` -> ``PCM CLK``."""
    for pattern, name in _BUSES:
        match = pattern.match(raw)
        if match:
            return name(match)
    return raw.removesuffix("_N").replace("_", " ")


def function_name(*, chip_label: str, bcm: int, mode: str) -> str:
    """What ``bcm`` does in ``mode`` on the SoC behind ``chip_label``: ``GPIO``, ``I2C1 SDA``, ``ALT3``."""
    if mode in PLAIN:
        return GPIO
    if mode == "none":
        return "no function (RP1 FSEL NULL)"
    table = TABLES.get(chip_label)
    if mode.startswith("alt") and mode[3:].isdigit() and table is not None and bcm < len(table):
        index = int(mode[3:])
        row = table[bcm]
        if index < len(row) and row[index] is not None:
            return readable(str(row[index]))
    return mode.upper()


# config.txt's words for the interfaces whose pins it muxes, by the bus a function belongs to, and
# the device-tree alias of its controller (the firmware sets the node's status "okay" when it is on).
INTERFACES: tuple[tuple[str, str, str], ...] = (
    ("I2C1 ", "i2c1", "i2c_arm is on in config.txt"),
    ("I2C0 ", "i2c0", "i2c_vc is on in config.txt"),
    ("SPI0 ", "spi0", "spi is on in config.txt"),
    ("SPI1 ", "spi1", "an spi1 overlay is loaded in config.txt"),
    ("UART0 ", "uart0", "the PL011 UART is on in config.txt (enable_uart)"),
    ("UART1 ", "uart1", "the mini UART is on in config.txt (enable_uart)"),
    ("PCM ", "i2s", "i2s is on in config.txt"),
    ("I2S0 ", "i2s", "i2s is on in config.txt"),
)


def interface_of(function: str) -> tuple[str, str] | None:
    """``(device-tree alias, config.txt wording)`` of the interface ``function`` belongs to, if known."""
    for prefix, alias, wording in INTERFACES:
        if function.startswith(prefix):
            return alias, wording
    return None
