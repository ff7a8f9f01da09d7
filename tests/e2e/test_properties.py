"""e2e.properties: seeded randomized property tests over the whole system.
The seed comes from TA_TEST_SEED or is drawn at random; it is printed at the
start ("seed=<n>") and in every failure message, so a failing run can be
repeated exactly with TA_TEST_SEED=<n>."""

import json
import os
import random
import string
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import taskapi_system as ts  # noqa: E402
import pages_model as pm  # noqa: E402

SEED = int(os.environ.get("TA_TEST_SEED")
           or random.SystemRandom().randrange(2 ** 31))
ITERATIONS = 100
POOL_SIZE = 10

SYS = None
POOL = []          # registered, logged-in users
OWNED = {}         # user id -> set of that user's task ids
PASSWORDS = []     # every password this module sent
TOKENS = []        # every token the system issued to this module


def rng_for(name):
    return random.Random("%d-%s" % (SEED, name))


# ------------------------------------------------------------ generators

SQLISH = ["'; DROP TABLE tasks; --", "\" OR 1=1 --", "Robert'); --",
          "$1", "%s%n", "\\", "\\\\'", "NULL", "null", "<script>", "\\u0041"]
RANGES = [(0x20, 0x7e), (0xa0, 0xff), (0x370, 0x3ff), (0x400, 0x4ff),
          (0x590, 0x5ff), (0x600, 0x6ff), (0x4e00, 0x9fff), (0xac00, 0xd7a3),
          (0x1f300, 0x1f64f), (0x1f900, 0x1f9ff), (0x10000, 0x1007f)]
SPECIAL = ["\u0301", "\u0308", "\u200d", "\u200b", "\ufeff", "\u2028",
           "\u2029", "\t", "\n", "\r", "\x01", "\x1f", "\x7f", "\"", "'",
           "\\", "/", "\ufffd", "\U0010fffd", "e\u0301", "\U0001f468\u200d"
           "\U0001f469\u200d\U0001f467"]


# What task-svc refuses in titles (controls) and descriptions (controls
# but tab, line feed and carriage return): docs/identifiers.md.
TITLE_REFUSED = ("\t", "\n", "\r", "\x01", "\x1f", "\x7f")
DESCRIPTION_REFUSED = ("\x01", "\x1f", "\x7f")


def rand_text(rng, min_cp, max_cp, refused=()):
    """Unicode text of min_cp..max_cp code points, no NUL, no surrogates,
    first and last code point printable and not a space, none of the
    SPECIAL strings in refused."""
    n = rng.randint(min_cp, max_cp)
    parts = []
    total = 0
    while total < n:
        k = rng.random()
        if k < 0.1:
            s = rng.choice(SQLISH)
        elif k < 0.25:
            s = rng.choice(SPECIAL)
            if s in refused:
                continue
        else:
            lo, hi = rng.choice(RANGES)
            s = "".join(chr(rng.randint(lo, hi))
                        for _ in range(rng.randint(1, 12)))
        parts.append(s)
        total += len(s)
    cps = list("".join(parts))[:n]
    edge = "aZ\u00e9\u4e2d\U0001f600'\"\\;"
    cps[0] = rng.choice(edge)
    cps[-1] = rng.choice(edge)
    return "".join(cps)


def rand_title(rng, min_cp, max_cp):
    return rand_text(rng, min_cp, max_cp, TITLE_REFUSED)


def rand_password(rng):
    pw = rand_text(rng, 12, 40)
    PASSWORDS.append(pw)
    return pw


def rand_due(rng):
    """(string sent, expected unix ms)."""
    y = rng.randint(1990, 2099)
    mo = rng.randint(1, 12)
    d = rng.randint(1, 28)
    hh, mm, ss = rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)
    digits = rng.choice([0, 0, 1, 2, 3])
    frac = ""
    if digits:
        frac = "." + "".join(rng.choice(string.digits) for _ in range(digits))
    off = rng.choice(["Z", "+00:00", "+05:30", "-08:00", "+14:00", "-12:00",
                      "+09:45", "-03:30", "+01:00"])
    s = "%04d-%02d-%02dT%02d:%02d:%02d%s%s" % (y, mo, d, hh, mm, ss, frac, off)
    return s, ts.parse_ts(s)


def rand_task_body(rng, partial=False):
    body = {}
    if not partial or rng.random() < 0.5:
        if rng.random() < 0.2:
            body["title"] = rand_title(rng, 200, 200)
        else:
            body["title"] = rand_title(rng, 1, 120)
    r = rng.random()
    if r < 0.3:
        body["description"] = None
    elif r < 0.4:
        body["description"] = ""
    elif r < 0.8:
        body["description"] = rand_text(rng, 1, 600,
                                        DESCRIPTION_REFUSED)
    if rng.random() < 0.7:
        body["status"] = rng.choice(ts.STATUSES)
    if rng.random() < 0.7:
        body["priority"] = rng.choice(ts.PRIORITIES)
    r = rng.random()
    if r < 0.2:
        body["due_date"] = None
    elif r < 0.8:
        body["due_date"] = rand_due(rng)[0]
    if partial and not body:
        body["status"] = rng.choice(ts.STATUSES)
    return body


def expect_task(body, before=None):
    """The task fields body should produce (create when before is None)."""
    e = dict(before) if before else {"description": None, "status": "pending",
                                     "priority": "medium", "due_date": None}
    for k, v in body.items():
        if k == "description" and v == "":
            v = None
        e[k] = v
    return e


def same_task_fields(tc, task, exp, ctx):
    for k in ("title", "description", "status", "priority"):
        if k in exp:
            tc.assertEqual(task[k], exp[k], "%s: field %s: %s" % (ctx, k, task))
    want = exp.get("due_date")
    if want is None:
        tc.assertIsNone(task["due_date"], ctx)
    else:
        tc.assertIsNotNone(task["due_date"], ctx)
        tc.assertEqual(ts.parse_ts(task["due_date"]), ts.parse_ts(want),
                       "%s: due_date sent %s got %s" % (ctx, want,
                                                        task["due_date"]))


# ------------------------------------------------------------ module

def setUpModule():
    global SYS
    ts.log("seed=%d" % SEED)
    rng = rng_for("setup")
    SYS = ts.System(jwt_expiration=rng.randint(60, 100000)).start()
    for _ in range(POOL_SIZE):
        u = SYS.register_user(password=rand_password(rng))
        r, tok = SYS.login(u["username"], u["password"])
        if tok is None:
            raise AssertionError("seed=%d: login failed %r" % (SEED, r))
        TOKENS.append(tok)
        u["token"] = tok
        POOL.append(u)
        OWNED[u["id"]] = set()


def tearDownModule():
    ts.log("seed=%d" % SEED)
    if SYS:
        SYS.stop_checked()


class Property(unittest.TestCase):
    maxDiff = 2000

    def _formatMessage(self, msg, standardMsg):
        return "seed=%d: %s" % (SEED, super()._formatMessage(msg, standardMsg))

    def forms(self, s):
        """The ways s could appear in bytes: raw UTF-8, JSON-escaped."""
        out = {s.encode("utf-8"),
               json.dumps(s, ensure_ascii=True)[1:-1].encode(),
               json.dumps(s, ensure_ascii=False)[1:-1].encode("utf-8")}
        return out

    def assert_absent(self, blob, secret, where):
        for f in self.forms(secret):
            if f in blob:
                self.assertTrue(False, "%s contains a password/token (%r...)"
                          % (where, f[:6]))

    def create(self, user, body, ctx):
        r = SYS.request("POST", "/tasks", body, token=user["token"])
        self.assertEqual(r.status, 201, "%s: %r" % (ctx, r))
        t = ts.check_task(self, r.json["task"], user["id"])
        OWNED[user["id"]].add(t["id"])
        return t


class P1TokenCompleteness(Property):
    def test_p1_token_claims(self):
        rng = rng_for("p1")
        exp_life = SYS.jwt_expiration
        for i in range(ITERATIONS):
            u = rng.choice(POOL)
            ctx = "iteration %d user %s" % (i, u["username"])
            before = int(time.time())
            r, tok = SYS.login(u["username"], u["password"])
            after = int(time.time())
            self.assertEqual(r.status, 200, "%s: %r" % (ctx, r))
            TOKENS.append(tok)
            hdr, c, _ = ts.jwt_decode(tok)
            self.assertEqual(hdr.get("alg"), "HS256", ctx)
            self.assertTrue(ts.jwt_verify_hs256(tok, SYS.jwt_secret), ctx)
            self.assertEqual(c.get("user_id"), u["id"], ctx)
            self.assertEqual(c.get("username"), u["username"], ctx)
            self.assertEqual(c.get("email"), u["email"], ctx)
            self.assertEqual(c.get("role"), "user", ctx)
            self.assertIsInstance(c.get("iat"), int, ctx)
            self.assertIsInstance(c.get("exp"), int, ctx)
            self.assertTrue(before - 1 <= c["iat"] <= after + 1,
                            "%s: iat %s" % (ctx, c["iat"]))
            self.assertEqual(c["exp"] - c["iat"], exp_life, ctx)
            if i % 4 == 0:
                v = SYS.request("POST", "/auth/validate", token=tok)
                self.assertEqual(v.status, 200, "%s: %r" % (ctx, v))
                self.assertEqual(v.json["user"], {"user_id": u["id"],
                                                  "username": u["username"],
                                                  "email": u["email"]}, ctx)


class P2RefuseBadTokens(Property):
    def tamper(self, rng, tok):
        h, p, s = tok.split(".")
        segs = [h, p, s]
        kind = rng.randrange(6)
        if kind == 0:       # change one character of one segment
            while True:
                i = rng.randrange(3)
                seg = segs[i]
                j = rng.randrange(len(seg))
                c = rng.choice(string.ascii_letters + string.digits + "-_")
                new = seg[:j] + c + seg[j + 1:]
                if new == seg:
                    continue
                if i == 2 and ts.b64url_decode(new) == ts.b64url_decode(seg):
                    continue
                segs[i] = new
                break
            return ".".join(segs)
        if kind == 1:       # drop one character
            i = rng.randrange(3)
            j = rng.randrange(len(segs[i]))
            segs[i] = segs[i][:j] + segs[i][j + 1:]
            return ".".join(segs)
        if kind == 2:       # claims changed, old signature kept
            c = ts.jwt_decode(tok)[1]
            key = rng.choice(["user_id", "exp", "role", "username"])
            c[key] = {"user_id": c["user_id"] + rng.randint(1, 1000),
                      "exp": c["exp"] + rng.randint(1, 10 ** 6),
                      "role": "admin", "username": "root"}[key]
            segs[1] = ts.b64url(json.dumps(c).encode())
            return ".".join(segs)
        if kind == 3:       # signature of another token
            other = rng.choice(TOKENS)
            if other.split(".")[2] == s:
                return h + "." + p + "." + s[::-1]
            return h + "." + p + "." + other.split(".")[2]
        if kind == 4:       # truncated
            return tok[:rng.randrange(1, len(tok) - 1)]
        return tok + rng.choice(["x", ".", "==", ".x"])  # extended

    def bad_token(self, rng, u):
        now = int(time.time())
        kind = rng.choice(["garbage", "tamper", "none", "expired",
                           "secret", "alg"])
        if kind == "garbage":
            alphabet = string.ascii_letters + string.digits + "-_.+/=~!*"
            return kind, "".join(rng.choice(alphabet) for _ in
                                 range(rng.randint(1, 300))), ts.MSG_INVALID
        if kind == "tamper":
            return kind, self.tamper(rng, u["token"]), ts.MSG_INVALID
        if kind == "none":
            c = SYS.claims_for(u)
            tok = ts.jwt_encode(c, None, alg="none")
            if rng.random() < 0.5:
                tok += ts.b64url(rng.randbytes(32))
            return kind, tok, ts.MSG_INVALID
        if kind == "expired":
            age = rng.randint(31, 10 ** 6)  # beyond the 30 s leeway
            return kind, SYS.forge(u, now=now - age - 60, lifetime=60), \
                ts.MSG_EXPIRED
        if kind == "secret":
            sec = "".join(rng.choice(string.ascii_letters) for _ in range(48))
            return kind, SYS.forge(u, secret=sec), ts.MSG_INVALID
        return kind, SYS.forge(u, alg=rng.choice(["HS384", "HS512"])), \
            ts.MSG_INVALID

    def test_p2_protected_routes_refuse(self):
        rng = rng_for("p2")
        owner = POOL[0]
        t = self.create(owner, {"title": "target"}, "p2 setup")
        snap = {u["id"]: ts.task_rows(u["id"]) for u in POOL}
        for i in range(ITERATIONS * 2):
            u = rng.choice(POOL)
            method, path = rng.choice(ts.PROTECTED)
            path = path.replace("{id}", str(t["id"]))
            body = rand_task_body(rng) if method in ("POST", "PUT") else None
            if rng.random() < 0.1:
                kind, tok, msg = "missing", None, ts.MSG_NO_TOKEN
            else:
                kind, tok, msg = self.bad_token(rng, u)
            ctx = "iteration %d %s %s token kind %s %r" % (
                i, method, path, kind, (tok or "")[:80])
            r = SYS.request(method, path, body, token=tok)
            self.assertEqual(r.status, 401, "%s: %r" % (ctx, r))
            ts.check_error(self, r, 401, message=msg)
        self.assertEqual({u["id"]: ts.task_rows(u["id"]) for u in POOL}, snap)


class P3NoPlaintextPassword(Property):
    def test_p3_passwords_never_returned_or_stored(self):
        rng = rng_for("p3")
        users = []
        for i in range(ITERATIONS):
            ctx = "iteration %d" % i
            pw = rand_password(rng)
            name = ts.unique("p3")
            email = name + "@example.com"
            blobs = []
            r = SYS.request("POST", "/auth/register",
                            {"username": name, "email": email, "password": pw})
            self.assertEqual(r.status, 201, "%s: %r" % (ctx, r))
            blobs.append(r.raw)
            uid = r.json["user"]["id"]
            users.append(uid)
            r, tok = SYS.login(name, pw)
            self.assertEqual(r.status, 200, "%s: login %r" % (ctx, r))
            TOKENS.append(tok)
            blobs.append(r.raw)
            if i % 3 == 0:
                wrong = rand_password(rng)
                r, _ = SYS.login(name, wrong)
                ts.check_error(self, r, 401, message=ts.MSG_BAD_LOGIN)
                self.assert_absent(r.raw, wrong, ctx + " failed login reply")
                r = SYS.request("POST", "/auth/register",
                                {"username": name, "email": email,
                                 "password": wrong})
                self.assertEqual(r.status, 409, "%s: %r" % (ctx, r))
                self.assert_absent(r.raw, wrong, ctx + " 409 reply")
            r = SYS.request("POST", "/auth/validate", token=tok)
            self.assertEqual(r.status, 200, r)
            blobs.append(r.raw)
            if i % 5 == 0:
                # a password used as task text comes back as task text only
                r = SYS.request("POST", "/tasks", {"title": "t"}, token=tok)
                self.assertEqual(r.status, 201, r)
                blobs.append(r.raw)
                r = SYS.request("GET", "/tasks", token=tok)
                blobs.append(r.raw)
            for b in blobs:
                self.assert_absent(b, pw, ctx + " reply")
            u_row = ts.psql("SELECT row_to_json(u) FROM users u WHERE id = %d"
                            % uid)
            self.assertEqual(len(u_row), 1)
            self.assert_absent(u_row[0].encode("utf-8"), pw, ctx + " users row")
            phash = json.loads(u_row[0])["password_hash"]
            self.assertTrue(phash.startswith("$argon2id$"), ctx)
        ids = ",".join(str(x) for x in users)
        rows = "\n".join(ts.psql("SELECT row_to_json(u) FROM users u WHERE id"
                                 " IN (%s)" % ids)
                         + ts.psql("SELECT row_to_json(t) FROM tasks t WHERE "
                                   "user_id IN (%s)" % ids)).encode("utf-8")
        for pw in PASSWORDS:
            self.assert_absent(rows, pw, "stored rows")

class P4RoundTrip(Property):
    def test_p4_create_then_get(self):
        rng = rng_for("p4")
        for i in range(ITERATIONS):
            u = rng.choice(POOL)
            body = rand_task_body(rng)
            if "title" not in body:
                body["title"] = rand_title(rng, 1, 50)
            ctx = "iteration %d body %s" % (i, json.dumps(body))
            t = self.create(u, body, ctx)
            exp = expect_task(body)
            same_task_fields(self, t, exp, ctx + " (POST reply)")
            r = SYS.request("GET", "/tasks/%d" % t["id"], token=u["token"])
            self.assertEqual(r.status, 200, "%s: %r" % (ctx, r))
            self.assertEqual(r.json["task"], t, ctx + " (GET vs POST reply)")
            row = ts.task_row(t["id"])
            self.assertEqual(row["title"], exp["title"], ctx + " (DB)")
            self.assertEqual(row["description"], exp["description"],
                             ctx + " (DB)")
            if i % 3 == 0:
                # and a random partial update round-trips as well
                upd = rand_task_body(rng, partial=True)
                r = SYS.request("PUT", "/tasks/%d" % t["id"], upd,
                                token=u["token"])
                self.assertEqual(r.status, 200, "%s PUT %s: %r"
                                 % (ctx, json.dumps(upd), r))
                exp2 = expect_task(upd, exp)
                same_task_fields(self, r.json["task"], exp2,
                                 ctx + " PUT " + json.dumps(upd))
                g = SYS.request("GET", "/tasks/%d" % t["id"], token=u["token"])
                self.assertEqual(g.json["task"], r.json["task"], ctx)


class P5Isolation(Property):
    def test_p5_users_see_only_their_tasks(self):
        rng = rng_for("p5")
        for i in range(ITERATIONS):
            u = rng.choice(POOL)
            for _ in range(rng.randint(0, 2)):
                self.create(u, {"title": rand_title(rng, 1, 30)},
                            "iteration %d" % i)
            v = rng.choice(POOL)
            r = SYS.request("GET", "/tasks", token=v["token"])
            ctx = "iteration %d user %d" % (i, v["id"])
            self.assertEqual(r.status, 200, "%s: %r" % (ctx, r))
            ids = [t["id"] for t in r.json["tasks"]]
            self.assertEqual(len(ids), len(set(ids)), ctx)
            self.assertEqual(set(ids), OWNED[v["id"]], ctx)
            self.assertEqual(r.json["count"], len(OWNED[v["id"]]), ctx)
            for t in r.json["tasks"]:
                self.assertEqual(t["user_id"], v["id"], ctx)
            others = [x for x in POOL if x is not v and OWNED[x["id"]]]
            if others:
                w = rng.choice(others)
                tid = rng.choice(sorted(OWNED[w["id"]]))
                r = SYS.request("GET", "/tasks/%d" % tid, token=v["token"])
                ts.check_error(self, r, 403)


class P6Ownership(Property):
    def test_p6_only_owner_changes(self):
        rng = rng_for("p6")
        for i in range(ITERATIONS):
            owner, other = rng.sample(POOL, 2)
            if not OWNED[owner["id"]] or rng.random() < 0.2:
                self.create(owner, {"title": rand_title(rng, 1, 40)},
                            "iteration %d" % i)
            tid = rng.choice(sorted(OWNED[owner["id"]]))
            before = ts.task_row(tid)
            op = rng.choice(["PUT", "DELETE"])
            body = rand_task_body(rng, partial=True) if op == "PUT" else None
            ctx = "iteration %d %s task %d owner %d other %d" % (
                i, op, tid, owner["id"], other["id"])
            r = SYS.request(op, "/tasks/%d" % tid, body, token=other["token"])
            ts.check_error(self, r, 403)
            self.assertEqual(ts.task_row(tid), before, ctx + " row changed")
            if rng.random() < 0.3:
                r = SYS.request(op, "/tasks/%d" % tid, body,
                                token=owner["token"])
                self.assertEqual(r.status, 200, "%s by owner: %r" % (ctx, r))
                if op == "DELETE":
                    OWNED[owner["id"]].discard(tid)
                    self.assertIsNone(ts.task_row(tid), ctx)
                    r = SYS.request(op, "/tasks/%d" % tid,
                                    token=other["token"])
                    ts.check_error(self, r, 404)


class P7Pages(Property):
    """Random limit, filters, q and sort: the pages, concatenated, are the
    Python-filtered-and-sorted model of the user's rows, each task once."""

    Q_POOL = ["a", "e", "A", "1", "%", "_", "\\", "'", " ", "ab", "zz"]

    def rand_params(self, rng, rows):
        p = {}
        if rng.random() < 0.8:
            p["limit"] = rng.choice([1, 2, 3, rng.randint(1, 12), 1000])
        if rng.random() < 0.3:
            p["status"] = ",".join(rng.sample(ts.STATUSES,
                                              rng.randint(1, 3)))
        if rng.random() < 0.3:
            p["priority"] = ",".join(rng.sample(ts.PRIORITIES,
                                                rng.randint(1, 3)))
        if rng.random() < 0.25:
            p["due_before"] = "%04d-%02d-01T00:00:00Z" % (
                rng.randint(1990, 2100), rng.randint(1, 12))
        if rng.random() < 0.25:
            p["due_after"] = "%04d-%02d-01" % (rng.randint(1990, 2100),
                                                rng.randint(1, 12))
        if rng.random() < 0.3:
            titles = [r["title"] for r in rows if r["title"].isascii()]
            if titles and rng.random() < 0.6:
                t = rng.choice(titles)
                a = rng.randrange(len(t))
                q = t[a:a + rng.randint(1, 4)]
                p["q"] = "".join(c.upper() if rng.random() < 0.5 else c
                                 for c in q)
            else:
                p["q"] = rng.choice(self.Q_POOL)
        if rng.random() < 0.9:
            p["sort"] = rng.choice(pm.ALL_SORTS)
        return p

    def test_p7_pages_equal_the_model(self):
        rng = rng_for("p7")
        for i in range(ITERATIONS // 2):
            u = rng.choice(POOL)
            while len(OWNED[u["id"]]) < 8:
                self.create(u, rand_task_body(rng) | {
                    "title": rand_title(rng, 1, 40)}, "iteration %d" % i)
            rows = pm.rows(u["id"])
            p = self.rand_params(rng, rows)
            ctx = "iteration %d user %d params %r" % (i, u["id"], p)
            ids, pages = pm.walk(SYS, u["token"], p, max_pages=1000)
            self.assertEqual(ids, pm.select(rows, p), ctx)
            self.assertEqual(len(ids), len(set(ids)), ctx)
            if "limit" in p:
                self.assertLessEqual(pages, len(ids) // p["limit"] + 1, ctx)


class P9Logs(Property):
    def test_p9_logs_never_hold_passwords_or_tokens(self):
        # runs last (name order): every password and token of the module
        logs = {name: SYS.log_bytes(name) for name in ts.BINARIES}
        self.assertTrue(PASSWORDS and TOKENS)
        for name, blob in logs.items():
            for pw in PASSWORDS:
                self.assert_absent(blob, pw, name + " log")
            for tok in TOKENS:
                self.assert_absent(blob, tok, name + " log")
                # a signature alone is as good as the token to an attacker
                self.assert_absent(blob, tok.split(".")[2], name + " log")


if __name__ == "__main__":
    ts.run_tests()
