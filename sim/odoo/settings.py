"""Where the Odoo test database is and who we are there.

Settings come from command-line flags or the environment (``EXSIM_ODOO_URL``, ``EXSIM_ODOO_DB``,
``EXSIM_ODOO_USER``, ``EXSIM_ODOO_PASSWORD``; flags win; on Odoo 19+ also ``EXSIM_ODOO_API_KEY``,
the key JSON-2 authenticates with, else the password is tried as one). Password and key are
secrets: never printed or logged (``repr`` masks them), and a password typed as a plain
command-line value, where shell history and ``ps`` can see it, is accepted with a warning only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

ENV = {
    "url": "EXSIM_ODOO_URL",
    "db": "EXSIM_ODOO_DB",
    "user": "EXSIM_ODOO_USER",
    "password": "EXSIM_ODOO_PASSWORD",
}
API_KEY_ENV = "EXSIM_ODOO_API_KEY"  # an Odoo API key, for JSON-2 on Odoo 19+ (a secret)
PLAIN_PASSWORD_WARNING = (
    "warning: a password given on the command line is visible in shell history and to other "
    "users (ps); prefer EXSIM_ODOO_PASSWORD or --password-file"
)


class SettingsError(ValueError):
    """A missing or malformed connection setting (one line, names the flag and variable)."""


@dataclass(frozen=True)
class Settings:
    url: str
    db: str
    user: str
    password: str = field(repr=False)
    timeout_s: float = 60.0
    api_key: str | None = field(default=None, repr=False)  # JSON-2 (Odoo 19+) bearer key

    def __repr__(self) -> str:
        key = ", api_key=***" if self.api_key else ""
        return f"Settings(url={self.url!r}, db={self.db!r}, user={self.user!r}, password=***{key})"

    __str__ = __repr__

    @property
    def host(self) -> str:
        return urlparse(self.url).hostname or ""

    @property
    def port(self) -> int:
        parsed = urlparse(self.url)
        return parsed.port or (443 if parsed.scheme == "https" else 80)

    @property
    def ssl(self) -> bool:
        return urlparse(self.url).scheme == "https"


def resolve(
    url: str | None = None,
    db: str | None = None,
    user: str | None = None,
    password: str | None = None,
    password_file: Path | None = None,
    environ: dict[str, str] | None = None,
    warn=None,
) -> Settings:
    """Settings from flags, falling back to the environment; ``warn(msg)`` for a plain password."""
    env = os.environ if environ is None else environ
    if password is not None and warn is not None:
        warn(PLAIN_PASSWORD_WARNING)
    if password is None and password_file is not None:
        try:
            password = Path(password_file).read_text().strip()
        except OSError as exc:
            raise SettingsError(
                f"--password-file: cannot read {password_file}: {exc.strerror}"
            ) from None
    values = {"url": url, "db": db, "user": user, "password": password}
    for name, var in ENV.items():
        if not values[name]:
            values[name] = env.get(var) or None
    missing = [f"--{n} / {ENV[n]}" for n, v in values.items() if not v]
    if missing:
        raise SettingsError("missing Odoo connection setting(s): " + ", ".join(missing))
    try:
        parsed = urlparse(values["url"])
        parsed.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.hostname:
        shown = redact(values["url"])
        raise SettingsError(f"--url / EXSIM_ODOO_URL: not an http(s) URL: {shown!r}")
    if parsed.username is not None or parsed.password is not None:
        # credentials belong in --user/--password; a URL is echoed in messages and logs
        values["url"] = redact(values["url"], keep=False)
    return Settings(**values, api_key=env.get(API_KEY_ENV) or None)


def redact(url: str, keep: bool = True) -> str:
    """``url`` without the ``user:password@`` part (``***@`` in its place when ``keep``)."""
    head, sep, rest = url.partition("://")
    if not sep:
        head, rest = "", url
    netloc, slash, path = rest.partition("/")
    if "@" in netloc:
        netloc = ("***@" if keep else "") + netloc.rsplit("@", 1)[1]
    return (head + sep if sep else "") + netloc + slash + path
