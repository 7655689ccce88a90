"""Writes each email as an .eml file into a directory: local development and tests read it there."""

import os
import tempfile
from pathlib import Path

from services.notifier.email.message import OutgoingEmail, PermanentEmailError, TransientEmailError
from services.notifier.email.transports.mime import build_mime_message


class OutboxSender:
    name = "outbox"

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def send(self, email: OutgoingEmail) -> str | None:
        file_name = f"{email.idempotency_key}.eml"
        if Path(file_name).name != file_name or file_name.startswith("."):
            raise PermanentEmailError(f"idempotency key {email.idempotency_key!r} is not a safe file name")
        content = build_mime_message(email).as_bytes()
        try:
            self._write_atomically(file_name, content)
        except OSError as exc:  # full disk, missing permission, directory removed under us
            raise TransientEmailError(f"cannot write {file_name} to {self.directory}: {exc!r}") from exc
        return file_name

    def _write_atomically(self, file_name: str, content: bytes) -> None:
        # Created on every send, so removing the outbox while Herald runs is harmless.
        self.directory.mkdir(parents=True, exist_ok=True)
        # The temp name is hidden and lacks ".eml", so a reader globbing *.eml never sees a
        # half-written file; os.replace then publishes it in one step (and a redelivered job
        # just replaces its own file).
        descriptor, temp_path = tempfile.mkstemp(dir=self.directory, prefix=f".{file_name}.", suffix=".tmp")
        try:
            with os.fdopen(descriptor, "wb") as temp_file:
                temp_file.write(content)
                temp_file.flush()
                os.fsync(temp_file.fileno())
            os.replace(temp_path, self.directory / file_name)
        except BaseException:
            Path(temp_path).unlink(missing_ok=True)
            raise

    def close(self) -> None:
        """Nothing held open between sends."""
