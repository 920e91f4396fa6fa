"""Reading an answer as a person means it: a choice letter however it is written, a letter in a blank.

Pure text functions, with no key: the learner's kernel uses them to record and check an answer, the
judge (outside the kernel) to read the answer cell of a submitted notebook. ``B``, ``b``, ``B.``,
``(B)``, ``B)``, ``"B"``, ``Ｂ`` (fullwidth), ``В`` (Cyrillic), ``B  # because …``, ``b because a …``,
``B) A …`` and the full text of option B all mean B; two different letters (``A or B``, ``A, C``) are
ambiguous and mean nothing. The reading rules are one table in docs/GRADING.md.
"""
from __future__ import annotations

import ast
import io
import re
import tokenize
import unicodedata
from dataclasses import dataclass
from typing import Iterable

_PUNCTUATION = "()[]{}.,:;!?\"'`*_"
#: characters nobody types on purpose (pasted from web pages and PDFs): removed before reading
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
#: Cyrillic and Greek letters drawn like a Latin one (what another keyboard layout gives for "A")
LOOKALIKES = dict(zip("АВСЕНІЈКМОРЅТХУавсеіјорѕхуһԁΑΒΕΖΗΙΚΜΝΟΡΤΥΧαβεο",
                      "ABCEHIJKMOPSTXYabceijopsxyhdABEZHIKMNOPTYXabeo"))
_CONNECTORS = {"or", "and", "&", "+", "vs", "versus"}
_CONSTANTS = {"true": "True", "false": "False", "none": "None"}
_WORD = re.compile(r"[^\W\d]\w*")
# a comment or an (ASCII-quoted) string literal: what code normalisation must look inside or leave alone
_LITERAL = re.compile(r"(?P<comment>#[^\n]*)"
                      r"""|(?P<string>'''[\s\S]*?'''|\"\"\"[\s\S]*?\"\"\"|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*")""")


def normalise(text: str) -> str:
    """``text`` as its writer meant it: invisible characters removed, NFKC (``Ｂ．`` → ``B.``, no-break space → space)."""
    return unicodedata.normalize("NFKC", text.translate(dict.fromkeys(map(ord, INVISIBLE))))


def normalise_code(code: str, keep: str = "") -> str:
    """Code as meant: invisible characters (but those in ``keep``) removed; NFKC outside string literals.

    Python already reads identifiers NFKC-normalised and any other non-ASCII character outside a
    string is a syntax error, so this changes no valid code's meaning; a string's text is left as
    typed (``'Ｂ'`` stays ``'Ｂ'``).
    """
    code = code.translate({ord(c): None for c in INVISIBLE if c not in keep})
    out, pos = [], 0
    for match in _LITERAL.finditer(code):
        if match.group("string"):
            out += [unicodedata.normalize("NFKC", code[pos:match.start()]), match.group()]
            pos = match.end()
    return "".join(out) + unicodedata.normalize("NFKC", code[pos:])


def _code_parts(code: str) -> list[str]:
    """The pieces of ``code`` outside string literals and comments."""
    parts, pos = [], 0
    for match in _LITERAL.finditer(code):
        parts.append(code[pos:match.start()])
        pos = match.end()
    return parts + [code[pos:]]


@dataclass(frozen=True)
class Reading:
    """What an answer says: one option letter, or why it could not be read (never both)."""

    letter: str | None = None
    problem: str | None = None  # "empty", "ambiguous", "not-an-option"
    message: str = ""


def strip_comments(text: str) -> str:
    """``text`` without Python comments (a ``#`` inside quotes is kept); malformed code: cut at ``#``."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    lines = text.splitlines(keepends=True)
    for tok in reversed([t for t in tokens if t.type == tokenize.COMMENT]):
        row, col = tok.start
        line = lines[row - 1]
        lines[row - 1] = line[:col] + line[col + len(tok.string):]
    return "".join(lines)


def _words(text: str) -> list[str]:
    return " ".join(text.lower().strip(_PUNCTUATION + " ").split()).split()


def _normal(text: str) -> str:
    return " ".join(w.strip(_PUNCTUATION) for w in _words(text))


def _as_letter(token: str, letters: list[str]) -> str | None:
    """The option letter one token names (``B``, ``b.``, ``(B)``, Cyrillic ``В``), else None."""
    bare = token.strip(_PUNCTUATION)
    bare = LOOKALIKES.get(bare, bare)
    return bare.upper() if len(bare) == 1 and bare.upper() in letters else None


def _article(tokens: list[str], i: int) -> bool:
    """Is ``tokens[i]`` the word "a" (``A bug …``, ``a <= …``) rather than a letter?"""
    word = tokens[i]
    follows = tokens[i + 1].lower() if i + 1 < len(tokens) else ""
    return LOOKALIKES.get(word, word) in ("a", "A") and bool(follows) and follows not in _CONNECTORS


def read_choice(text: str | None, options: dict[str, str]) -> Reading:
    """The one option letter ``text`` names (see the module docstring), or why there is none."""
    letters = list(options)
    body = strip_comments(normalise(text)).strip() if text is not None else ""
    if not body or "[1]" in body:
        return Reading(problem="empty", message="Not answered yet.")
    whole = _normal(body)
    named = [k for k, v in options.items() if whole and (whole == _normal(v) or whole == _normal(f"{k} {v}"))]
    if len(named) != 1 and len(whole.split()) >= 2:  # the start of one option's text ("a broken"): that option
        named = [k for k, v in options.items() if _normal(v).startswith(whole)]
    if len(named) == 1:
        return Reading(letter=named[0])
    tokens = [t for t in re.split(r"[\s,;/]+", body) if t.strip(_PUNCTUATION)]
    lead = _as_letter(tokens[0], letters) if tokens else None
    if lead:  # "C) A bug in …", "c because a <= …", "B. The samples differ…": the leading letter
        found = {lead} | {m for i in range(1, len(tokens))
                          if (m := _as_letter(tokens[i], letters)) and not _article(tokens, i)}
    else:
        singles = [LOOKALIKES.get(b, b) for t in tokens if len(b := t.strip(_PUNCTUATION)) == 1]
        upper = {t for t in singles if t in letters}
        lower = {t.upper() for t in singles if t.islower() and t.upper() in letters}
        found = upper or lower  # "I chose B because a single check…": the capital letter is the answer
    if len(found) == 1:
        return Reading(letter=next(iter(found)))
    valid = ", ".join(letters)
    if len(found) > 1:
        both = " and ".join(sorted(found))
        return Reading(problem="ambiguous", message=f"Your answer names {both}: give exactly one of {valid}.")
    return Reading(problem="not-an-option", message=f"Answer with one of {valid} (the letter of your choice).")


def read_letter(text: str, letters: list[str] | tuple[str, ...]) -> str | None:
    """The option letter a blank holds when the learner typed a letter (``A``, ``a``, ``(A)``, ``'A.'``, ``Ａ``, ``А``)."""
    key = normalise(text).strip().strip(_PUNCTUATION + " ")
    key = LOOKALIKES.get(key, key).upper()
    return key if len(key) == 1 and key in letters else None


def _script(char: str) -> str:
    return unicodedata.name(char, "non-Latin").split()[0].capitalize()


def _bound(code: str) -> set[str]:
    """The names ``code`` itself defines (assigns, imports, takes as parameters)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return set()
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    names |= {a.arg for n in ast.walk(tree) if isinstance(n, ast.arguments)
              for a in n.posonlyargs + n.args + n.kwonlyargs + [n.vararg, n.kwarg] if a}
    names |= {(a.asname or a.name).split(".")[0] for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
              for a in n.names}
    return names | {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}


def typing_problem(text: str, codes: Iterable[str] = (), whole_code: bool = False) -> str | None:
    """Why ``text`` (a blank's fill, or with ``whole_code`` all of an answer) is not the Python its writer
    meant, or None.

    Only what a person means and Python cannot read as typed: an option's code in quotes (``'True'``
    for ``True``; ``codes`` are the blank's options), a Cyrillic or Greek look-alike inside a name
    (``Тrue``; in a whole answer only a name mixing it with Latin letters, ``α`` may be a name of its
    own), ``true``/``false``/``none`` not spelt as Python spells them — unless the answer defines that name.
    """
    bound = _bound(text) if whole_code else set()
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        value = None
    if isinstance(value, str):
        for code in codes:
            if " ".join(value.split()).casefold() == " ".join(code.split()).casefold() and code.strip()[:1] not in "'\"":
                what = f"the value {code}" if code.isidentifier() else f"the code `{code}`"
                return f"`{text.strip()}` is text, not {what}: drop the quotes."
    for part in _code_parts(text):
        for word in (w for w in _WORD.findall(part) if w not in bound):
            latin = "".join(LOOKALIKES.get(c, c) for c in word)
            if latin != word and latin.isascii() and not (whole_code and not any(c.isascii() for c in word)):
                char = next(c for c in word if c in LOOKALIKES)
                if len(word) == 1:
                    return f"`{word}` is the {_script(char)} letter; type the Latin {latin}."
                return (f"`{word}` holds the {_script(char)} letter `{char}`; type the Latin {LOOKALIKES[char]} "
                        f"(Python reads `{word}` as a name of its own).")
            proper = _CONSTANTS.get(word.lower())
            if proper and word != proper:
                return f"Python writes `{proper}` with a capital {proper[0]} (the rest in lower case), not `{word}`."
    return None
