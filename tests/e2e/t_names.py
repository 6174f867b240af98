"""Names and addresses from the roster: the import refuses what could pass
for an address, an encoded word, reordered text or the programme's staff,
and every display name is cleaned on the way out (an older database may
hold anything)."""
import datetime
import os
import re
import shutil
import sqlite3
import tempfile
from zoneinfo import ZoneInfo

from harness import Gateway, body_text, make_mail, parse

MENTEE = "alex@school.test"
MENTOR = "sam@nhs.test"
ENCODED = re.compile(r"=\?[^?]*\?[bBqQ]\?")


def write_csv(gw, name, rows):
    path = os.path.join(gw.dir, name)
    with open(path, "wb") as f:
        f.write(("role,name,email,cohort,segment\n" + "".join(r + "\n" for r in rows)).encode())
    return path


def errors_by_line(path, stderr):
    out = {}
    for line in stderr.splitlines():
        if line.startswith(path + ":"):
            n, _, why = line[len(path) + 1:].partition(": ")
            out[int(n)] = why
    return out


def test_import_refuses_bad_names_and_addresses(stack):
    gw = Gateway(stack)
    gw.ctl("cohort", "add", "W1", "--start", "2026-09-01", "--weeks", "10")
    want = {   # line: (row, what the reason must say)
        3: ("mentee,Pat,a@b@school.test,W1,", "more than one '@'"),
        4: ("mentee,=?utf-8?B?UHJvZ3JhbW1lIENvb3JkaW5hdG9y?= <x@evil.test>,jo@school.test,W1,",
            "encoded word"),
        5: ("mentor,Programme\u00a0Coordinator\u00a0<coord@mentoring.test>,sam@nhs.test,W1,",
            "holds '<'"),
        6: ("mentor,Kim\u202eeel,kim@nhs.test,W1,", "bidirectional control (U+202E)"),
        7: ("mentee,Jo\u200bBrown,jo2@school.test,W1,", "invisible character (U+200B)"),
        8: ("mentee,Jo <jo>,jo3@school.test,W1,", "holds '<'"),
        9: ("mentee,jo@home,jo4@school.test,W1,", "holds '@'"),
        10: ("mentee,Jo\rBrown,jo5@school.test,W1,", "control character (U+000D)"),
        11: ("mentee,N\u041dS M\u0435ntoring,jo6@school.test,W1,",
             "programme or its staff: NHS Mentoring"),
        12: ("mentor,\u03a1rogramme \u0421oordinator,kim2@nhs.test,W1,", "staff: coordinator"),
        13: ("mentor,\uff33\uff41\uff46\uff45guarding Team,kim3@nhs.test,W1,",
             "staff: safeguarding"),
        14: ("mentee,M0derat0r Mo,jo7@school.test,W1,", "staff: moderator"),
        15: ("mentee,Dot,.dot@school.test,W1,", "local part"),
        16: ("mentee,Dash,dash@-school.test,W1,", "domain"),
        17: ("mentee,Single,single@school,W1,", "single label"),
        18: ("mentee,Quoted,\"\"\"q s\"\"@school.test\",W1,", "local part"),
    }
    good = {2: "mentee,Alex Smith,alex@school.test,W1,school",
            19: "coordinator,Programme Coordinator,coord@mentoring.test,,"}
    rows = {**{n: r for n, (r, _) in want.items()}, **good}
    csv = write_csv(gw, "bad.csv", [rows[n] for n in sorted(rows)])
    r = gw.ctl("import", csv, check=False)
    assert r.returncode == 65, r
    got = errors_by_line(csv, r.stderr)
    for n, (_, why) in want.items():
        assert n in got and why in got[n], (n, why, r.stderr)
    assert not set(good) & set(got), r.stderr       # staff may be called Coordinator
    assert "imported" not in r.stdout
    assert gw.sql("SELECT count(*) FROM participants") == [(0,)]   # all or nothing

    # ordinary names import as written (runs of spaces collapsed)
    names = ["O'Brien", "Anne-Marie", "Jos\u00e9", "Zo\u00eb  Lee", "\u674e", "Nguy\u1ec5n",
             "Jones, Sam"]
    rows = [f"mentee,\"{n}\",p{i}@school.test,W1," for i, n in enumerate(names)]
    rows.append("coordinator,Programme Coordinator,coord@mentoring.test,,")
    csv = write_csv(gw, "good.csv", rows)
    assert "imported 8 participants" in gw.ctl("import", csv).stdout
    stored = [n for (n,) in gw.sql("SELECT name FROM participants ORDER BY id")]
    assert stored == [n.replace("  ", " ") for n in names] + ["Programme Coordinator"], stored

    # a participant whose name reads as a staff member's, look-alike letters
    # and all (staff listed after them count too)
    csv = write_csv(gw, "staff.csv", ["mentor,Chr\u0456s  C\u043eord,kim9@nhs.test,W1,",
                                       "coordinator,Chris Coord,chris@mentoring.test,,"])
    r = gw.ctl("import", csv, check=False)
    assert r.returncode == 65 and "staff.csv:2: " in r.stderr and "coordinator's" in r.stderr, r
    assert gw.sql("SELECT count(*) FROM participants WHERE email = 'chris@mentoring.test'") == [(0,)]


def set_name(gw, email, name):
    """What an older version may have stored (no first name of its own)."""
    con = sqlite3.connect(gw.db)
    with con:
        con.execute("UPDATE participants SET name = ?, first_name = NULL WHERE email = ?",
                    (name, email))
    con.close()


def raw_header(raw, name):
    head = raw.split(b"\r\n\r\n", 1)[0].replace(b"\r\n ", b" ").replace(b"\r\n\t", b" ")
    lines = [l for l in head.split(b"\r\n") if l.lower().startswith(name.lower() + b":")]
    assert len(lines) == 1, head
    return lines[0].decode("ascii")


def test_old_database_names_are_cleaned_on_the_way_out(stack):
    gw = Gateway(stack)
    to_mentor, to_mentee = gw.setup_pair()
    set_name(gw, MENTOR, "Sam\u202e <sam@evil.test>")
    cases = [   # (name in the database, display name's first word once cleaned)
        ("\u202eAlex\u202c Smith", "Alex"),
        ("Programme\u00a0Coordinator\u00a0<coord@mentoring.test>", "Programme"),
        ("=?utf-8?B?UHJvZ3JhbW1lIENvb3JkaW5hdG9y?=\u00a0<x@evil.test>",
         "?utf-8?B?UHJvZ3JhbW1lIENvb3JkaW5hdG9y?"),
        ("Al\u200bex\u2067\uff20\u00a0\u2066<x>", "Alex"),
        ("Zo\u00eb\u202e<x@evil.test>", "Zo\u00ebxevil.test"),
    ]
    for i, (bad, first) in enumerate(cases):
        set_name(gw, MENTEE, bad)
        subject = f"name {i}"
        stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, subject, "Hello"))
        stack.wait_count("relay@mentoring.test", 1)
        gw.once()
        assert stack.wait_count(MENTOR, i + 1) == i + 1, (i, bad)
        raw = [m for m in stack.messages(MENTOR) if parse(m)["Subject"] == subject]
        assert len(raw) == 1, (i, bad)
        msg = parse(raw[0])
        frm, to = raw_header(raw[0], b"From"), raw_header(raw[0], b"To")
        # one '<' and one '@' each: the address's own; no word of the name's
        assert frm.count("<") == 1 and frm.count("@") == 1, frm
        assert to.count("<") == 1 and to.count("@") == 1, to
        assert ENCODED.search(frm) is None or frm.startswith("From: =?UTF-8?B?"), frm
        (a,) = msg["From"].addresses
        assert a.display_name == f"{first} (mentee) via NHS Mentoring", (bad, a.display_name)
        assert a.addr_spec == to_mentee, a      # the author's masked address, parsed whole
        for shown in (a.display_name, msg["To"].addresses[0].display_name):
            assert not re.search("[\u202a-\u202e\u2066-\u2069\u200b-\u200f\u00a0<>@]", shown), shown
            assert ENCODED.search(shown) is None, shown
        assert msg["To"].addresses[0].display_name == "Sam samevil.test"
        assert msg["To"].addresses[0].addr_spec == MENTOR


LONDON = ZoneInfo("Europe/London")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def at(y, m, d, hh, mm=0):
    t = datetime.datetime(y, m, d, hh, mm, tzinfo=LONDON).timestamp()
    return {"MENTORGATE_NOW": str(int(t))}


def test_first_names_surname_first_unicode_spaces_and_a_column(stack):
    """"Smith, Alex" is Alex, "Sam<NBSP>Jones" is Sam, and a first_name
    column wins ("Dr Kim O'Lee" is Kim): in the welcome, the relayed From,
    the digest and the nudge.  A ' in a name is &#39; in a template's HTML."""
    tdir = os.path.join(tempfile.mkdtemp(prefix="mg-tmpl-"))
    stack.tmpdirs.append(tdir)
    for name in ("welcome-mentee", "welcome-mentor"):
        shutil.copy(os.path.join(ROOT, "templates", name + ".txt"), tdir)
    with open(os.path.join(tdir, "welcome-mentee.html"), "w") as f:
        f.write("<p>Hello {{first_name}},</p>\n"
                "<p><abbr title='{{partner_name}}'>{{partner_first_name}}</abbr></p>\n")
    gw = Gateway(stack, extra=f"\n[programme]\ntemplates = {tdir}\n"
                              "\n[calendar]\ntimezone = Europe/London\nsend_hour = 16\n"
                              "quiet_hours = 21-8\n"
                              "\n[schedule]\nsend = 1 welcome-mentee mentees\n"
                              "send = 1 welcome-mentor mentors\n"
                              "\n[digest]\nparticipants = yes\nnudge_after_days = 7\n")
    os.environ.update(at(2026, 8, 20, 12))
    try:
        gw.ctl("cohort", "add", "W1", "--start", "2026-09-01", "--weeks", "10")
        path = os.path.join(gw.dir, "people.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write("role,first_name,name,email,cohort,segment\n"
                    'mentee,,"Smith, Alex",alex@school.test,W1,school\n'
                    "mentor,,Sam\u00a0Jones,sam@nhs.test,W1,nhs\n"
                    "mentee,,Jo\u3000Brown,jo@school.test,W1,neet\n"
                    "mentor,Kim,Dr Kim O'Lee,kim@nhs.test,W1,nhs\n"
                    "coordinator,,Chris Coord,coord@mentoring.test,,\n")
        assert "imported 5 participants" in gw.ctl("import", path).stdout
        to_sam, to_alex = gw.pair(MENTEE, MENTOR)
        gw.pair("jo@school.test", "kim@nhs.test")
    finally:
        del os.environ["MENTORGATE_NOW"]
    assert gw.sql("SELECT name, first_name FROM participants ORDER BY id") == [
        ("Smith, Alex", "Alex"), ("Sam Jones", "Sam"), ("Jo Brown", "Jo"), ("Dr Kim O'Lee", "Kim"),
        ("Chris Coord", "Chris")]

    gw.once(env=at(2026, 9, 1, 17))                     # the welcomes
    stack.wait_queue_empty()

    def words(m):
        return " ".join(body_text(m).split())

    def mails(user, word):
        return [m for m in map(parse, stack.messages(user)) if word in str(m["Subject"])]
    (w,) = mails(MENTEE, "Welcome")
    assert str(w["Subject"]) == "Welcome to NHS Mentoring, Alex", w["Subject"]
    text = body_text(w)
    assert text.startswith("Hello Alex,") and "your mentor, Sam," in text, text
    (w,) = mails(MENTOR, "Welcome")
    assert str(w["Subject"]) == "Welcome to NHS Mentoring: meet Alex", w["Subject"]
    assert body_text(w).startswith("Hello Sam,"), body_text(w)
    (w,) = mails("jo@school.test", "Welcome")
    html = w.get_body(preferencelist=("html",)).get_content()
    assert "<abbr title='Dr Kim O&#39;Lee'>Kim</abbr>" in html, html
    assert "<p>Hello Jo,</p>" in html, html
    assert "your mentor, Kim," in body_text(w)
    (w,) = mails("kim@nhs.test", "Welcome")
    assert body_text(w).startswith("Hello Kim,") and str(w["Subject"]).endswith("meet Jo")

    # relayed: From "Alex (mentee) via ..."
    stack.send(MENTEE, to_sam, make_mail(MENTEE, to_sam, "Week 1", "Hi Sam, nice to meet you."))
    stack.wait_count("relay@mentoring.test", 1)
    gw.once(env=at(2026, 9, 2, 10))
    stack.wait_queue_empty()
    (m,) = mails(MENTOR, "Week 1")
    assert m["From"].addresses[0].display_name == "Alex (mentee) via NHS Mentoring", m["From"]

    # the digest after week 1, then the nudges (Sam owes Alex, Jo owes Kim)
    gw.once(env=at(2026, 9, 7, 16, 1))
    stack.wait_queue_empty()
    (d,) = mails(MENTOR, "your conversation")
    assert words(d).startswith("Hello Sam, Your conversation with Alex in week 1"), words(d)
    (d,) = mails(MENTEE, "your conversation")
    assert words(d).startswith("Hello Alex, Your conversation with Sam"), words(d)
    gw.once(env=at(2026, 9, 9, 17))
    stack.wait_queue_empty()
    (n,) = mails(MENTOR, "waiting to hear from you")
    assert str(n["Subject"]) == "Alex is waiting to hear from you", n["Subject"]
    assert body_text(n).startswith("Hello Sam,"), body_text(n)
    (n,) = mails("jo@school.test", "waiting to hear from you")
    assert str(n["Subject"]) == "Kim is waiting to hear from you", n["Subject"]
    assert body_text(n).startswith("Hello Jo,"), body_text(n)
