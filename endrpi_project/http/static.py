"""Static files served by the server itself, under daphne, DEBUG or not."""

from __future__ import annotations

from whitenoise.middleware import WhiteNoiseMiddleware  # type: ignore[import-untyped]


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise, preferring the collected files in STATIC_ROOT (with their gzip copies).

    Files that ``collectstatic`` has not collected yet (a fresh checkout, the tests) are still served
    from the apps, so no page loses its CSS for want of that step.
    """

    def add_files_from_finders(self) -> None:
        collected = dict(self.files)
        super().add_files_from_finders()
        self.files.update(collected)
