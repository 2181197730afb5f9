"""Support for running the real server outside the test client: the tests' live-server fixtures
and the benchmarks both start daphne through :mod:`~endrpi_project.testing.live`.
"""
