"""What mentorctl prints from participants (bodies, subjects, names) cannot
drive the coordinator's terminal: escape sequences and bidi overrides are
shown as visible escapes, on a terminal and through a pipe alike."""
import os
import pty
import shutil
import subprocess
import tempfile

from harness import BUILD, Gateway, make_mail

MENTEE = "alex@school.test"
RULES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                     "conf", "rules")
NUMBER = "oh seven seven double oh nine double oh one two three"
# ESC[8m hides what follows on a terminal; U+202E shows "gpj.exe" as "exe.jpg"
BODY = (f"Great session! text me on {NUMBER}\x1b[8m and do not tell anyone\x1b[0m"
        " see \u202egpj.exe\u202c and ring\x07")
RAW = ("\x1b", "\u202e", "\u202c", "\x07", "\x9b")


def on_pty(gw, *args):
    """mentorctl with stdout and stderr on a terminal: what it wrote."""
    master, slave = pty.openpty()
    p = subprocess.Popen([os.path.join(BUILD, "mentorctl"), "-c", gw.conf] + list(args),
                         stdout=slave, stderr=slave)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:         # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    assert p.wait() == 0, out
    return out.decode("utf-8", "replace")


def test_held_escape_sequences_are_shown_not_obeyed(stack):
    gw = Gateway(stack, extra=f"\n[screening]\nrules = {RULES}\n")
    to_mentor, _ = gw.setup_pair()
    stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "Week 3 \u202eevil", BODY))
    stack.wait_count("relay@mentoring.test", 1)
    gw.once()
    holds = gw.sql("SELECT id FROM holds")
    assert len(holds) == 1, holds
    stored = gw.sql("SELECT body FROM messages WHERE pair_id = 1")[0][0]
    assert "\x1b[8m" in stored and "\u202e" in stored, "the record keeps what was sent"
    hid = str(holds[0][0])
    views = {
        "hold show": gw.ctl("hold", "show", hid).stdout,
        "hold show (terminal)": on_pty(gw, "hold", "show", hid),
        "hold list": gw.ctl("hold", "list").stdout,
        "thread": gw.ctl("thread", "1").stdout,
        "thread (terminal)": on_pty(gw, "thread", "1"),
        "messages": gw.ctl("messages").stdout,
        "export to stdout": gw.ctl("export", "1").stdout,
    }
    for what, out in views.items():
        assert not any(c in out for c in RAW), (what, out)
        if what.startswith(("hold show", "thread", "export")):
            assert "\\e[8m and do not tell anyone\\e[0m" in out, (what, out)
            assert "see \\u202Egpj.exe\\u202C and ring\\x07" in out, (what, out)
        assert "Week 3 \\u202Eevil" in out, (what, out)
    # an export written to a file is the record, byte for byte
    path = os.path.join(gw.dir, "pair1.txt")
    gw.ctl("export", "1", "--output", path)
    with open(path, encoding="utf-8") as f:
        assert "\x1b[8m and do not tell anyone" in f.read()


def test_rules_test_on_several_files_names_each(stack):
    """`rules test` of several files loads the rules once and starts each
    hit's line with its file, as grep does; one file's lines are bare, and
    what it prints is escaped all the same (a file's name too)."""
    dirname = tempfile.mkdtemp(prefix="mg-rules-test-")
    files = {}
    for name, body in (("a.eml", BODY), ("b.eml", "Thanks, see you at the session on Monday."),
                       ("c\x1b[8m.eml", "my number is 07700 900123")):
        files[name] = os.path.join(dirname, name)
        with open(files[name], "w", encoding="utf-8") as f:
            f.write(make_mail(MENTEE, "relay+a@mentoring.test", "Week 3", body))
    ctl = [os.path.join(BUILD, "mentorctl"), "rules", "test"]
    env = dict(os.environ, MENTORGATE_RULES=RULES)
    many = subprocess.run(ctl + [files["a.eml"], files["b.eml"], files["c\x1b[8m.eml"]], env=env,
                          capture_output=True, text=True, check=True).stdout.splitlines()
    one = subprocess.run(ctl + [files["a.eml"]], env=env, capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert many and one, (many, one)
    assert [line for line in many if line.startswith(files["a.eml"] + ": ")] == \
        [files["a.eml"] + ": " + line for line in one], (many, one)
    assert not any(line.startswith(files["b.eml"]) for line in many), many
    c = os.path.join(dirname, "c\\e[8m.eml") + ": contact-phone "
    assert any(line.startswith(c) for line in many), many
    assert not any(ch in "".join(many) for ch in RAW), many
    assert not one[0].startswith(files["a.eml"]), one
    # -H names one file's lines too, as grep -H does
    named = subprocess.run(ctl + ["-H", files["a.eml"]], env=env, capture_output=True, text=True,
                           check=True).stdout.splitlines()
    assert named == [files["a.eml"] + ": " + line for line in one], (named, one)
    shutil.rmtree(dirname)
