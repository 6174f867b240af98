"""Bad input: configuration and CSV errors, hostile and odd mail."""
import os
import quopri
import subprocess

from harness import BUILD, Gateway, body_text, make_mail, parse

MENTEE = "alex@school.test"
MENTOR = "sam@nhs.test"


def test_config_errors_name_file_and_line(stack):
    gw = Gateway(stack)
    bad = os.path.join(gw.dir, "bad.conf")
    with open(bad, "w") as f:
        f.write("[programme]\n"                      # 1
                "name = Test\n"                      # 2
                "relay_address = relay+x@mentoring.test\n"   # 3: '+' not allowed
                "database = bad.db\n"                # 4
                "colour = blue\n"                    # 5: unknown key
                "[imap]\n"                           # 6
                "host = 127.0.0.1\n"                 # 7
                "port = 99999\n"                     # 8: out of range
                "tls = sometimes\n"                  # 9: bad value
                "username = relay@mentoring.test\n"  # 10
                "password_command = echo secret\n"   # 11
                "max_message_size = 25MB\n"          # 12: K or M, not MB
                "[smtp]\n"                           # 13
                "url = http://127.0.0.1:25\n"        # 14: not smtp://
                "just some words\n"                  # 15
                "[nosuch]\n")                        # 16
    r = subprocess.run([os.path.join(BUILD, "mentorctl"), "-c", bad, "check"],
                       capture_output=True, text=True)
    assert r.returncode == 78, r
    for line in (3, 5, 8, 9, 12, 14, 15, 16):
        assert f"{bad}:{line}: " in r.stderr, (line, r.stderr)
    assert "unknown key 'colour' in [programme]" in r.stderr
    assert "max_message_size: expected a size such as 25M" in r.stderr
    r = subprocess.run([os.path.join(BUILD, "mentorgated"), "-c", bad, "--once"],
                       capture_output=True, text=True)
    assert r.returncode == 78 and f"{bad}:5: " in r.stderr
    assert not os.path.exists(os.path.join(gw.dir, "bad.db"))     # nothing changed
    # a password in a file others can read is refused
    os.chmod(gw.conf, 0o644)
    r = gw.ctl("check", check=False)
    assert r.returncode == 78 and "readable by group or others" in r.stderr
    os.chmod(gw.conf, 0o600)
    assert gw.ctl("check").stdout.strip().endswith(": ok")
    # sizes: bytes, K or M, at most 2047M
    with open(gw.conf) as f:
        good = f.read()
    for value, fine in (("0", True), ("12", True), ("500K", True), ("2047M", True),
                        ("2048M", False), ("-1", False), ("1G", False), ("3M2", False)):
        with open(gw.conf, "w") as f:
            f.write(good.replace("[imap]\n", f"[imap]\nmax_message_size = {value}\n"))
        r = gw.ctl("check", check=False)
        assert (r.returncode == 0) == fine, (value, r.stderr)
    with open(gw.conf, "w") as f:
        f.write(good)


def test_csv_errors_import_nothing(stack):
    gw = Gateway(stack)
    gw.ctl("cohort", "add", "W1", "--start", "2026-09-01", "--weeks", "10")
    csv = os.path.join(gw.dir, "bad.csv")
    with open(csv, "w") as f:
        f.write("role,name,email,cohort,segment\n"            # 1
                "mentee,Alex Smith,alex@school.test,W1,school\n"  # 2 fine
                "teacher,Pat,pat@school.test,W1,\n"           # 3 bad role
                "mentor,Sam Jones,not-an-address,W1,\n"      # 4 bad email
                "mentor,\"Kim, Dr\",kim@nhs.test,W9,\n"      # 5 unknown cohort
                "mentee,Jo,jo@school.test,W1\n"              # 6 four fields
                "mentee,Alex Again,ALEX@school.test,W1,\n")   # 7 duplicate
    r = gw.ctl("import", csv, check=False)
    assert r.returncode == 65, r
    for line in (3, 4, 5, 6, 7):
        assert f"{csv}:{line}: " in r.stderr, (line, r.stderr)
    assert f"{csv}:2:" not in r.stderr
    assert gw.sql("SELECT count(*) FROM participants") == [(0,)]
    # cohort errors too
    r = gw.ctl("cohort", "add", "W2", "--start", "2026-13-45", "--weeks", "10", check=False)
    assert r.returncode == 65 and "not a date" in r.stderr
    r = gw.ctl("cohort", "add", "W1", "--start", "2026-09-01", "--weeks", "10", check=False)
    assert r.returncode != 0 and "exists already" in r.stderr
    r = gw.ctl("pair", MENTEE, MENTOR, check=False)
    assert r.returncode != 0 and "not a registered mentee" in r.stderr
    # the good rows alone import, and a re-import changes nothing
    good = os.path.join(gw.dir, "good.csv")
    with open(good, "w") as f:
        f.write("role,name,email,cohort,segment\nmentee,Alex Smith,alex@school.test,W1,school\n"
                "mentor,\"Jones, Sam\",sam@nhs.test,W1,\n")
    assert "imported 2" in gw.ctl("import", good).stdout
    assert "imported 2" in gw.ctl("import", good).stdout
    assert gw.sql("SELECT name FROM participants ORDER BY id") == [("Alex Smith",), ("Jones, Sam",)]


def test_libetpan_boundary_crash_mail_is_held_not_fatal(stack):
    """libetpan 1.9.4 segfaults on boundary=\"\\\"\": anyone could kill the daemon."""
    gw = Gateway(stack)
    to_mentor, _ = gw.setup_pair()
    evil = ("From: alex@school.test\r\nTo: " + to_mentor + "\r\nSubject: evil\r\n"
            "Message-ID: <evil.1@school.test>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=\"\\\"\"\r\n\r\n"
            "--\"\r\nContent-Type: text/plain\r\n\r\nboom\r\n--\"--\r\n")
    nested = ("From: alex@school.test\r\nTo: " + to_mentor + "\r\nSubject: evil nested\r\n"
              "Message-ID: <evil.2@school.test>\r\nMIME-Version: 1.0\r\n"
              "Content-Type: multipart/mixed; boundary=outer\r\n\r\n--outer\r\n"
              "Content-Type: multipart/alternative;\r\n boundary=\"\\\"\"\r\n\r\n"
              "--\"\r\nContent-Type: text/plain\r\n\r\nboom\r\n--\"--\r\n--outer--\r\n")
    stack.send(MENTEE, to_mentor, evil)
    stack.send(MENTEE, to_mentor, nested)
    stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "normal", "still working"))
    stack.wait_count("relay@mentoring.test", 3)
    r = gw.once()
    assert r.returncode == 0
    held = gw.sql("SELECT subject, reason FROM messages WHERE state = 'held' ORDER BY subject")
    assert [h[0] for h in held] == ["evil", "evil nested"], held
    assert all("boundary" in h[1] for h in held), held
    assert stack.wait_count(MENTOR, 1) == 1
    assert str(parse(stack.messages(MENTOR)[0])["Subject"]) == "normal"


def test_line_ends_and_dots_survive(stack):
    """Lines that are a lone dot, start with dots or 'From ', long lines and
    non-ASCII text arrive as written (libcurl dot-stuffs only after CRLF)."""
    gw = Gateway(stack)
    to_mentor, _ = gw.setup_pair()
    lines = ["first line", ".", "..two dots", ".leading dot", "From the start",
             "caf\u00e9 \u2014 na\u00efve \U0001F600", "x" * 990, "last line"]
    raw = ("From: alex@school.test\r\nTo: " + to_mentor + "\r\nSubject: Caf\u00e9 dots\r\n"
           "Message-ID: <dots.1@school.test>\r\nMIME-Version: 1.0\r\n"
           "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
           + "\r\n".join(lines) + "\r\n").encode("utf-8")
    msg = parse(gw.relay_through(MENTEE, to_mentor, raw, MENTOR))
    assert str(msg["Subject"]) == "Caf\u00e9 dots"
    got = body_text(msg).replace("\r\n", "\n").rstrip("\n").split("\n")
    assert got == lines, got


def test_html_only_and_encoded_mail_is_rendered(stack):
    gw = Gateway(stack)
    to_mentor, _ = gw.setup_pair()
    html = ("<html><head><style>p{color:red}</style></head><body>"
            "<p>Hello&nbsp;Sam,</p><p>Here is my <a href=\"https://example.org/cv\">CV</a>"
            " &amp; list:</p><ul><li>one</li><li>two</li></ul>"
            "<blockquote>quoted line</blockquote><p>Caf\u00e9 &#8364;5</p></body></html>")
    body = quopri.encodestring(html.encode("latin-1")).decode("ascii")
    raw = ("From: =?ISO-8859-1?Q?Al=E9x?= <alex@school.test>\r\nTo: " + to_mentor +
           "\r\nSubject: =?UTF-8?B?w4lsw6h2ZSBodG1s?=\r\nMessage-ID: <html.1@school.test>\r\n"
           "MIME-Version: 1.0\r\nContent-Type: text/html; charset=iso-8859-1\r\n"
           "Content-Transfer-Encoding: quoted-printable\r\n\r\n" + body + "\r\n")
    msg = parse(gw.relay_through(MENTEE, to_mentor, raw, MENTOR))
    assert str(msg["Subject"]) == "\u00c9l\u00e8ve html"
    text = body_text(msg)
    assert msg.get_content_type() == "text/plain"
    for want in ("Hello Sam,", "CV <https://example.org/cv>", "- one", "- two",
                 "> quoted line", "Caf\u00e9 \u20ac5"):
        assert want in text, (want, text)
    assert "color:red" not in text and "<p>" not in text
