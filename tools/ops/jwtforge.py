"""HS256 JSON Web Tokens for verify's 401 checks: an expired token signed
with the deployment's key (when JWT_SECRET is given) or with a wrong one.
Decoding here never verifies; it only copies the claims of a real token."""

import base64
import hashlib
import hmac
import json


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(s):
    return base64.urlsafe_b64decode((s + "=" * (-len(s) % 4)).encode())


def encode(claims, secret):
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"},
                             separators=(",", ":")).encode())
    body = b64url(json.dumps(claims, separators=(",", ":")).encode())
    key = secret.encode() if isinstance(secret, str) else secret
    sig = hmac.new(key, (head + "." + body).encode("ascii"),
                   hashlib.sha256).digest()
    return head + "." + body + "." + b64url(sig)


def claims_of(token):
    """The payload of a compact JWS, unverified; {} when it is not one."""
    try:
        claims = json.loads(b64url_decode(token.split(".")[1]))
    except (ValueError, IndexError):
        return {}
    return claims if isinstance(claims, dict) else {}
