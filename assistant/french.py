"""Python's own English messages as French readers get them: argparse (help, usage, errors), a
file that cannot be read (OSError) and a JSON file that cannot be parsed (JSONDecodeError).

argparse writes its strings through gettext with no French catalogue shipped, so `FrenchParser`
sets its own titles and help action, and `french_argparse_message` rewrites the few error messages
argparse builds (the English patterns of Python 3.11 to 3.13)."""

from __future__ import annotations

import argparse
import errno
import json
import re
import sys
from typing import Any, NoReturn

# -- argparse ----------------------------------------------------------------------------------

_ARGPARSE_ERRORS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), french) for pattern, french in (
        (r"^the following arguments are required: (.*)$", r"arguments obligatoires manquants : \1"),
        (r"^unrecognized arguments: (.*)$", r"arguments inconnus : \1"),
        (r"^one of the arguments (.*) is required$", r"un des arguments \1 est obligatoire"),
        (r"^ambiguous option: (\S+) could match (.*)$", r"option ambiguë : \1 peut désigner \2"),
        (r"^unexpected option string: (.*)$", r"option inattendue : \1"),
        (r"^argument (\S+): (.*)$", r"argument \1 : \2"),
    )
)
_ARGUMENT_PROBLEMS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), french) for pattern, french in (
        (r"^expected one argument$", "une valeur est attendue"),
        (r"^expected at most one argument$", "une valeur au plus est attendue"),
        (r"^expected at least one argument$", "au moins une valeur est attendue"),
        (r"^expected (\d+) arguments?$", r"\1 valeur(s) attendue(s)"),
        (r"^invalid (\S+) value: (.*)$", r"valeur \2 invalide (\1 attendu)"),
        (r"^not allowed with argument (.*)$", r"incompatible avec l'argument \1"),
        (r"^ignored explicit argument (.*)$", r"valeur \1 ignorée : cette option n'en prend pas"),
    )
)


_INVALID_CHOICE = re.compile(r"^invalid choice: (.*) \(choose from (.*)\)$")


def _unquoted(text: str) -> str:
    return ", ".join(part.strip().strip("'\"") for part in text.split(","))


def french_argparse_message(message: str) -> str:
    """An argparse error message in French ("the following arguments are required: --role" ->
    "arguments obligatoires manquants : --role"); an unknown message is kept as it is."""
    head, sep, problem = message.partition(": ")
    choice = _INVALID_CHOICE.match(problem if head.startswith("argument ") else message)
    if choice:
        where = f"{head} : " if head.startswith("argument ") else ""
        return (f"{where}choix invalide « {_unquoted(choice.group(1))} » "
                f"(possibles : {_unquoted(choice.group(2))})")
    for pattern, french in _ARGPARSE_ERRORS:
        if pattern.match(message):
            message = pattern.sub(french, message)
            break
    head, sep, problem = message.partition(" : ")
    if sep and head.startswith("argument "):
        for pattern, french in _ARGUMENT_PROBLEMS:
            if pattern.match(problem):
                return head + sep + pattern.sub(french, problem)
    for pattern, french in _ARGUMENT_PROBLEMS:
        if pattern.match(message):
            return pattern.sub(french, message)
    return message


# Placeholders of option values, in French, where argparse would show the English destination
# ("--token JETON", not "--token TOKEN").
METAVARS = {
    "hub": "URL", "token": "JETON", "main_db": "BASE", "db": "BASE", "dossier": "ID",
    "host": "ADRESSE", "port": "PORT", "workers": "N", "name": "NOM", "unit": "UNITÉ",
    "doctor": "RPPS", "secretary": "NOM", "scopes": "PORTÉE", "until": "DATE",
    "specialty": "CODE", "age": "ÂGE", "needs": "BESOIN", "isolation": "CODE", "limit": "N",
    "scenario": "SCÉNARIO", "unit_id": "UNITÉ", "file": "FICHIER",
}


class FrenchHelpFormatter(argparse.HelpFormatter):
    def add_usage(self, usage: str | None, actions: Any, groups: Any, prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, "usage : " if prefix is None else prefix)

    def start_section(self, heading: str | None) -> None:
        # argparse writes "heading:"; French puts a space before the colon
        super().start_section(f"{heading} " if heading else heading)


class FrenchParser(argparse.ArgumentParser):
    """An ArgumentParser whose help, usage and errors read in French; its sub-commands' parsers
    are FrenchParsers too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", FrenchHelpFormatter)
        add_help = kwargs.pop("add_help", True)
        super().__init__(*args, add_help=False, **kwargs)
        self._positionals.title = "arguments"
        self._optionals.title = "options"
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                              help="afficher cette aide et quitter")

    def add_argument(self, *args: Any, **kwargs: Any) -> Any:
        action = super().add_argument(*args, **kwargs)
        if "metavar" not in kwargs and action.dest in METAVARS and action.nargs != 0:
            action.metavar = METAVARS[action.dest]
        return action

    def add_subparsers(self, **kwargs: Any) -> Any:
        kwargs.setdefault("parser_class", FrenchParser)
        kwargs.setdefault("title", "commandes")
        kwargs.setdefault("metavar", "COMMANDE")
        return super().add_subparsers(**kwargs)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog} : erreur : {french_argparse_message(message)}\n")


# -- files -------------------------------------------------------------------------------------

_OS_ERRORS = {
    errno.ENOENT: "fichier introuvable",
    errno.EACCES: "lecture non autorisée (droits du fichier)",
    errno.EPERM: "opération non autorisée",
    errno.EISDIR: "c'est un dossier, pas un fichier",
    errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
    errno.ENAMETOOLONG: "nom de fichier trop long",
    errno.ELOOP: "trop de liens symboliques",
    errno.EIO: "erreur d'entrée-sortie du disque",
    errno.ENOSPC: "plus de place sur le disque",
    errno.EROFS: "système de fichiers en lecture seule",
    errno.EEXIST: "le fichier existe déjà",
}


def os_error_fr(exc: OSError) -> str:
    """What went wrong with a file, in French ("fichier introuvable"), never Python's English."""
    return _OS_ERRORS.get(exc.errno or 0, f"erreur système {exc.errno}" if exc.errno else "erreur système")


_JSON_ERRORS = {
    "Expecting property name enclosed in double quotes": "un nom de propriété entre guillemets doubles est attendu",
    "Expecting value": "une valeur est attendue",
    "Expecting ':' delimiter": "« : » est attendu",
    "Expecting ',' delimiter": "« , » est attendue",
    "Unterminated string starting at": "texte entre guillemets non terminé",
    "Invalid control character at": "caractère de contrôle interdit dans un texte",
    "Extra data": "contenu en trop après la fin du JSON",
    "Invalid \\escape": "séquence d'échappement « \\ » invalide",
    "Invalid \\uXXXX escape": "séquence « \\u » invalide (4 chiffres hexadécimaux attendus)",
    "Illegal trailing comma before end of object": "virgule en trop avant « } »",
    "Illegal trailing comma before end of array": "virgule en trop avant « ] »",
}


def json_error_fr(exc: json.JSONDecodeError) -> str:
    """What is wrong in a JSON text, in French, with the line and the column:
    "ligne 3, colonne 1 : virgule en trop avant « } »"."""
    problem = _JSON_ERRORS.get(exc.msg, exc.msg)
    before = exc.doc[:exc.pos].rstrip()
    after = exc.doc[exc.pos:exc.pos + 1]
    if before.endswith(",") and after in ("}", "]"):
        problem = f"virgule en trop avant « {after} »"
    elif not exc.doc.strip():
        problem = "le fichier est vide"
    elif not exc.doc[exc.pos:].strip() and exc.msg != "Extra data":
        problem = f"le JSON s'arrête avant la fin ({problem})"
    return f"ligne {exc.lineno}, colonne {exc.colno} : {problem}"


class FrenchRawDescriptionHelpFormatter(FrenchHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """French help that keeps the description's and epilog's own line breaks (a settings list)."""
