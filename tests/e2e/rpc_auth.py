"""Caller authentication of the internal RPC, as a test caller does it:
the caller_mac trailer (field 8 of RequestEnvelope) that common/rpc_auth.c
appends and the workers verify. Standard library only.

The MAC key is BLAKE2b-256 of the RPC_AUTH_KEY material keyed with a fixed
context; the MAC is HMAC-SHA-512-256 (libsodium crypto_auth: HMAC-SHA-512
cut to 32 bytes) of every envelope byte before the trailer.
"""

import hashlib
import hmac

CONTEXT = b"taskapi.v1 RequestEnvelope caller_mac"
TAG = b"\x42\x20"   # field 8, length-delimited; 32 bytes follow


def mac_key(material):
    if isinstance(material, str):
        material = material.encode()
    return hashlib.blake2b(material, digest_size=32, key=CONTEXT).digest()


def mac(material, data):
    return hmac.new(mac_key(material), data, hashlib.sha512).digest()[:32]


def sign(data, material):
    """data (a packed RequestEnvelope without caller_mac) signed."""
    return data + TAG + mac(material, data)
