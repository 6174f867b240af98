"""Ingest commits up to 256 messages at once without a savepoint each (a
lean batch: a savepoint journals every page it touches).  When one message's
changes must be undone alone, here because a trigger the test adds refuses
its relayed copy, the batch is rolled back and done again with a savepoint
per message: that message stays stored and undecided, the others are
relayed once each, and it is relayed once the refusal is gone."""
import re
import sqlite3

from harness import Gateway, make_mail

MENTEE = "alex@school.test"
MENTOR = "sam@nhs.test"
RELAY = "relay@mentoring.test"


def test_a_message_undone_alone_has_its_batch_done_again(stack):
    gw = Gateway(stack)
    to_mentor, _ = gw.setup_pair()
    for i in range(6):
        stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, f"m{i}", f"hello {i}"))
        assert stack.wait_count(RELAY, i + 1) == i + 1      # in this order
    con = sqlite3.connect(gw.db)
    con.execute("CREATE TRIGGER refuse BEFORE INSERT ON outbox"
                " WHEN NEW.message IN (SELECT id FROM messages WHERE subject = 'm3')"
                " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")
    con.commit()
    con.close()
    r = gw.once()
    # m0..m2 stored and relayed, then m3's relay refused after its rows
    # were written: the four are done again, each in a savepoint
    assert "ingest batch-replayed n=4" in r.stderr, r.stderr
    assert r.stderr.count("batch-replayed") == 1, r.stderr
    states = dict(gw.sql("SELECT subject, state FROM messages"))
    assert states == {"m0": "relayed", "m1": "relayed", "m2": "relayed", "m3": "received",
                      "m4": "relayed", "m5": "relayed"}, states
    assert gw.sql("SELECT count(*) FROM audit WHERE event = 'received'") == [(6,)]
    assert gw.sql("SELECT count(*) FROM outbox") == [(5,)]
    assert stack.wait_count(MENTOR, 5) == 5
    assert stack.count(RELAY) == 0 and stack.count(RELAY, "Processed") == 6

    con = sqlite3.connect(gw.db)
    con.execute("DROP TRIGGER refuse")
    con.commit()
    con.close()
    r = gw.once()
    assert "batch-replayed" not in r.stderr, r.stderr
    assert gw.sql("SELECT count(*) FROM messages WHERE state = 'relayed'") == [(6,)]
    assert gw.sql("SELECT count(*) FROM audit WHERE event = 'received'") == [(6,)]
    assert stack.wait_count(MENTOR, 6) == 6
    raws = stack.messages(MENTOR)
    for i in range(6):      # each once, m3 last
        n = sum(1 for raw in raws if re.search(rb"^Subject: .*\bm%d\r?$" % i, raw, re.M))
        assert n == 1, (i, n)
    assert re.search(rb"^Subject: .*\bm3\r?$", raws[-1], re.M)
