"""A message the IMAP server cannot deliver (Dovecot: "* BYE FETCH failed:
Internal error", here for a message file it may not read; Exchange has its
own such messages) must not hold up the mailbox for ever.  The fetch that
fails names the message (one message per FETCH after a failure); after
three passes in a row at the same one, a note of it is held for a
coordinator in its place, and the mail after it goes on."""
import glob
import os
import re

from harness import Gateway, make_mail

MENTEE = "alex@school.test"
MENTOR = "sam@nhs.test"
RELAY = "relay@mentoring.test"


def is_m1(path):
    with open(path, "rb") as f:
        return re.search(rb"^Subject: m1\r?$", f.read(), re.M) is not None


def test_an_unreadable_message_is_held_and_the_rest_goes_on(stack):
    gw = Gateway(stack)
    to_mentor, _ = gw.setup_pair()
    for i in range(3):
        stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, f"m{i}", "hello"))
        assert stack.wait_count(RELAY, i + 1) == i + 1      # in this order
    maildir = os.path.join(stack.dir, "mail", "mentoring.test", "relay", "Maildir")
    files = glob.glob(os.path.join(maildir, "new", "*"))
    assert len(files) == 3, files
    bad = [f for f in files if is_m1(f)]     # (names do not sort by time)
    assert len(bad) == 1, files
    bad = bad[0]
    os.chmod(bad, 0)    # Dovecot (vmail) can no longer read it
    logs = []
    try:
        for _ in range(8):      # bounded: five passes are needed
            r = gw.once(check=False)
            logs.append(r.stderr)
            if "imap unreadable" in r.stderr:
                break
            # what comes before it is not held up
            if len(logs) == 2:
                assert stack.wait_count(MENTOR, 1) == 1, logs
    finally:        # wherever it has gone (moved: renamed, same base name)
        base = os.path.basename(bad).split(",")[0]
        for d, _, names in os.walk(maildir):     # (.Processed too: glob skips dot names)
            for name in names:
                if name.startswith(base):
                    os.chmod(os.path.join(d, name), 0o600)
    log = "\n".join(logs)
    assert "imap unreadable" in logs[-1], log
    assert len(logs) == 5, log      # batch fails; m1 named; 2nd and 3rd failure; skipped
    uids = sorted(u for (u,) in gw.sql("SELECT uid FROM messages"))
    assert len(uids) == 3 and f"uid={uids[1]} passes=3" in log, (uids, log)
    assert stack.wait_count(MENTOR, 2) == 2
    assert stack.count(MENTOR) == 2
    assert stack.count(RELAY) == 0 and stack.count(RELAY, "Processed") == 3
    held = gw.sql("SELECT m.uid, m.kind, h.reason FROM holds h JOIN messages m ON m.id = h.message")
    assert len(held) == 1 and held[0][:2] == (uids[1], "unreadable"), held
    assert held[0][2].startswith("the IMAP server could not deliver it: "), held
    assert stack.wait_count("coord@mentoring.test", 1) == 1    # the hold notice
    assert gw.sql("SELECT suspect_uid FROM imap_sync") == [(0,)]
    gw.once()       # and nothing more comes of it
    assert stack.count(MENTOR) == 2
    assert gw.sql("SELECT count(*) FROM messages") == [(3,)]
