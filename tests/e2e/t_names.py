"""Names and addresses from the roster: the import refuses what could pass
for an address, an encoded word, reordered text or the programme's staff,
and every display name is cleaned on the way out (an older database may
hold anything)."""
import os
import re
import sqlite3

from harness import Gateway, make_mail, parse

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
            "U+00A0"),
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
    """What an older version may have stored."""
    con = sqlite3.connect(gw.db)
    with con:
        con.execute("UPDATE participants SET name = ? WHERE email = ?", (name, email))
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
