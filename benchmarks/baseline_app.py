"""The baseline of ``benchmarks/service.py``: a token API written the way FastAPI's tutorial
"OAuth2 with Password (and hashing), Bearer with JWT tokens" writes one.

Shape of the tutorial, kept on purpose (this is what the jwtkit service is compared with):

* ``OAuth2PasswordBearer(tokenUrl="token")`` extracts the Bearer token (RFC 6750 §2.1);
* an ``async`` ``get_current_user`` dependency calls
  ``jwt.decode(token, SECRET_KEY, algorithms=[ALGORITHM])`` (PyJWT, HS256) on every request and
  looks the user up in an in-memory dict; ``get_current_active_user`` refuses disabled users;
* ``POST /token`` takes ``OAuth2PasswordRequestForm`` (the RFC 6749 §4.3 password grant),
  verifies the password and answers ``{"access_token", "token_type": "bearer"}``; no refresh
  tokens, no revocation, no ``iss``/``aud``/``jti``; the password check runs inside the
  ``async`` endpoint, as in the tutorial (it blocks the event loop while Argon2 runs);
* ``GET /users/me`` answers the caller's ``User`` through ``response_model``.

One deliberate difference: the tutorial hashes with pwdlib's recommended Argon2 settings; here
argon2-cffi's ``PasswordHasher`` (Argon2id) takes the jwtkit service's parameters (the
``argon2_*`` defaults of :class:`jwtkit.server.config.Settings`), so a login costs the same
hash on both sides. Environment variables (read at import, so every worker agrees):

* ``BASELINE_SECRET_KEY``: the HS256 key (default: random per process; set it with workers > 1);
* ``BASELINE_USERNAME`` / ``BASELINE_PASSWORD``: the one user (``johndoe`` / ``secret-password``);
* ``BASELINE_ARGON2_TIME_COST``, ``BASELINE_ARGON2_MEMORY_COST`` (KiB),
  ``BASELINE_ARGON2_PARALLELISM``: default 3, 65536, 4, as in the jwtkit service.

Run: ``uvicorn benchmarks.baseline_app:app``.
"""

from __future__ import annotations

import os
import secrets
from datetime import datetime, timedelta, timezone
from typing import Annotated

import argon2
import jwt
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, FastAPI, HTTPException, status
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from jwt.exceptions import InvalidTokenError
from pydantic import BaseModel

__all__ = [
    "ACCESS_TOKEN_EXPIRE_MINUTES",
    "ALGORITHM",
    "Token",
    "TokenData",
    "User",
    "UserInDB",
    "app",
    "authenticate_user",
    "create_access_token",
    "get_current_active_user",
    "get_current_user",
    "get_user",
]

SECRET_KEY = os.environ.get("BASELINE_SECRET_KEY") or secrets.token_hex(32)
ALGORITHM = "HS256"
ACCESS_TOKEN_EXPIRE_MINUTES = 15

password_hasher = argon2.PasswordHasher(
    time_cost=int(os.environ.get("BASELINE_ARGON2_TIME_COST", "3")),
    memory_cost=int(os.environ.get("BASELINE_ARGON2_MEMORY_COST", "65536")),
    parallelism=int(os.environ.get("BASELINE_ARGON2_PARALLELISM", "4")),
    type=argon2.Type.ID,
)
# Verified for unknown users, so that a missing account costs as much as a wrong password.
DUMMY_HASH = password_hasher.hash(secrets.token_urlsafe(16))

_USERNAME = os.environ.get("BASELINE_USERNAME", "johndoe")
fake_users_db: dict[str, dict[str, object]] = {
    _USERNAME: {
        "username": _USERNAME,
        "full_name": "John Doe",
        "email": "johndoe@example.com",
        "hashed_password": password_hasher.hash(
            os.environ.get("BASELINE_PASSWORD", "secret-password")
        ),
        "disabled": False,
    }
}


class Token(BaseModel):
    access_token: str
    token_type: str


class TokenData(BaseModel):
    username: str | None = None


class User(BaseModel):
    username: str
    email: str | None = None
    full_name: str | None = None
    disabled: bool | None = None


class UserInDB(User):
    hashed_password: str


oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")
app = FastAPI(title="baseline: FastAPI OAuth2 + JWT tutorial style")


def verify_password(plain_password: str, hashed_password: str) -> bool:
    try:
        return password_hasher.verify(hashed_password, plain_password)
    except (VerificationError, InvalidHashError):
        return False


def get_user(db: dict[str, dict[str, object]], username: str) -> UserInDB | None:
    record = db.get(username)
    return UserInDB.model_validate(record) if record is not None else None


def authenticate_user(
    db: dict[str, dict[str, object]], username: str, password: str
) -> UserInDB | None:
    user = get_user(db, username)
    if user is None:
        verify_password(password, DUMMY_HASH)
        return None
    if not verify_password(password, user.hashed_password):
        return None
    return user


def create_access_token(data: dict[str, object], expires_delta: timedelta | None = None) -> str:
    to_encode = dict(data)
    expire = datetime.now(timezone.utc) + (expires_delta or timedelta(minutes=15))
    to_encode["exp"] = expire
    return jwt.encode(to_encode, SECRET_KEY, algorithm=ALGORITHM)


async def get_current_user(token: Annotated[str, Depends(oauth2_scheme)]) -> User:
    credentials_exception = HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail="Could not validate credentials",
        headers={"WWW-Authenticate": "Bearer"},
    )
    try:
        payload = jwt.decode(token, SECRET_KEY, algorithms=[ALGORITHM])
        username = payload.get("sub")
        if username is None:
            raise credentials_exception
        token_data = TokenData(username=username)
    except InvalidTokenError:
        raise credentials_exception from None
    user = get_user(fake_users_db, username=token_data.username or "")
    if user is None:
        raise credentials_exception
    return user


async def get_current_active_user(
    current_user: Annotated[User, Depends(get_current_user)],
) -> User:
    if current_user.disabled:
        raise HTTPException(status_code=400, detail="Inactive user")
    return current_user


@app.post("/token")
async def login_for_access_token(
    form_data: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> Token:
    user = authenticate_user(fake_users_db, form_data.username, form_data.password)
    if user is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Incorrect username or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    access_token = create_access_token(
        data={"sub": user.username},
        expires_delta=timedelta(minutes=ACCESS_TOKEN_EXPIRE_MINUTES),
    )
    return Token(access_token=access_token, token_type="bearer")


@app.get("/users/me", response_model=User)
async def read_users_me(
    current_user: Annotated[User, Depends(get_current_active_user)],
) -> User:
    return current_user
