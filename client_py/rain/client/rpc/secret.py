"""Finding the cluster secret of a server (docs/security.md).

A server publishes its secret for its own user in ``<secrets dir>/<host>_<port>`` (the machine's
host name when it listens on every interface); the secrets dir is ``$RAIN_SECRETS_DIR`` or
``~/.rain/secrets``. A client of the same user on the same machine thus needs no secret argument.
The same rules are implemented for the server and governors in ``common/secret.ts``.
"""

from __future__ import annotations

import os
import socket

SECRET_ENV = "RAIN_SECRET"
SECRETS_DIR_ENV = "RAIN_SECRETS_DIR"


def secrets_dir() -> str:
    explicit = os.environ.get(SECRETS_DIR_ENV)
    if explicit:
        return explicit
    return os.path.join(os.path.expanduser("~"), ".rain", "secrets")


def secret_key(host: object, port: int | str) -> str:
    """The file name of the secret of a server listening on ``host:port``."""
    h = str(host).lower()
    if h.startswith("[") and h.endswith("]"):
        h = h[1:-1]
    if h in ("", "0.0.0.0", "::"):
        h = socket.gethostname().lower()
    return f"{h.replace('/', '_')}_{int(port)}"


def _is_loopback(address: str) -> bool:
    a = address.lower()
    return a.startswith("127.") or a == "::1" or a.startswith("::ffff:127.")


def _is_local(address: str) -> bool:
    """True for loopback and this machine's own addresses (only those can be bound)."""
    if _is_loopback(address):
        return True
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.bind((address, 0))
        return True
    except OSError:
        return False


def candidate_keys(host: str, port: int | str) -> list[str]:
    """Names under which the secret of ``host:port`` may be published, most specific first."""
    keys = [secret_key(host, port)]
    addresses: list[str]
    try:
        addresses = sorted({str(info[4][0]) for info in socket.getaddrinfo(
            host, None, proto=socket.IPPROTO_TCP)})
    except (OSError, UnicodeError):
        addresses = []
    keys.extend(secret_key(a, port) for a in addresses)
    # A server listening on every interface is reachable through any local address.
    if str(host).lower() == "localhost" or any(_is_local(a) for a in addresses):
        keys.append(secret_key("::", port))
    unique: list[str] = []
    for k in keys:
        if k not in unique:
            unique.append(k)
    return unique


def find_secret(host: str, port: int | str) -> str | None:
    """``$RAIN_SECRET``, else the secret published for ``host:port`` by a server of this user on
    this machine, else None (a server started with ``--insecure`` needs none)."""
    from_env = os.environ.get(SECRET_ENV)
    if from_env and from_env.strip():
        return from_env.strip()
    directory = secrets_dir()
    for key in candidate_keys(host, port):
        try:
            with open(os.path.join(directory, key), "r", encoding="utf-8") as f:
                secret = f.readline().strip()
        except OSError:
            continue
        if secret:
            return secret
    return None
