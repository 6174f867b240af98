"""What strangers can send (issue 19): forged delivery reports, forged
commands and senders, identities in attachment names.  Each test sends the
attack over the real mail stack and checks that nothing was believed."""
import os
import stat

from harness import Gateway
from t_understand import COORD, MENTEE, MENTOR, dsn, pair, relay_one


def test_a_forged_bounce_pauses_nobody(stack):
    gw = Gateway(stack)
    to_mentor, to_mentee = pair(gw)
    row, verp = relay_one(gw, stack)
    mac = verp.split("@")[0].rsplit("-", 1)[1]
    wrong = "0" * len(mac) if mac != "0" * len(mac) else "1" * len(mac)
    forged = ["relay@mentoring.test", to_mentor, to_mentee,
              f"relay+bounce-{row}@mentoring.test",                 # the old, guessable form
              f"relay+bounce-{row}-{wrong}@mentoring.test",         # a guessed MAC
              f"relay+bounce-{row + 1}-{mac}@mentoring.test"]       # another row, this MAC
    for to in forged:
        stack.send("", to, dsn(to, MENTEE))
    # our real return address, but the report names someone we did not write to
    stack.send("", verp, dsn(verp, MENTEE))
    stack.wait_count("relay@mentoring.test", len(forged) + 1)
    gw.once()
    assert gw.sql("SELECT count(*) FROM participants WHERE paused IS NOT NULL") == [(0,)]
    assert gw.sql("SELECT state, kind, count(*) FROM messages WHERE kind = 'bounce'"
                  " GROUP BY state, kind") == [("ignored", "bounce", len(forged) + 1)]
    assert gw.sql("SELECT count(*), sum(verified) FROM bounces") == [(len(forged) + 1, 0)]
    listed = gw.ctl("bounces").stdout
    assert listed.count("unverified permanent") == len(forged) + 1, listed
    # never answered: nobody was told anything
    stack.wait_queue_empty()
    assert stack.count(COORD) == 0 and stack.count(MENTEE) == 0 and stack.count(MENTOR) == 1
    # the genuine report still counts
    stack.send("", verp, dsn(verp, MENTOR))
    stack.wait_count("relay@mentoring.test", 1)
    gw.once()
    assert gw.sql("SELECT email FROM participants WHERE paused IS NOT NULL") == [(MENTOR,)]
    assert gw.sql("SELECT count(*) FROM bounces WHERE verified AND outbox_id = ?", row) == [(1,)]


def test_the_verp_key_is_per_database_and_0600(stack):
    a, b = Gateway(stack, "a"), Gateway(stack, "b")
    for gw in (a, b):
        gw.ctl("cohort", "add", "W1", "--start", "2026-09-01", "--weeks", "10")
    ka, kb = a.sql("SELECT value FROM secrets"), b.sql("SELECT value FROM secrets")
    assert len(ka) == 1 and len(kb) == 1 and ka != kb and len(ka[0][0]) >= 32
    assert stat.S_IMODE(os.stat(a.db).st_mode) == 0o600
