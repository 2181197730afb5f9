"""The only code in the ``system`` app that touches the operating system or the firmware."""
