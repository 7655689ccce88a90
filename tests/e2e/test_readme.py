"""Every shell block in README.md runs, in order, against a running Herald, so the README stays true.

Herald runs as the README's quick start has it (``herald up`` with the embedded defaults:
SQLite and the outbox under ``./var``), on free ports and a RabbitMQ vhost of its own. Each block
runs in ``bash`` from Herald's working directory, which has a ``.venv/bin`` holding ``herald``
and ``python`` as the README names them, with the README's addresses replaced by the test's
(``127.0.0.1:8001`` and the AMQP URL) and ``KEY``/``ADMIN_TOKEN`` set as the README says to
(empty: the defaults need neither). ``curl`` fails on an HTTP error, so a block that gets a 4xx
fails. Between blocks the test waits until notifier has no job waiting or running, as a reader
does who looks at a result before typing the next command.

A block that is not meant to run here (installing, a benchmark) is preceded in the README by
``<!-- not-run: why -->``; the reason is required.
"""

import re
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.herald_process import REPO_ROOT, HeraldProcess
from tests.support.waiting import wait_until

README = REPO_ROOT / "README.md"
SHELL_LANGUAGES = {"sh", "bash", "shell"}
NOT_RUN = re.compile(r"<!--\s*not-run:\s*(?P<reason>.*?)\s*-->")
#: What every block runs after: stop at the first failing command, and make an HTTP error one.
PRELUDE = 'set -euo pipefail\ncurl() { command curl --fail-with-body "$@"; }\n'
UNFINISHED = ("enqueued", "processing", "retrying")


@dataclass(frozen=True)
class ShellBlock:
    line: int
    code: str
    not_run: str | None  # the reason, when the README says not to run it


def shell_blocks(markdown: str) -> list[ShellBlock]:
    """The fenced shell blocks of ``markdown``, with the not-run reason of the line before each."""
    blocks = []
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        fence = re.fullmatch(r"(`{3,})\s*(\w*).*", lines[index])
        if not fence:
            index += 1
            continue
        end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith(fence.group(1)))
        if fence.group(2) in SHELL_LANGUAGES:
            before = next((line for line in reversed(lines[:index]) if line.strip()), "")
            marker = NOT_RUN.fullmatch(before.strip())
            blocks.append(ShellBlock(index + 1, "\n".join(lines[index + 1 : end]) + "\n", marker and marker["reason"]))
        index = end + 1
    return blocks


BLOCKS = shell_blocks(README.read_text())


def test_the_readme_has_shell_blocks_and_every_skipped_one_says_why():
    assert len([block for block in BLOCKS if block.not_run is None]) >= 5
    for block in BLOCKS:
        assert block.not_run != "", f"README.md:{block.line}: <!-- not-run: --> needs a reason"


def test_the_block_reader_honours_not_run_markers():
    markdown = "# x\n\n<!-- not-run: installs -->\n```sh\npip install x\n```\n\n```bash\necho hi\n```\n```json\n{}\n```\n"
    assert shell_blocks(markdown) == [ShellBlock(4, "pip install x\n", "installs"), ShellBlock(8, "echo hi\n", None)]


def venv_bin(workdir: Path) -> None:
    """``.venv/bin/herald`` and ``.venv/bin/python`` in Herald's working directory, as a reader
    who followed the quick start has them: this interpreter, wherever it is installed."""
    bin_dir = workdir / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name, command in (("python", f'"{sys.executable}"'), ("herald", f'"{sys.executable}" -m services.cli')):
        script = bin_dir / name
        script.write_text(f'#!/bin/sh\nexec {command} "$@"\n')
        script.chmod(script.stat().st_mode | stat.S_IXUSR)


@pytest.fixture(scope="module")
def readme_herald(tmp_path_factory, rabbit_admin, module_vhost):
    workdir = tmp_path_factory.mktemp("readme")
    venv_bin(workdir)
    process = HeraldProcess(
        workdir,
        # The embedded defaults, but for the broker: a vhost of the test's own.
        {"AMQP_URL": rabbit_admin.amqp_url(module_vhost), "DATABASE_URL": "sqlite:///./var/herald.db", "EMAIL_TRANSPORT": "outbox"},
    )
    for name in ("INGRESS_API_KEYS", "ADMIN_TOKEN", "PRODUCT_NAME", "OUTBOX_DIR"):
        process.env.pop(name, None)
    yield process.start(timeout=90)  # several services and a migration on a busy CI machine
    code, _ = process.stop()
    assert code == 0, f"herald up exited with {code}:\n{process.logs()[-3000:]}"


def as_run_here(code: str, herald: HeraldProcess) -> str:
    """The block with the README's addresses replaced by this Herald's."""
    replacements = {
        "amqp://guest:guest@127.0.0.1:5672/%2F": herald.env["AMQP_URL"],
        "127.0.0.1:8001": herald.auth_events.removeprefix("http://"),
        "127.0.0.1:8002": herald.notifier.removeprefix("http://"),
        "127.0.0.1:8003": herald.scheduler.removeprefix("http://"),
    }
    for readme_value, value in replacements.items():
        code = code.replace(readme_value, value)
    return code


def wait_until_notifier_is_idle(herald: HeraldProcess) -> None:
    def idle() -> bool:
        for status in UNFINISHED:
            answer = httpx.get(f"{herald.notifier}/v1/admin/jobs", params={"status": status, "limit": 1}, timeout=5)
            answer.raise_for_status()
            if answer.json()["count"]:
                return False
        return True

    wait_until(idle, timeout=30, interval=0.1, what="notifier to finish the jobs the block made")


@pytest.mark.parametrize("block", BLOCKS, ids=[f"README.md:{block.line}" for block in BLOCKS])
def test_the_readme_block_runs(block: ShellBlock, readme_herald: HeraldProcess):
    if block.not_run:
        pytest.skip(f"not run: {block.not_run}")
    result = subprocess.run(
        ["bash", "-c", PRELUDE + as_run_here(block.code, readme_herald)],
        cwd=readme_herald.workdir,
        env={**readme_herald.env, "KEY": "", "ADMIN_TOKEN": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, (
        f"README.md:{block.line} failed with {result.returncode}:\n{block.code}\n"
        f"--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}"
    )
    wait_until_notifier_is_idle(readme_herald)
