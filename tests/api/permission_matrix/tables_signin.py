"""Sign-in: the issuer's public keys, and the caller's own two-step sign-in.

Starting two-step sign-in needs it off (as it is for everyone in `net`); confirming needs a
started set-up and the current code; turning it off needs it on and the current code, and is
refused to superusers (409: they must keep it on).
"""

from collections.abc import Callable
from typing import Any

import pyotp
from sqlalchemy.orm import Session

from tests.api.permission_matrix.matrix import (
    PUBLIC,
    SIGNED_IN,
    Expect,
    Scene,
    is_the_caller,
    same_for_all,
    table,
)


def _totp(*, enabled: bool) -> Callable[[Scene, Session], None]:
    """Give the caller a two-step sign-in secret: set-up started, or (`enabled`) turned on."""

    def arrange(scene: Scene, session: Session) -> None:
        if scene.caller is not None:
            scene.caller.totp_secret = pyotp.random_base32()
            scene.caller.totp_enabled = enabled
            session.flush()

    return arrange


def _current_code(scene: Scene) -> dict[str, Any]:
    # Without a caller there is no secret to answer for: any well-formed code will do.
    secret = scene.caller.totp_secret if scene.caller is not None else pyotp.random_base32()
    return {"code": pyotp.TOTP(secret).now()}


EXPECTATIONS = {
    "getJwks": Expect(PUBLIC),
    "startMfa": Expect(SIGNED_IN),
    "confirmMfa": Expect(
        SIGNED_IN, arrange=_totp(enabled=False), body=_current_code, check=is_the_caller
    ),
    "disableMfa": Expect(
        table(**{**same_for_all(204, anonymous=401), "superuser": (409, 409, 409)}),
        arrange=_totp(enabled=True),
        body=_current_code,
    ),
}
