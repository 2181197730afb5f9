"""The Pi's own sensors: 1-wire probes, IIO and hwmon chips the kernel reads, found without configuration.

Rooms as in ``system`` and ``pins``: ``hardware`` (the only code reading /sys), ``parsers`` (pure),
``services`` (the monitor that finds and reads them), ``models``/``admin`` (labels), and the edges.
"""
