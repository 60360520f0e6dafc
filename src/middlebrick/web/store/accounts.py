"""Users, browser sessions and API tokens. Passwords are argon2 hashes; session and API tokens
are kept only as their SHA-256, so the database never holds a credential that works."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from middlebrick.errors import ConfigError
from middlebrick.web.models import ApiToken, LoginSession, User
from middlebrick.web.store.database import Database, now
from middlebrick.web.store.records import ApiTokenRecord, UserRecord

TOKEN_PREFIX = "mbk_"  # noqa: S105 - the marker every API token starts with, not a secret
ADMIN = "admin"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts(Database):
    def __init__(self, url: str, *, session_hours: float = 12.0) -> None:
        super().__init__(url)
        self.session_lifetime = timedelta(hours=session_hours)
        self._hasher = PasswordHasher()
        self._decoy = self._hasher.hash(secrets.token_urlsafe(16))

    # users ------------------------------------------------------------------------------------

    def create_user(self, username: str, password: str, *, is_admin: bool = False) -> UserRecord:
        username = username.strip()
        if not username or len(username) > 64 or any(c.isspace() for c in username):
            raise ConfigError("a user name is 1-64 characters without spaces")
        if not password:
            raise ConfigError("the password is empty")
        user = User(
            username=username,
            password_hash=self._hasher.hash(password),
            is_admin=is_admin,
            created_at=now(),
        )
        try:
            with self._tx() as db:
                db.add(user)
        except IntegrityError:
            raise ConfigError(f"the user {username!r} exists already") from None
        return _user(user)

    def authenticate(self, username: str, password: str) -> UserRecord | None:
        """The user if the password is right. An unknown name costs one hash verification too,
        so response times do not tell which names exist."""
        with self._tx() as db:
            user = db.scalar(select(User).where(User.username == username.strip()))
            try:
                self._hasher.verify(user.password_hash if user else self._decoy, password)
            except (VerificationError, InvalidHashError):
                return None
            if user is None:
                return None
            if self._hasher.check_needs_rehash(user.password_hash):
                user.password_hash = self._hasher.hash(password)
            return _user(user)

    def count_users(self) -> int:
        with self._tx() as db:
            return db.scalar(select(func.count()).select_from(User)) or 0

    def ensure_admin(self) -> str | None:
        """Create `admin` with a random password and return the password (to print once) when
        there is no user at all; otherwise None."""
        if self.count_users():
            return None
        password = secrets.token_urlsafe(18)
        try:
            self.create_user(ADMIN, password, is_admin=True)
        except ConfigError:  # another process created it in between
            return None
        return password

    # sessions ---------------------------------------------------------------------------------

    def create_session(self, user_id: int) -> tuple[str, str]:
        """A new login: (session token for the cookie, CSRF token for the forms). It lasts
        `session_hours` from now; expired sessions are swept here."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        moment = now()
        with self._tx() as db:
            db.execute(delete(LoginSession).where(LoginSession.expires_at <= moment))
            db.add(
                LoginSession(
                    token_hash=digest(token),
                    user_id=user_id,
                    csrf_token=csrf,
                    created_at=moment,
                    expires_at=moment + self.session_lifetime,
                )
            )
        return token, csrf

    def session_user(self, token: str) -> tuple[UserRecord, str] | None:
        """(user, CSRF token) of a live session; None for an unknown or expired token."""
        with self._tx() as db:
            row = db.execute(
                select(User, LoginSession)
                .join(LoginSession, LoginSession.user_id == User.id)
                .where(LoginSession.token_hash == digest(token))
            ).first()
            if row is None:
                return None
            user, login = row
            if login.expires_at <= now():
                db.delete(login)
                return None
            return _user(user), login.csrf_token

    def delete_session(self, token: str) -> None:
        with self._tx() as db:
            db.execute(delete(LoginSession).where(LoginSession.token_hash == digest(token)))

    # API tokens -------------------------------------------------------------------------------

    def create_api_token(self, user_id: int, name: str) -> str:
        """A new token, returned once: only its SHA-256 is stored."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._tx() as db:
            db.add(
                ApiToken(
                    user_id=user_id,
                    name=name.strip()[:100] or "token",
                    token_hash=digest(token),
                    prefix=token[:10],
                    created_at=now(),
                )
            )
        return token

    def token_user(self, token: str) -> UserRecord | None:
        if not token.startswith(TOKEN_PREFIX):
            return None
        with self._tx() as db:
            row = db.execute(
                select(User, ApiToken)
                .join(ApiToken, ApiToken.user_id == User.id)
                .where(ApiToken.token_hash == digest(token))
            ).first()
            if row is None:
                return None
            user, api_token = row
            api_token.last_used_at = now()
            return _user(user)

    def list_api_tokens(self, user_id: int) -> list[ApiTokenRecord]:
        with self._tx() as db:
            rows = db.scalars(
                select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)
            )
            return [
                ApiTokenRecord(t.id, t.name, t.prefix, t.created_at, t.last_used_at) for t in rows
            ]

    def revoke_api_token(self, user_id: int, token_id: int) -> bool:
        """False when the user has no such token (someone else's included)."""
        with self._tx() as db:
            gone = db.execute(
                delete(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id)
            )
            return bool(gone.rowcount)  # type: ignore[attr-defined]


def _user(user: User) -> UserRecord:
    return UserRecord(user.id, user.username, user.is_admin, user.created_at)
