"""How long ``./scripts/serve`` takes to be ready: the first start, and each restart after it.

``python bench/serve.py`` (``--rounds``, ``--checkout DIR`` to time another checkout's scripts/serve,
e.g. an older one, ``--fresh-venv`` to include making the virtual environment and installing the
requirements, which needs the package index or pip's cache).

Each round starts ``scripts/serve`` as a Pi owner does (on 127.0.0.1 and a free port, mock GPIO, the
benchmark's fake host tree), with a new data directory for the first start (so it creates the database
and collects the static files) and the same one for the restarts, and times from launching the script
to the line "Endrpi is ready" and to the first answer to ``GET /system/uptime``. It prints what the
script printed before it was ready on the first start and the last restart, then the figures. The
target: a restart is ready in under 2 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.benchmark import host_tree  # noqa: E402  (the same fake host as the main benchmark)
from endrpi_project.testing.live import ServeScript, serve_script  # noqa: E402

TARGET_RESTART_S = 2.0


def first_answer(server: ServeScript, started: float) -> float:
    """Seconds from ``started`` until the server answered ``GET /system/uptime``."""
    while True:
        try:
            with urllib.request.urlopen(f"{server.http_url}/system/uptime", timeout=1):
                return time.monotonic() - started
        except OSError:
            time.sleep(0.01)


def start_once(data: Path, env: dict[str, str], script: Path, args: list[str]) -> tuple[float, float, list[str]]:
    started = time.monotonic()
    with serve_script(data, env, script=script, ready="Endrpi is ready", args=args) as server:
        answered = first_answer(server, started)
        before_ready = [line.rstrip() for line in server.output]
    return server.ready_seconds, answered, before_ready


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="first starts (each followed by restarts)")
    parser.add_argument("--restarts", type=int, default=3, help="restarts after each first start")
    parser.add_argument("--checkout", type=Path, default=ROOT, help="the checkout whose scripts/serve is timed")
    parser.add_argument("--fresh-venv", action="store_true", help="the first start also makes the venv")
    options = parser.parse_args()
    script = options.checkout.resolve() / "scripts" / "serve"

    firsts: list[tuple[float, float]] = []
    restarts: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as base_name:
        base = Path(base_name)
        env = {"ENDRPI_HOST_ROOT": str(host_tree(base)), "ENDRPI_VCGENCMD": "/nonexistent"}
        for round_number in range(options.rounds):
            data = base / f"data{round_number}"
            round_env = dict(env)
            if options.fresh_venv:
                round_env["ENDRPI_VENV"] = str(base / f"venv{round_number}")
            ready, answered, printed = start_once(data, round_env, script, [])
            firsts.append((ready, answered))
            if round_number == 0:
                print("First start printed:\n  " + "\n  ".join(printed) + "\n")
            for _ in range(options.restarts):
                ready, answered, printed = start_once(data, round_env, script, [])
                restarts.append((ready, answered))
        print("A restart printed:\n  " + "\n  ".join(printed) + "\n")

    def row(name: str, figures: list[tuple[float, float]]) -> str:
        ready = [figure[0] for figure in figures]
        answered = [figure[1] for figure in figures]
        return (
            f"  {name:<34}{statistics.median(ready):>8.2f}{max(ready):>8.2f}"
            f"{statistics.median(answered):>10.2f}{max(answered):>8.2f}   (n={len(figures)})"
        )

    print(f"scripts/serve of {options.checkout.resolve()}: seconds from launch")
    print(f"  {'':<34}{'ready':>8}{'max':>8}{'answers':>10}{'max':>8}")
    print(row("first start" + (" (with a new venv)" if options.fresh_venv else ""), firsts))
    print(row("restart", restarts))
    restart_median = statistics.median(figure[0] for figure in restarts)
    met = "met" if restart_median < TARGET_RESTART_S else "MISSED"
    print(f"  target: a restart ready in under {TARGET_RESTART_S:.0f} s (median): {met}")


if __name__ == "__main__":
    main()
