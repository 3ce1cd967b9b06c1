"""The one error replay raises for bad input: a message that names the file and the field."""

from __future__ import annotations


class ReplayInputError(ValueError):
    """Input (log file or mapping) that cannot be replayed; the CLI exits with ``exit_code``.

    The message is one line, starting with the file name, e.g.
    ``mapping.yaml: activities.Picked: 'picked_up' is not an exsim event``.
    """

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))
