"""identity.identifiers: usernames are NFC-normalised before uniqueness and
refuse the confusables of issue 10 (leading or trailing spaces, zero-width,
bidi and BOM characters, Latin mixed with Cyrillic) with a 400 and a
per-field detail; usernames stored before the rules (inserted here with
SQL) still log in; titles refuse controls, bidi overrides and isolates and
invisible-only text, descriptions keep tab, line feed and carriage return;
a task whose stored title is now refused still takes updates of its other
fields."""

import os
import sys
import unicodedata
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "e2e"))
import taskapi_system as ts  # noqa: E402

SYS = None


def setUpModule():
    global SYS
    SYS = ts.System().start()


def tearDownModule():
    if SYS is not None:
        SYS.stop_checked()


def register(username, password=None):
    return SYS.request("POST", "/auth/register",
                       {"username": username,
                        "email": ts.unique("m") + "@example.com",
                        "password": password or ts.random_password()})


def digits():
    """A unique suffix of digits only (script-neutral, unlike hex)."""
    return str(int(ts.unique("").lstrip("_"), 16))[-12:]


def expect_400(test, r, field, message_part):
    test.assertEqual(r.status, 400, r)
    test.assertEqual(r.json["error"], "Bad Request", r)
    details = r.json.get("details") or []
    test.assertEqual([d["field"] for d in details], [field], r)
    test.assertIn(message_part, details[0]["message"], r)


def sql_text(s):
    """s as a PostgreSQL U&'' literal (every non-ASCII code point escaped,
    so the psql session's encoding does not matter)."""
    out = []
    for ch in s:
        cp = ord(ch)
        if ch == "'":
            out.append("''")
        elif ch == "\\":
            out.append("\\\\")
        elif 0x20 <= cp < 0x7f:
            out.append(ch)
        elif cp <= 0xFFFF:
            out.append("\\%04X" % cp)
        else:
            out.append("\\+%06X" % cp)
    return "U&'" + "".join(out) + "'"


class UsernameTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.alice = ts.unique("alice")
        cls.pw = ts.random_password()
        r = register(cls.alice, cls.pw)
        if r.status != 201:
            raise AssertionError(r)

    def test_confusables_of_alice_are_refused(self):
        a = self.alice
        cases = [
            (a + " ", "start or end with a space"),
            (" " + a, "start or end with a space"),
            (a + "\u200b", "invisible or formatting"),
            (a + "\u202e", "invisible or formatting"),
            ("\ufeff" + a, "invisible or formatting"),
            (a[:2] + "\u200d" + a[2:], "invisible or formatting"),
            (a[:2] + "\u00ad" + a[2:], "invisible or formatting"),
            ("\u0430" + a[1:], "mix Latin, Greek and Cyrillic"),  # Cyrillic а
            (a.replace("e", "\u0435", 1), "mix Latin, Greek and Cyrillic"),
            ("\uff41" + a[1:], "compatibility characters"),  # fullwidth ａ
            (a + "\u00a0x", "spaces other than U+0020"),
            (a + "\x85", "control characters"),
            (a + "\t", "control characters"),
        ]
        for name, message in cases:
            with self.subTest(name=ascii(name)):
                r = register(name)
                expect_400(self, r, "username", message)
        # None of them exists now.
        self.assertEqual(SYS.psql(
            "SELECT count(*) FROM users WHERE username LIKE '%%%s%%'"
            % self.alice[1:]), ["1"])

    def test_nfd_registers_as_nfc_and_conflicts(self):
        sfx = digits()
        nfc = "caf\u00e9" + sfx
        nfd = unicodedata.normalize("NFD", nfc)
        self.assertNotEqual(nfc, nfd)
        pw = ts.random_password()
        r = register(nfd, pw)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["user"]["username"], nfc)  # stored NFC
        uid = r.json["user"]["id"]
        # The NFC form is the same name: taken.
        r2 = register(nfc)
        self.assertEqual(r2.status, 409, r2)
        # Both forms log in to the one account.
        for form in (nfc, nfd):
            r3, tok = SYS.login(form, pw)
            self.assertIsNotNone(tok, r3)
            self.assertEqual(r3.json["user"]["id"], uid)
        self.assertEqual(SYS.psql(
            "SELECT count(*) FROM users WHERE username IN (%s, %s)"
            % (sql_text(nfc), sql_text(nfd))), ["1"])

    def test_other_scripts_and_inner_spaces_still_register(self):
        sfx = digits()
        for name in ("\u0430\u043d\u044f" + sfx,       # Cyrillic аня
                     "\u03b1\u03b2\u03b3" + sfx,       # Greek αβγ
                     "\u5c71\u7530" + sfx,             # CJK
                     "mary ann " + sfx):
            with self.subTest(name=ascii(name)):
                r = register(name)
                self.assertEqual(r.status, 201, r)
                self.assertEqual(r.json["user"]["username"], name)

    def test_case_is_kept(self):
        # Matching stays case-sensitive (SEED-API): no case mapping.
        name = ts.unique("Bob")
        pw = ts.random_password()
        self.assertEqual(register(name, pw).status, 201)
        r, tok = SYS.login(name.lower(), pw)
        self.assertEqual(r.status, 401, r)
        r, tok = SYS.login(name, pw)
        self.assertIsNotNone(tok, r)

    def test_legacy_usernames_still_log_in(self):
        # Rows written before the rules: copy a real Argon2id hash into
        # users whose names are now refused, straight through SQL.
        donor_pw = ts.random_password()
        donor = ts.unique("donor")
        self.assertEqual(register(donor, donor_pw).status, 201)
        sfx = digits()
        legacy = ["legacy" + sfx + " ",
                  "legacy\u200b" + sfx,
                  "\u202elegacy" + sfx,
                  "\u0430legacy" + sfx,
                  unicodedata.normalize("NFD", "caf\u00e9legacy" + sfx)]
        for i, name in enumerate(legacy):
            SYS.psql("INSERT INTO users (username, email, password_hash) "
                     "SELECT %s, '%s', password_hash FROM users "
                     "WHERE username = '%s'"
                     % (sql_text(name), "legacy%d%s@example.com" % (i, sfx),
                        donor))
        for name in legacy:
            with self.subTest(name=ascii(name)):
                r, tok = SYS.login(name, donor_pw)
                self.assertIsNotNone(tok, r)
                self.assertEqual(r.json["user"]["username"], name)
                r2, _ = SYS.login(name, "wrong-" + donor_pw)
                self.assertEqual(r2.status, 401, r2)
                # ... but nobody can register such a name anew.
                if unicodedata.is_normalized("NFC", name):
                    self.assertEqual(register(name).status, 400)


class TitleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.user = SYS.new_user()

    def create(self, body):
        return SYS.request("POST", "/tasks", body, token=self.user["token"])

    def test_refused_titles(self):
        cases = [("a\x01b", "control characters"),
                 ("a\tb", "control characters"),
                 ("a\nb", "control characters"),
                 ("a\x7f", "control characters"),
                 ("a\x85b", "control characters"),      # C1 NEL
                 ("a\x9bb", "control characters"),      # C1 CSI
                 ("invoice\u202egnp.exe", "bidi override"),
                 ("a\u202ab", "bidi override"),
                 ("a\u2066b\u2069", "bidi override"),
                 ("\u200b", "visible character"),
                 ("\ufeff\u200c\u2060", "visible character"),
                 ("\u3164", "visible character")]
        before = len(ts.task_rows(self.user["id"]))
        for title, message in cases:
            with self.subTest(title=ascii(title)):
                expect_400(self, self.create({"title": title}), "title",
                           message)
        self.assertEqual(len(ts.task_rows(self.user["id"])), before)

    def test_descriptions(self):
        r = self.create({"title": "multi-line",
                         "description": "one\ntwo\r\n\tthree"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["task"]["description"], "one\ntwo\r\n\tthree")
        for d, message in (("a\x01b", "other than tab"),
                           ("a\x1b[2J", "other than tab"),
                           ("a\x85", "other than tab"),
                           ("a\u202eb", "bidi override"),
                           ("a\u2068b", "bidi override")):
            with self.subTest(description=ascii(d)):
                expect_400(self, self.create({"title": "t",
                                              "description": d}),
                           "description", message)

    def test_titles_that_pass(self):
        for title in ("caf\u00e9 \U0001f600", "\u05e9\u05dc\u05d5\u05dd",
                      "a\u200fb", "x\u200by", "  padded  "):
            with self.subTest(title=ascii(title)):
                r = self.create({"title": title})
                self.assertEqual(r.status, 201, r)
                self.assertEqual(r.json["task"]["title"], title)

    def test_update_checks_only_fields_set(self):
        tok = self.user["token"]
        r = self.create({"title": "placeholder"})
        self.assertEqual(r.status, 201, r)
        tid = r.json["task"]["id"]
        stored = "old\u202etitle\x01"
        SYS.psql("UPDATE tasks SET title = %s WHERE id = %d"
                 % (sql_text(stored), tid))
        r = SYS.request("PUT", "/tasks/%d" % tid, {"status": "completed"},
                        token=tok)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["task"]["status"], "completed")
        self.assertEqual(r.json["task"]["title"], stored)
        r = SYS.request("PUT", "/tasks/%d" % tid,
                        {"description": "fine", "priority": "low"}, token=tok)
        self.assertEqual(r.status, 200, r)
        # Setting the title checks it.
        r = SYS.request("PUT", "/tasks/%d" % tid, {"title": stored},
                        token=tok)
        expect_400(self, r, "title", "bidi override")
        r = SYS.request("PUT", "/tasks/%d" % tid, {"title": "clean"},
                        token=tok)
        self.assertEqual(r.status, 200, r)


if __name__ == "__main__":
    unittest.main(verbosity=2)
