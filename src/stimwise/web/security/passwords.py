"""Password hashing (argon2id) and the password rules.

Hashes are computed with argon2id, the winner of the Password Hashing Competition and the
variant RFC 9106 recommends [C: RFC 9106 §4, 2021]. The standard profile is RFC 9106's second
recommended option (t=3, 64 MiB, p=4) [C: RFC 9106 §4; argon2-cffi ``RFC_9106_LOW_MEMORY``].

A password must be at least 12 characters: NIST requires at least 8 for passwords chosen by
the user [C: NIST SP 800-63B (2017) §5.1.1.2]; 12 is stimwise's choice for accounts that reach
health records [U]. Composition rules are not imposed (SP 800-63B §5.1.1.2 advises against
them), but, as it asks, context-specific and repetitive values are refused: a password
containing the user name (of 4 or more characters), or made of fewer than 5 distinct
characters (``aaaa…``, ``1212…``) [U: the thresholds].
"""

from __future__ import annotations

from typing import Literal

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import ConfigDict

from stimwise.errors import FieldProblem

MIN_PASSWORD_LENGTH = 12
MIN_DISTINCT_CHARACTERS = 5
MIN_NAME_IN_PASSWORD = 4
"""A user name this long or longer may not appear inside the password (shorter ones, such as
'ann', occur inside ordinary words) [U]."""
MAX_PASSWORD_LENGTH = 256
"""Long passphrases are welcome; the ceiling only bounds hashing work per request [U]."""

KEEP_SPACES = ConfigDict(str_strip_whitespace=False)
"""Config of input models holding passwords: taken exactly as typed, spaces included."""

_DUMMY_HASH_INPUT = "stimwise-timing-equaliser"


def make_hasher(profile: Literal["standard", "fast-for-tests"] = "standard") -> PasswordHasher:
    parameters = profiles.RFC_9106_LOW_MEMORY if profile == "standard" else profiles.CHEAPEST
    return PasswordHasher.from_parameters(parameters)


def password_problems(password: str, username: str, path: str = "password") -> list[FieldProblem]:
    """Why ``password`` is not acceptable for ``username`` (empty when it is). The value is
    never echoed back: problems show only its length."""
    shown = f"<{len(password)} character{'' if len(password) == 1 else 's'}>"
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        expected = f"between {MIN_PASSWORD_LENGTH} and {MAX_PASSWORD_LENGTH} characters"
        return [FieldProblem(path, shown, expected)]
    name, secret = username.casefold(), password.casefold()
    if secret == name or (len(name) >= MIN_NAME_IN_PASSWORD and name in secret):
        return [FieldProblem(path, shown, "a password that does not contain the user name")]
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        expected = f"at least {MIN_DISTINCT_CHARACTERS} different characters (not a repetition)"
        return [FieldProblem(path, shown, expected)]
    return []


class Passwords:
    """Hash and check passwords with one argon2 configuration."""

    def __init__(self, hasher: PasswordHasher) -> None:
        self._hasher = hasher
        self._dummy = hasher.hash(_DUMMY_HASH_INPUT)

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches; with no stored hash (unknown user) a dummy hash is
        checked anyway, so the answer takes as long and reveals nothing about who exists."""
        try:
            return self._hasher.verify(stored_hash or self._dummy, password) and bool(stored_hash)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)
