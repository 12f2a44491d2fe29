"""Where `orient --hub URL` and `orient replay --hub URL` take their access token from.

A token given as `--token T` is visible to every user of the machine in the process list (`ps`,
/proc/PID/cmdline) for as long as the program runs. So the token is read, in this order, from:

1. `--token-file PATH`: a file holding the token, readable by its owner only (0600 or 0400) and
   owned by the person running `orient`; a file others may read, or a file of another account,
   is refused: the token in it is no secret any more;
2. `--token T`: still accepted, with a warning on stderr that it shows in the process list;
3. the environment variable `ORIENT_TOKEN` (an environment is readable by its owner and root
   only).

Every message is French, for the command line.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ENV_VARIABLE = "ORIENT_TOKEN"
MAX_TOKEN_FILE = 4096

TOKEN_HELP = ("jeton d'accès au hub distant ; visible par tous dans la liste des processus (ps) : "
              f"préférez la variable d'environnement {ENV_VARIABLE} ou --token-file")
TOKEN_FILE_HELP = ("fichier contenant le jeton d'accès, lisible par vous seul (chmod 600) ; un "
                   "fichier lisible par d'autres est refusé")
EPILOG = (f"Jeton d'un hub distant (--hub) : --token-file FICHIER (droits 600), sinon la variable "
          f"d'environnement {ENV_VARIABLE} ; --token JETON marche encore mais le rend visible dans "
          "la liste des processus.")
PROCESS_LIST_WARNING = (f"attention : --token rend le jeton visible par tous dans la liste des "
                        f"processus ; préférez {ENV_VARIABLE}=… ou --token-file (fichier en 600).")


class TokenSourceError(ValueError):
    """The token cannot be taken from where it was given; the message is French."""


@dataclass(frozen=True)
class FoundToken:
    token: str | None
    warning: str | None = None  # to print on stderr (a token given on the command line)


def find_token(token: str | None, token_file: str | None,
               environ: Mapping[str, str] | None = None) -> FoundToken:
    """The token to use and the warning to show, or TokenSourceError."""
    if token and token_file:
        raise TokenSourceError("donnez le jeton soit par --token, soit par --token-file, pas les deux.")
    if token_file:
        return FoundToken(read_token_file(token_file))
    if token:
        return FoundToken(token.strip(), PROCESS_LIST_WARNING)
    env = os.environ if environ is None else environ
    value = (env.get(ENV_VARIABLE) or "").strip()
    return FoundToken(value or None)


def read_token_file(name: str) -> str:
    path = Path(name)
    shown = f"--token-file « {name} »"
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise TokenSourceError(f"{shown} : fichier introuvable.") from None
    except OSError as exc:
        if path.is_symlink():
            raise TokenSourceError(f"{shown} : lien symbolique refusé ; donnez le fichier lui-même.") from None
        raise TokenSourceError(f"{shown} : lecture impossible ({exc.strerror}).") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise TokenSourceError(f"{shown} : ce n'est pas un fichier ordinaire.")
    with os.fdopen(fd, "rb") as handle:
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            raise TokenSourceError(f"{shown} : le fichier appartient à un autre compte ; le jeton "
                                   "doit être dans un fichier à vous, lisible par vous seul.")
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            raise TokenSourceError(
                f"{shown} : fichier lisible ou modifiable par d'autres que vous (droits {mode:04o}) ; "
                f"le jeton n'y est plus secret. Restreignez-le : chmod 600 {name}")
        data = handle.read(MAX_TOKEN_FILE + 1)
    if len(data) > MAX_TOKEN_FILE:
        raise TokenSourceError(f"{shown} : fichier trop long pour un jeton.")
    try:
        lines = data.decode("utf-8").strip().splitlines()
    except UnicodeDecodeError:
        raise TokenSourceError(f"{shown} : le fichier n'est pas du texte UTF-8.") from None
    if not lines or not lines[0].strip():
        raise TokenSourceError(f"{shown} : le fichier est vide.")
    if len(lines) > 1:
        raise TokenSourceError(f"{shown} : une seule ligne attendue (le jeton).")
    return lines[0].strip()
