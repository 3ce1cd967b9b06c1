"""The repository as a newcomer meets it: the README's worked examples leave nothing in the
clone's root (everything they write goes under ``runs/``, which git ignores), and the code,
the README's Python blocks and the notebooks pass the pinned ruff's lint and format checks."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import typer.main

from sim.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
#: Flags naming what a command writes.
OUT_FLAGS = ("--out", "-o", "--save-dir", "--charts")
#: Places a write may go: under runs/ (git-ignored), or nowhere.
ALLOWED = ("runs/", "/dev/null")


def shell_commands(markdown: str) -> list[list[str]]:
    """Every command of the ```bash blocks, continuation lines joined, as shell words."""
    out = []
    for block in re.findall(r"```bash\n(.*?)```", markdown, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            command: list[str] = []
            for w in [*words, "&&"]:
                if w in ("&&", "||", ";", "|", "&"):
                    if command:
                        out.append(command)
                    command = []
                else:
                    command.append(w)
    return out


def _leaves(group, prefix: str = "") -> dict:
    """Every command by its words (``odoo receive``); groups have ``commands``."""
    found = {}
    for name, cmd in group.commands.items():
        if getattr(cmd, "commands", None):
            found.update(_leaves(cmd, f"{prefix}{name} "))
        else:
            found[f"{prefix}{name}"] = cmd
    return found


COMMANDS = _leaves(typer.main.get_command(app))


def _verb(words: list[str]) -> str:
    """'odoo receive' for ``exsim odoo receive --port 1``."""
    for n in (2, 1):
        if " ".join(words[1 : 1 + n]) in COMMANDS:
            return " ".join(words[1 : 1 + n])
    raise AssertionError(f"README runs an unknown command: {' '.join(words)}")


def defaults_in_the_current_directory() -> dict[str, str]:
    """Commands whose --out defaults to a file in the current directory."""
    out = {}
    for verb, cmd in COMMANDS.items():
        for p in cmd.params:
            default = p.default
            if p.name == "out" and default not in (None, "") and not callable(default):
                out[verb] = str(default)
    return {verb: d for verb, d in out.items() if not d.startswith(ALLOWED)}


def written_paths(words: list[str]) -> list[str]:
    """What one command writes, as the example names it (flags, redirections, Python calls)."""
    paths = [b for a, b in zip(words, words[1:], strict=False) if a in OUT_FLAGS or a == ">"]
    paths += [w[1:] for w in words if w.startswith(">") and len(w) > 1]
    if words[:2] == ["python", "-c"]:
        code = words[2]
        paths += re.findall(r"to_csv\('([^']+)'", code)
        paths += re.findall(r"open\('([^']+)', '[wa]'\)", code)
        paths += re.findall(r"export\([^)]*, '([^']+)'\)", code)
    return paths


def test_the_parser_finds_every_kind_of_write() -> None:
    md = (
        "```bash\nexsim run x --out a \\\n  -o b > c  # --out not-this\n"
        "mkdir -p runs && python -c \"f.to_csv('d'); open('e', 'w')\"\n```\n"
    )
    found = [p for words in shell_commands(md) for p in written_paths(words)]
    assert found == ["a", "b", "c", "d", "e"]
    assert shell_commands(md)[1] == ["mkdir", "-p", "runs"]


def test_readme_examples_write_only_under_runs() -> None:
    commands = shell_commands(README)
    exsim = [w for w in commands if w[0] == "exsim"]
    assert len(exsim) > 30  # the parser sees the examples
    cwd_defaults = defaults_in_the_current_directory()
    assert {"calibrate", "odoo receive"} <= set(cwd_defaults)  # the rule below is not vacuous
    outside = [
        (" ".join(words), path)
        for words in commands
        for path in written_paths(words)
        if not path.startswith(ALLOWED)
    ]
    assert outside == []
    relying = [
        " ".join(w)
        for w in exsim
        if _verb(w) in cwd_defaults and not set(OUT_FLAGS) & set(w) and "--help" not in w
    ]
    assert relying == [], f"these write {cwd_defaults} into the current directory"
    assert "runs/" in (ROOT / ".gitignore").read_text().splitlines()


def _pinned_ruff() -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (pin,) = [d for d in project["project"]["optional-dependencies"]["dev"] if d.startswith("ruff")]
    assert re.fullmatch(r"ruff==[\d.]+", pin), f"ruff is not pinned in the dev extra: {pin}"
    return pin.split("==")[1]


@pytest.mark.parametrize("check", [["check", "."], ["format", "--check", "."]])
def test_ruff_passes_with_the_pinned_version(check: list[str]) -> None:
    """Formatting depends on ruff's version, hence the pin; ``.`` covers the README's Python
    blocks and the notebooks."""
    pin = _pinned_ruff()
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff not installed (pip install '.[dev]')")
    version = subprocess.run([ruff, "--version"], capture_output=True, text=True).stdout.split()
    if version[-1] != pin:
        pytest.skip(f"ruff {version[-1]} installed, the dev extra pins {pin}")
    res = subprocess.run([ruff, *check], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
