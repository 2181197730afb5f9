"""How Endrpi runs on a host, and the report that says whether it can.

Owns where the server listens (:mod:`.listening`: daphne's endpoint from ``ENDRPI_HOST``,
``ENDRPI_PORT`` and the TLS files, the dashboard's addresses), the ``endrpi_serve`` command that
``scripts/serve`` and the systemd service run (with :mod:`.preparation`: migrating and collecting
only what changed), and the ``endrpi_doctor`` command a Pi owner pastes
into a bug report (:mod:`.report`). :mod:`.host` is its only code that looks at the machine (network
interfaces, users and groups, device files, the port); it never writes anything.
"""
