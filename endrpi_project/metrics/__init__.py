"""Prometheus metrics: ``GET /metrics`` in the Prometheus text format.

Owns the collector (:mod:`.collector`: the Pi's readings, read through the services at scrape
time, and the server's own counts from :mod:`endrpi_project.api.tally` and the push hub), the
REST middleware that counts responses (:mod:`.middleware`) and the view (:mod:`.views`).
"""
