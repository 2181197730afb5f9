"""The README and docs/ point only at things that are there.

Every repository path they mention (a Markdown link, or a path such as ``endrpi_project/http/server.py``
anywhere in the text, code blocks included) exists, a ``file.py::test_name`` names a test that is in that
file, and a link to a heading (``#configuration``) finds that heading. No tracked file cites a Markdown
file that is not in the repository (the code once cited a ``SPEC.md`` that lived outside it).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# MQTT topics under endrpi/<node>/ look like paths into the pins app: "pins/GPIO17", "pins/GPIO17/set".
NOT_PATHS = re.compile(r"pins/(GPIO\d+|\+|<pin>)(/set)?$")
LINK = re.compile(r"\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*$", re.MULTILINE)
TEXT = {".py", ".md", ".html", ".js", ".css", ".in", ".toml", ".txt", ""}
# A relative file name with a source extension, as a tree or a sentence names one (not /etc/..., not a URL).
SOURCE_NAME = re.compile(r"(?<![\w/.:<>$-])((?:[\w.-]+/)*[\w-]+\.(?:py|md|html|js|css|in|toml))\b(?![/\w-])")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def tracked_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [name for name in listed.decode().split("\0") if name]


def top_level_folders() -> set[str]:
    return {name.split("/", 1)[0] for name in tracked_files() if "/" in name}


def mentioned_paths(text: str, folders: set[str]) -> set[str]:
    """Every ``folder/...`` in ``text`` whose first part is one of the repository's top-level folders."""
    names = "|".join(re.escape(folder) for folder in sorted(folders))
    pattern = re.compile(rf"(?<![\w/.<>$-])(?:\./)?((?:{names})/[\w./:+<>-]*)")
    paths = set()
    for match in pattern.finditer(text):
        path = match.group(1).rstrip(".,:;")
        if not NOT_PATHS.search(path):
            paths.add(path)
    return paths


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[`*_]", "", heading).lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(document: Path) -> set[str]:
    return {slug(heading) for heading in HEADING.findall(FENCE.sub("", document.read_text()))}


def unknown_file_names(text: str, files: list[str]) -> set[str]:
    """Names of source files (``daphne.py``, ``websocket/daphne.py``) that end no tracked file's path."""
    unknown = set()
    for name in set(SOURCE_NAME.findall(text)):
        if not any(file == name or file.endswith("/" + name) for file in files):
            unknown.add(name)
    return unknown


def missing_paths(document: Path, folders: set[str], files: list[str] | None = None) -> list[str]:
    problems = [
        f"{document.name}: no file in the repository is {name}"
        for name in sorted(unknown_file_names(document.read_text(), tracked_files() if files is None else files))
    ]
    for mentioned in sorted(mentioned_paths(document.read_text(), folders)):
        path, _, test_name = mentioned.partition("::")
        if not (ROOT / path).exists():
            problems.append(f"{document.name}: {mentioned} is not in the repository")
        elif test_name and not re.search(
            rf"^\s*(async )?def {re.escape(test_name)}\(", (ROOT / path).read_text(), re.M
        ):
            problems.append(f"{document.name}: {path} has no test {test_name}")
    return problems


def broken_links(document: Path) -> list[str]:
    problems = []
    for target in LINK.findall(FENCE.sub("", document.read_text())):
        if re.match(r"[a-z]+:", target):
            continue  # http:, https:, mailto:
        path, _, anchor = target.partition("#")
        linked = (document.parent / path).resolve() if path else document
        if not linked.exists():
            problems.append(f"{document.name}: the link {target} leads nowhere")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            problems.append(f"{document.name}: the link {target} finds no such heading")
    return problems


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_every_repository_path_a_document_mentions_exists(document: Path) -> None:
    assert missing_paths(document, top_level_folders()) == []


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_every_link_in_a_document_leads_somewhere(document: Path) -> None:
    assert broken_links(document) == []


def test_no_tracked_file_cites_a_markdown_file_that_is_not_in_the_repository() -> None:
    """Nor a repository file by its path (``tests/browser/test_history.py``): code and docs alike."""
    files = tracked_files()
    names = {Path(name).name for name in files if name.endswith(".md")}
    folders = top_level_folders()
    problems = []
    for name in files:
        path = ROOT / name
        if path.suffix not in TEXT or path == Path(__file__) or not path.is_file():
            continue
        for cited in set(re.findall(r"(?<![\w/.-])([\w/.-]*\w\.md)\b", path.read_text(errors="replace"))):
            if not ((ROOT / cited).exists() or (path.parent / cited).exists() or Path(cited).name in names):
                problems.append(f"{name} cites {cited}")
        for cited in set(SOURCE_NAME.findall(path.read_text(errors="replace"))):
            if cited.split("/", 1)[0] in folders and "/" in cited and not (ROOT / cited).exists():
                problems.append(f"{name} cites {cited}")
    assert problems == []


def test_the_checker_finds_a_path_that_is_not_there(tmp_path: Path) -> None:
    document = tmp_path / "README.md"
    document.write_text(
        "The reach into daphne is `endrpi_project/websocket/daphne.py`; see [the guide](docs/nowhere.md),\n"
        "[Configuration](#configuration), `tests/test_docs.py::test_nothing_of_the_sort` and `pins/GPIO17/set`.\n"
        "```\nendrpi_project/websocket/  3  consumers.py, registry.py, daphne.py (the one reach into daphne)\n```\n"
        "## Configuration\n"
    )
    files = ["endrpi_project/websocket/consumers.py", "endrpi_project/websocket/registry.py", "tests/test_docs.py"]
    assert missing_paths(document, {"endrpi_project", "tests", "pins"}, files) == [
        "README.md: no file in the repository is daphne.py",
        "README.md: no file in the repository is docs/nowhere.md",
        "README.md: no file in the repository is endrpi_project/websocket/daphne.py",
        "README.md: endrpi_project/websocket/daphne.py is not in the repository",
        "README.md: tests/test_docs.py has no test test_nothing_of_the_sort",
    ]
    assert broken_links(document) == ["README.md: the link docs/nowhere.md leads nowhere"]
