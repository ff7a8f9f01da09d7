#!/usr/bin/env python3
"""Writes the binary seed inputs of
tests/fuzz/corpus/{rpc,render,jwt,dns,config}/
(standard library only). The JSON seeds of corpus/{json,transcode}/ are
hand-written files. Run from anywhere; rewrites only the files it names."""
import base64
import hashlib
import hmac
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
SECRET = b"fuzz-secret-0123456789abcdef0123456789abcdef"  # fuzz_jwt.c
NOW = 1767225600


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def varint(n):
    n &= (1 << 64) - 1
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(num, value):
    """A protobuf field: int -> varint, bytes/str -> length-delimited."""
    if isinstance(value, int):
        return varint(num << 3) + varint(value)
    if isinstance(value, str):
        value = value.encode()
    return varint(num << 3 | 2) + varint(len(value)) + value


def envelope(method, rid="", payload=b"", key="", deadline=None, user=None):
    e = field(1, method) + field(2, rid)
    if deadline is not None:
        e += field(3, field(1, deadline) + field(2, 5))
    if user is not None:
        e += field(4, field(1, user) + field(2, "ann") + field(4, "user"))
    return e + field(5, payload) + field(6, key)


def rpc():
    t = "/taskapi.v1.TaskService/"
    a = "/taskapi.v1.AuthService/"
    task = field(1, "title") + field(3, 2)  # title, status enum
    put("rpc", "get_ok", envelope(t + "GetTask", "r1", field(1, 7), user=3))
    put("rpc", "create_fail", envelope(t + "CreateTask", "f\x05", task, "k1"))
    put("rpc", "update_violations",
        envelope(t + "UpdateTask", "v", field(1, 9), "abcdef"))
    put("rpc", "list_twice", envelope(t + "ListTasks", "d", b"", "key"))
    put("rpc", "delete_never", envelope(t + "DeleteTask", "n", field(1, 1)))
    put("rpc", "login_null", envelope(a + "Login", "z",
                                      field(1, "ann") + field(2, "pw")))
    put("rpc", "register_wrong_type", envelope(a + "RegisterUser", "w",
                                               field(1, "ann")))
    put("rpc", "validate_ok", envelope(a + "ValidateToken", "",
                                       field(1, "tok")))
    put("rpc", "health", envelope("/taskapi.v1.Health/Check", "h"))
    put("rpc", "health_liveness", envelope("/taskapi.v1.Health/Check", "",
                                           field(1, 1)))
    put("rpc", "unknown_method", envelope(t + "Nope", "x"))
    put("rpc", "past_deadline", envelope(t + "GetTask", "r", field(1, 1),
                                         deadline=1000))
    put("rpc", "bad_payload", envelope(t + "GetTask", "r", b"\xff\xff\xff"))
    put("rpc", "truncated", envelope(t + "GetTask", "r1")[:-3])
    put("rpc", "big_key", envelope(t + "CreateTask", "", task, "K" * 3000))


def ts(seconds, nanos=0):
    return field(1, seconds) + (field(2, nanos) if nanos else b"")


def task(i=7, status=2, priority=3, due=None):
    t = field(1, i) + field(2, 3) + field(3, "Write docs")
    t += field(4, field(1, "with figures")) + field(5, status)
    t += field(6, priority)
    if due is not None:
        t += field(7, due)
    return t + field(8, ts(1740910504, 221000000)) + field(9, ts(1740910504))


def render():
    # The first byte is the index in fuzz_render.c's types[].
    put("render", "task", b"\x00" + task(due=ts(1741000000)))
    put("render", "list", b"\x01" + field(1, task()) + field(1, task(8, 1, 1))
        + field(2, 2) + field(3, 1))
    put("render", "get_unknown_status", b"\x02" + field(1, task(status=9)))
    put("render", "get_negative_enum", b"\x02" + field(1, task(status=-1)))
    put("render", "create_far_dates", b"\x03" + field(1, "Task created")
        + field(2, task(due=ts(-99999999999999, 5) + b"")))
    put("render", "update_huge_ts", b"\x04" + field(1, "ok")
        + field(2, task(due=ts(2 ** 62, 999999999))))
    put("render", "delete", b"\x05" + field(1, "Task deleted"))
    put("render", "register", b"\x06" + field(1, "User registered") + field(
        2, field(1, 5) + field(2, "ann") + field(3, "a@b.c")
        + field(4, ts(1740910504))))
    put("render", "login", b"\x07" + field(1, "Login successful")
        + field(2, "eyJ.x.y") + field(3, field(1, 5) + field(2, "ann")))
    put("render", "validate", b"\x08" + field(1, 1) + field(
        2, field(1, 2 ** 53 + 1) + field(2, "zo\u00eb")))
    put("render", "health", b"\x09" + field(1, 1))
    put("render", "control_chars", b"\x00" + field(3, "a\x01\x1fb\"\\"))


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=")


def token(header, claims, key=SECRET, alg=hashlib.sha256):
    h = b64(json.dumps(header, separators=(",", ":")).encode())
    c = b64(json.dumps(claims, separators=(",", ":")).encode())
    sig = b64(hmac.new(key, h + b"." + c, alg).digest()) if key else b""
    return h + b"." + c + b"." + sig


def jwt():
    hs = {"alg": "HS256", "typ": "JWT"}
    ok = {"iss": "taskapi", "aud": "taskapi", "user_id": 42,
          "username": "ann", "email": "a@b.c", "role": "user",
          "iat": NOW - 60, "exp": NOW + 3600}
    v = b"\x00"
    put("jwt", "verify_ok", v + token(hs, ok))
    put("jwt", "verify_expired", v + token(hs, dict(ok, exp=NOW - 1)))
    put("jwt", "verify_user0", v + token(hs, dict(ok, user_id=0)))
    put("jwt", "verify_string_id", v + token(hs, dict(ok, user_id="42")))
    put("jwt", "verify_float_exp", v + token(hs, dict(ok, exp=1.8e9)))
    put("jwt", "verify_hs384", v + token({"alg": "HS384"}, ok,
                                         alg=hashlib.sha384))
    put("jwt", "verify_none", v + token({"alg": "none"}, ok, key=None))
    put("jwt", "verify_wrong_key", v + token(hs, ok, key=b"other"))
    put("jwt", "verify_garbage", v + b"a.b.c")
    put("jwt", "verify_crit", v + token(dict(hs, crit=["exp"], exp=1), ok))
    put("jwt", "verify_no_typ", v + token({"alg": "HS256"}, ok))
    put("jwt", "verify_nbf_future", v + token(hs, dict(ok, nbf=NOW + 31)))
    put("jwt", "verify_iat_future", v + token(hs, dict(ok, iat=NOW + 31)))
    put("jwt", "verify_exp_leeway", v + token(hs, dict(ok, exp=NOW - 29)))
    put("jwt", "verify_aud_array", v + token(hs, dict(ok, aud=["x",
                                                               "taskapi"])))
    put("jwt", "verify_no_iss", v + token(hs, {k: x for k, x in ok.items()
                                               if k != "iss"}))
    put("jwt", "verify_user_2p31", v + token(hs, dict(ok, user_id=2 ** 31)))
    rt = b"\x01" + struct.pack(">qqq", 42, NOW - 5, 100)
    put("jwt", "roundtrip_ok", rt + b"ann\x00a@b.c\x00admin")
    put("jwt", "roundtrip_expired", b"\x01" + struct.pack(">qqq", 9, 0, -3)
        + b"bob\x00\x00")
    put("jwt", "roundtrip_utf8", rt + "zoë\x00ü@b.c".encode())
    put("jwt", "roundtrip_bad_utf8", rt + b"\xff\xfe\x00x")


def dns_name(name):
    out = b""
    for label in name.split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def dns_reply(qid, answers, flags=0x8180, name="task.local"):
    h = struct.pack(">HHHHHH", qid, flags, 1, len(answers), 0, 0)
    q = dns_name(name) + struct.pack(">HH", 1, 1)
    body = b""
    for typ, rdata in answers:
        body += b"\xc0\x0c" + struct.pack(">HHIH", typ, 1, 60, len(rdata))
        body += rdata
    return h + q + body


def dns():
    r = b"\x00"
    put("dns", "reply_two_a", r + dns_reply(0x4242, [
        (1, bytes([10, 0, 0, 7])), (1, bytes([10, 0, 0, 8]))]))
    put("dns", "reply_cname_a", r + dns_reply(7, [
        (5, dns_name("other.local")), (1, bytes([192, 168, 1, 2]))]))
    put("dns", "reply_aaaa", r + dns_reply(9, [(28, bytes(16))]))
    put("dns", "reply_truncated_tc", r + dns_reply(1, [(1, b"\x01\x02\x03\x04")],
                                                   flags=0x8380))
    put("dns", "reply_nxdomain", r + dns_reply(2, [], flags=0x8183))
    put("dns", "reply_short_rdata", r + dns_reply(3, [(1, b"\x01\x02")]))
    put("dns", "reply_cut", r + dns_reply(4, [(1, b"\x01\x02\x03\x04")])[:-2])
    put("dns", "query_name", b"\x01task-svc.local\x00\x0a\x00\x00\x09")
    put("dns", "query_long_label", b"\x01" + b"a" * 64 + b".x\x00\x01\x02\x03\x04")
    put("dns", "query_trailing_dot", b"\x01a.b.\x00\x7f\x00\x00\x01")


def config():
    vals = ["plain", "abcd", "warn", "s3cret-value", "req", "42", "8080", "04",
            "-3", "99"]
    put("config", "all_ok", "\x00".join(vals))
    put("config", "missing_required", "\x00".join(vals[:4]))
    put("config", "bad_port", "\x00".join(vals[:6] + ["70000"] + vals[7:]))
    put("config", "bad_choice", "\x00".join(vals[:2] + ["loud"] + vals[3:]))
    put("config", "short_secret", "\x00".join(vals[:3] + ["abc"] + vals[4:]))
    put("config", "int_spaces", "\x00".join(vals[:5] + [" +12"] + vals[6:]))
    put("config", "int_overflow",
        "\x00".join(vals[:5] + ["99999999999999999999"] + vals[6:]))
    put("config", "empty_values", "\x00" * 9)


if __name__ == "__main__":
    rpc()
    render()
    jwt()
    dns()
    config()
