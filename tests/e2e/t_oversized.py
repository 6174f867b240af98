"""A message over max_message_size is never fetched (RFC822.SIZE is asked
first): a note of it is stored in its place and held for a coordinator,
and it is moved like the rest, so that the mail after it goes on and a
150 MB attachment cannot swell a small server's daemon."""
import os
import re

from harness import Gateway, make_mail

MENTEE = "alex@school.test"
MENTOR = "sam@nhs.test"
RELAY = "relay@mentoring.test"


def test_an_oversized_message_is_held_unfetched(stack):
    gw = Gateway(stack)
    gw.edit("[imap]\n", "[imap]\nmax_message_size = 1M\n")
    to_mentor, _ = gw.setup_pair()
    big = "A line of a long attachment, or a long letter.\r\n" * 44000     # 2.1 MB
    for i, body in enumerate(("before", big, "after")):
        stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, f"m{i}", body))
        assert stack.wait_count(RELAY, i + 1) == i + 1      # in this order
    r = gw.once()
    m = re.search(r"imap oversized mailbox=INBOX uid=(\d+) bytes=(\d+) held=(\d+)", r.stderr)
    assert m and int(m.group(2)) > 1 << 20, r.stderr
    uids = sorted(u for (u,) in gw.sql("SELECT uid FROM messages"))
    assert len(uids) == 3 and int(m.group(1)) == uids[1], (uids, r.stderr)
    # the mail on each side of it is relayed; it is not
    assert stack.wait_count(MENTOR, 2) == 2
    subjects = sorted(s for (s,) in gw.sql("SELECT subject FROM messages WHERE state = 'relayed'"))
    assert subjects == ["m0", "m2"], subjects
    held = gw.sql("SELECT m.uid, m.kind, h.reason, length(r.raw) FROM holds h"
                  " JOIN messages m ON m.id = h.message JOIN message_raw r ON r.id = m.id")
    assert len(held) == 1 and held[0][:2] == (uids[1], "oversized"), held
    assert held[0][2] == f"it has {m.group(2)} bytes, over max_message_size (1048576)", held
    assert held[0][3] < 2000, held      # a note, not the message
    assert stack.wait_count("coord@mentoring.test", 1) == 1    # the hold notice
    # handled like the rest: all three out of the inbox, the big one intact
    assert stack.count(RELAY) == 0 and stack.count(RELAY, "Processed") == 3
    sizes = [len(raw) for raw in stack.messages(RELAY, "Processed")]
    assert max(sizes) == int(m.group(2)), sizes
    gw.once()       # and nothing more comes of it
    assert stack.count(MENTOR) == 2
    assert gw.sql("SELECT count(*) FROM messages") == [(3,)]


def test_max_message_size_zero_fetches_anything(stack):
    gw = Gateway(stack)
    gw.edit("[imap]\n", "[imap]\nmax_message_size = 0\n")
    to_mentor, _ = gw.setup_pair()
    big = "A line of a long letter.\r\n" * 44000       # 1.1 MB
    stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "long", big))
    assert stack.wait_count(RELAY, 1) == 1
    r = gw.once()
    assert "oversized" not in r.stderr, r.stderr
    assert gw.sql("SELECT state, kind FROM messages") == [("relayed", "message")]
    assert stack.wait_count(MENTOR, 1) == 1
