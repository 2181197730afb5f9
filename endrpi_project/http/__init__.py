"""The HTTP edge's plumbing: the ASGI handler that runs Django's middleware chain in one thread
hop (:mod:`~endrpi_project.http.handlers`) and the static-files middleware (:mod:`~endrpi_project.http.static`).
"""
