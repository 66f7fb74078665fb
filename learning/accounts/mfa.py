"""The second factor: TOTP enrolment and checks, single-use recovery codes, and resets.

TOTP secrets are encrypted at rest with Fernet under a key derived (HKDF) from
SECRET_KEY, so a copy of the database alone does not give the codes; changing
SECRET_KEY therefore means resetting everyone's second factor.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import re
import secrets
from datetime import datetime
from functools import lru_cache

import pyotp
import segno
import sqlalchemy as sa
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

from learning.accounts.auth_models import MfaCredential, RecoveryCode, RememberToken
from learning.accounts.models import User
from learning.accounts.service import end_all_sessions
from learning.extensions import db
from learning.timeutil import utcnow

ISSUER = "Waymark"
PRIVILEGED_ROLES = ("admin", "manager", "trainer")
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # 16 characters: 80 random bits
STEP_SECONDS = 30
TOTP_CODE = re.compile(r"[0-9]{6}")
EPOCH = datetime(1970, 1, 1)


class MfaError(ValueError):
    """A second-factor request that cannot be carried out, with a message for people."""


@lru_cache(maxsize=4)
def _fernet_for(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"waymark totp secrets").derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _fernet() -> Fernet:
    return _fernet_for(current_app.config["SECRET_KEY"])


def needs_mfa(user: User) -> bool:
    """True when this account must sign in with a second factor under this configuration."""
    return bool(current_app.config["REQUIRE_MFA"]) and user.role in PRIVILEGED_ROLES


def credential_of(user_id: int) -> MfaCredential | None:
    """The user's TOTP credential, confirmed or still waiting for its first code."""
    return db.session.scalar(sa.select(MfaCredential).where(MfaCredential.user_id == user_id))


def has_mfa(user_id: int) -> bool:
    """True when the user has a confirmed second factor."""
    return db.session.scalar(sa.select(MfaCredential.id).where(
        MfaCredential.user_id == user_id, MfaCredential.confirmed_at.is_not(None))) is not None


def totp_secret(credential: MfaCredential) -> str:
    """The base32 TOTP secret, decrypted."""
    return _fernet().decrypt(credential.secret.encode()).decode()


def start_enrolment(user: User) -> MfaCredential:
    """The credential waiting for its first code, created with a new secret if needed."""
    credential = credential_of(user.id)
    if credential is not None and credential.confirmed_at is not None:
        raise MfaError("A second factor is already set up for this account.")
    if credential is None:
        credential = MfaCredential(user_id=user.id, secret=_fernet().encrypt(
            pyotp.random_base32().encode()).decode())
        db.session.add(credential)
        db.session.flush()
    return credential


def provisioning_uri(user: User, credential: MfaCredential) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(totp_secret(credential)).provisioning_uri(name=user.email,
                                                                 issuer_name=ISSUER)


def qr_svg(uri: str) -> bytes:
    """The QR code of an address, as a standalone SVG document."""
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", scale=5, border=2,
                                    title="QR code for your authenticator app")
    return buffer.getvalue()


def _step(now: datetime) -> int:
    return int((now - EPOCH).total_seconds()) // STEP_SECONDS


def check_totp(credential: MfaCredential, code: str, now: datetime | None = None) -> bool:
    """True for a current code (one step of clock drift allowed) not used before.

    The step of an accepted code is stored with a conditional update, so the same
    code, or an older one, is refused afterwards, even by a concurrent request.
    """
    code = code.replace(" ", "")
    if not TOTP_CODE.fullmatch(code):
        return False
    totp, current = pyotp.TOTP(totp_secret(credential)), _step(now or utcnow())
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            result = db.session.execute(sa.update(MfaCredential).where(
                MfaCredential.id == credential.id,
                sa.or_(MfaCredential.last_used_step.is_(None),
                       MfaCredential.last_used_step < step)).values(last_used_step=step))
            db.session.expire(credential)
            return result.rowcount == 1
    return False


def _normalise_recovery_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code).lower()


def _hash_code(code: str) -> str:
    return hashlib.sha256(_normalise_recovery_code(code).encode()).hexdigest()


def use_recovery_code(user_id: int, code: str, now: datetime | None = None) -> bool:
    """True, once, for one of the user's unused recovery codes (marked used atomically)."""
    if not 8 <= len(_normalise_recovery_code(code)) <= 32:
        return False
    result = db.session.execute(sa.update(RecoveryCode).where(
        RecoveryCode.user_id == user_id, RecoveryCode.code_hash == _hash_code(code),
        RecoveryCode.used_at.is_(None)).values(used_at=now or utcnow()))
    return result.rowcount == 1


def check_second_factor(user: User, code: str, now: datetime | None = None) -> str | None:
    """How the user proved the second factor ("totp" or "recovery code"), or None."""
    credential = credential_of(user.id)
    if credential is None or credential.confirmed_at is None or len(code) > 64:
        return None
    if TOTP_CODE.fullmatch(code.replace(" ", "")):
        return "totp" if check_totp(credential, code, now) else None
    return "recovery code" if use_recovery_code(user.id, code, now) else None


def new_recovery_codes(user_id: int) -> list[str]:
    """Replace the user's recovery codes; returns the new ones (shown once, stored hashed)."""
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(16))
        codes.append("-".join(raw[i:i + 4] for i in range(0, 16, 4)))
    db.session.add_all(RecoveryCode(user_id=user_id, code_hash=_hash_code(code))
                       for code in codes)
    return codes


def confirm_enrolment(user: User, code: str, now: datetime | None = None) -> list[str]:
    """Turn the waiting credential on with a first code; returns the new recovery codes."""
    credential = credential_of(user.id)
    if credential is None or credential.confirmed_at is not None:
        raise MfaError("Start setting up the second factor again.")
    if not check_totp(credential, code, now):
        raise MfaError("This code is not correct. Enter the current code from the app.")
    credential.confirmed_at = now or utcnow()
    # Remember-me tokens made with the password alone must not pass for the second factor.
    db.session.execute(sa.delete(RememberToken).where(RememberToken.user_id == user.id))
    return new_recovery_codes(user.id)


def reset_mfa(user: User) -> bool:
    """Remove the user's second factor and end their sessions (the caller audits and commits).

    Returns whether there was anything to remove. A privileged account is asked to
    set up a new factor at its next sign-in.
    """
    removed = db.session.execute(sa.delete(MfaCredential).where(
        MfaCredential.user_id == user.id)).rowcount
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    end_all_sessions(user)
    return bool(removed)
