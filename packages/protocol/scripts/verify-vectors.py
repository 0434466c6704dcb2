#!/usr/bin/env python3
"""An independent check of the positive conformance vectors, in Python.

It shares no code with the TypeScript implementation: it decrypts every
positive `provisioning-request` and `access-data` case (ECDH-ES+A256KW with
A256GCM, RFC 7518 4.6 and 5.3) and verifies the inner JWS (ES256 or EdDSA)
with nothing but the `cryptography` package (Debian: python3-cryptography),
then compares the result with the case's `expected` values (and a request's
`cnf.jkt` with the RFC 7638 thumbprint of the submitted device key, access
data with the session it is for). It also verifies
the positive invocation and status query signatures and client assertions,
and recomputes every positive status answer (the query's signature with the
named issuer's keys, then the states of the queried accounts from the
tokens of that issuer only, split by device, by the precedence of spec
4.23).

    python3 packages/protocol/scripts/verify-vectors.py [path/to/vectors.json]

Exits non-zero on the first mismatch.
"""

import base64
import hashlib
import json
import struct
import sys
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def ec_public(jwk: dict) -> ec.EllipticCurvePublicKey:
    assert jwk["kty"] == "EC" and jwk["crv"] == "P-256", jwk
    return ec.EllipticCurvePublicNumbers(
        int.from_bytes(b64d(jwk["x"]), "big"), int.from_bytes(b64d(jwk["y"]), "big"), ec.SECP256R1()
    ).public_key()


def ec_private(jwk: dict) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int.from_bytes(b64d(jwk["d"]), "big"), ec.SECP256R1())


def length_prefixed(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def decrypt_jwe(jwe: str, private_jwk: dict, expected_cty: str) -> bytes:
    protected, encrypted_key, iv, ciphertext, tag = jwe.split(".")
    header = json.loads(b64d(protected))
    assert header["alg"] == "ECDH-ES+A256KW" and header["enc"] == "A256GCM" and header["cty"] == expected_cty, header
    assert sorted(header["epk"]) == ["crv", "kty", "x", "y"], header["epk"]
    shared = ec_private(private_jwk).exchange(ec.ECDH(), ec_public(header["epk"]))
    other_info = length_prefixed(b"ECDH-ES+A256KW") + length_prefixed(b"") + length_prefixed(b"") + struct.pack(">I", 256)
    kek = ConcatKDFHash(algorithm=hashes.SHA256(), length=32, otherinfo=other_info).derive(shared)
    cek = aes_key_unwrap(kek, b64d(encrypted_key))
    return AESGCM(cek).decrypt(b64d(iv), b64d(ciphertext) + b64d(tag), protected.encode("ascii"))


def verify_jws(jws: str, public_jwk: dict) -> tuple[dict, dict]:
    protected, payload, signature = jws.split(".")
    header = json.loads(b64d(protected))
    signing_input = f"{protected}.{payload}".encode("ascii")
    raw = b64d(signature)
    if header["alg"] == "ES256":
        assert public_jwk["alg"] == "ES256" and len(raw) == 64
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        ec_public(public_jwk).verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
    elif header["alg"] == "EdDSA":
        assert public_jwk["alg"] == "EdDSA" and public_jwk["crv"] == "Ed25519"
        ed25519.Ed25519PublicKey.from_public_bytes(b64d(public_jwk["x"])).verify(raw, signing_input)
    else:
        raise AssertionError(f"unexpected alg {header['alg']}")
    return header, json.loads(b64d(payload))


def canonical(value) -> str:
    if isinstance(value, dict):
        items = sorted((k, v) for k, v in value.items() if v is not None)
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + canonical(v) for k, v in items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(canonical(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def jwk_thumbprint(jwk: dict) -> str:
    """RFC 7638: SHA-256 of the required members of an EC key, in lexicographic order, no whitespace."""
    required = {"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"], "y": jwk["y"]}
    text = json.dumps(required, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(text.encode("ascii")).digest()).rstrip(b"=").decode("ascii")


def check_request(case: dict) -> None:
    inp, exp = case["input"], case["expected"]
    header = json.loads(b64d(inp["jwe"].split(".")[0]))
    assert header == exp["jweHeader"], "JWE header"
    key = next(k for k in inp["decryptionKeys"]["keys"] if k["kid"] == header["kid"])
    jws = decrypt_jwe(inp["jwe"], key, "JWT").decode("ascii")
    assert jws == exp["jws"], "decrypted JWS"
    jws_header = json.loads(b64d(jws.split(".")[0]))
    assert jws_header == exp["jwsHeader"] and jws_header["typ"] == "pushprov-request+jwt", "JWS header"
    issuer = exp["claims"]["iss"]
    assert inp["context"]["walletProviderId"] in inp["trustedIssuers"][issuer]["walletProviders"], "the issuer accepts the wallet provider"
    issuer_key = next(k for k in inp["trustedIssuers"][issuer]["keys"] if k["kid"] == jws_header["kid"])
    _, claims = verify_jws(jws, issuer_key)
    assert claims == exp["claims"], "claims"
    assert exp["encryptionKid"] == header["kid"] and exp["signingKid"] == jws_header["kid"]
    now, skew = inp["now"], inp["clockSkewSeconds"]
    assert claims["aud"] == inp["audience"]
    assert 0 < claims["exp"] - claims["iat"] <= inp["maxLifetimeSeconds"]
    assert claims["iat"] - skew <= now < claims["exp"] + skew
    device_key = inp["context"].get("devicePublicKey")
    if "cnf" in claims or device_key is not None:
        assert claims["cnf"] == {"jkt": jwk_thumbprint(device_key)}, "cnf.jkt is the device key's thumbprint"


def check_access_data(case: dict) -> None:
    data = json.loads(decrypt_jwe(case["input"]["jwe"], case["input"]["deviceKey"], "pushprov-access-data+json"))
    assert data == case["expected"]["accessData"], "access data"
    for member, value in case["input"]["session"].items():
        assert data[member] == value, f"access data {member} is the session's"


def check_invocation(case: dict) -> None:
    invocation = dict(case["input"]["invocation"])
    signature = invocation.pop("signature")
    kid = json.loads(b64d(signature.split(".")[0]))["kid"]
    key = next(k for k in case["input"]["issuerKeys"]["keys"] if k["kid"] == kid)
    header, _ = verify_jws(signature, key)
    assert header["typ"] == "pushprov-invocation+jwt"
    assert b64d(signature.split(".")[1]).decode("utf-8") == canonical(invocation), "canonical payload"


def check_status_query(case: dict) -> None:
    query = dict(case["input"]["query"])
    signature = query.pop("signature")
    kid = json.loads(b64d(signature.split(".")[0]))["kid"]
    key = next(k for k in case["input"]["issuerKeys"]["keys"] if k["kid"] == kid)
    header, _ = verify_jws(signature, key)
    assert header["typ"] == "pushprov-status-query+jwt"
    assert b64d(signature.split(".")[1]).decode("utf-8") == canonical(query), "canonical payload"


STATE_PRECEDENCE = [
    ("needs_activation", lambda t: t["status"] == "pending_activation" and not t["activationStarted"]),
    ("activating", lambda t: t["status"] == "pending_activation"),
    ("suspended", lambda t: t["status"] == "suspended"),
    ("added", lambda t: t["status"] == "active"),
]


def account_state(tokens: list) -> str:
    for state, matches in STATE_PRECEDENCE:
        if any(matches(t) for t in tokens):
            return state
    return "not_added"


def check_status_answer(case: dict) -> None:
    inp, response = case["input"], case["expected"]["response"]
    query = dict(inp["query"])
    signature = query.pop("signature")
    assert response["queryId"] == query["queryId"] and response["issuerId"] == query["issuerId"]
    keys = inp["trustedIssuers"].get(query["issuerId"])
    header = json.loads(b64d(signature.split(".")[0]))
    if "errorCode" in response:
        # a refusal names no account, and its reason holds
        assert "accounts" not in response
        code, skew = response["errorCode"], inp["clockSkewSeconds"]
        if code == "unknown_issuer":
            assert keys is None or all(k["kid"] != header["kid"] for k in keys["keys"])
        elif code == "lifetime_exceeded":
            assert not 0 < query["exp"] - query["iat"] <= inp["maxLifetimeSeconds"]
        elif code == "not_yet_valid":
            assert query["iat"] - skew > inp["now"]
        elif code == "expired":
            assert inp["now"] >= query["exp"] + skew
        else:
            raise AssertionError(f"refusal {code} not checked here")
        return
    key = next(k for k in keys["keys"] if k["kid"] == header["kid"])
    verified_header, _ = verify_jws(signature, key)
    assert verified_header["typ"] == "pushprov-status-query+jwt"
    assert b64d(signature.split(".")[1]).decode("utf-8") == canonical(query), "canonical payload"
    assert query["iat"] - inp["clockSkewSeconds"] <= inp["now"] < query["exp"] + inp["clockSkewSeconds"]
    assert 0 < query["exp"] - query["iat"] <= inp["maxLifetimeSeconds"]
    mine = [t for t in inp["tokens"] if t["issuerId"] == query["issuerId"]]
    expected = []
    for account_id in query["accountIds"]:
        held = [t for t in mine if t["accountId"] == account_id]
        expected.append({
            "accountId": account_id,
            "thisDevice": account_state([t for t in held if t["deviceId"] == inp["deviceId"]]),
            "otherDevices": account_state([t for t in held if t["deviceId"] != inp["deviceId"]]),
        })
    assert response["accounts"] == expected, (response["accounts"], expected)
    assert response.get("correlationId") == query.get("correlationId")


def check_client_assertion(case: dict) -> None:
    inp, exp = case["input"], case["expected"]
    kid = json.loads(b64d(inp["assertion"].split(".")[0]))["kid"]
    key = next(k for k in inp["keys"]["keys"] if k["kid"] == kid)
    header, claims = verify_jws(inp["assertion"], key)
    assert header["typ"] == "pushprov-client+jwt"
    assert claims["iss"] == claims["sub"] == exp["walletProviderId"] and claims["aud"] == inp["audience"]
    assert claims["jti"] == exp["jti"] and claims["exp"] == exp["exp"]


CHECKS = {
    "provisioning-request": check_request,
    "access-data": check_access_data,
    "invocation-signature": check_invocation,
    "status-query-signature": check_status_query,
    "status-answer": check_status_answer,
    "client-assertion": check_client_assertion,
}


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "vectors" / "vectors.json"
    cases = json.loads(path.read_text(encoding="utf-8"))["cases"]
    checked = 0
    for case in cases:
        check = CHECKS.get(case["kind"])
        if check is None or case["expected"]["outcome"] != "ok":
            continue
        try:
            check(case)
        except (AssertionError, InvalidSignature, ValueError, KeyError, StopIteration) as error:
            print(f"FAIL {case['id']}: {type(error).__name__} {error}", file=sys.stderr)
            return 1
        checked += 1
        print(f"ok   {case['id']}")
    print(f"{checked} positive cases verified independently (sha256 of file: {hashlib.sha256(path.read_bytes()).hexdigest()[:16]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
