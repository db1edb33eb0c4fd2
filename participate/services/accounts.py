"""Facilitator, moderator and admin accounts; passwords hashed with Argon2id."""

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Account, Role
from . import Conflict, InvalidInput

MIN_PASSWORD_LENGTH = 12
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_hasher = PasswordHasher()


def normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not _EMAIL.match(email) or len(email) > 254:
        raise InvalidInput("Please give a valid email address.")
    return email


def check_password_strength(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"The password must be at least {MIN_PASSWORD_LENGTH} characters long.")


def create(session: Session, email: str, password: str, role: Role = Role.FACILITATOR) -> Account:
    """Create an account; refuses a second account for the same email."""
    email = normalise_email(email)
    check_password_strength(password)
    if session.scalar(select(Account).where(Account.email == email)):
        raise Conflict(f"An account for {email} already exists.")
    account = Account(email=email, password_hash=_hasher.hash(password), role=role)
    session.add(account)
    session.commit()
    return account


def verify_password(account: Account, password: str) -> bool:
    try:
        return _hasher.verify(account.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
