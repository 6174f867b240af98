"""Reading a message (parse, classify, extract, screen) happens on the
reader thread when the storing thread has fallen behind, else on the
storing thread: either way every decision, text and flag is the same."""
import os

from harness import Gateway, make_mail

MENTEE = "alex@school.test"
MENTOR = "sam@nhs.test"
RULES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                     "conf", "rules")


def mails(to_mentor, to_mentee):
    quoted = ("Thanks, see you Thursday.\r\n\r\nOn Sun, 22 Nov 2026 at 10:00, Sam <x@y.test> wrote:\r\n"
              "> How was the placement?\r\n> Sam\r\n")
    return [
        (MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "plain", "Hello, the ward visit went well.")),
        (MENTOR, to_mentee, make_mail(MENTOR, to_mentee, "Re: plain", quoted)),
        (MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "phone",
                                      "text me on oh seven seven double oh nine double oh one two three")),
        (MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "risk", "I don't see the point anymore.")),
        (MENTOR, to_mentee, make_mail(MENTOR, to_mentee, "Out of Office: Week 1", "Back Monday.",
                                      extra="Auto-Submitted: auto-replied\r\n")),
        ("mallory@school.test", to_mentor, make_mail("mallory@school.test", to_mentor, "stranger", "hi")),
    ]


def run(stack, name, read_ahead):
    gw = Gateway(stack, name=name, extra=f"\n[screening]\nrules = {RULES}\n")
    to_mentor, to_mentee = gw.setup_pair()
    sent = mails(to_mentor, to_mentee)
    for frm, rcpt, raw in sent:
        stack.send(frm, rcpt, raw)
    stack.wait_count("relay@mentoring.test", len(sent))
    r = gw.once(env={"MENTORGATE_READ_AHEAD": str(read_ahead)})
    done = [line for line in r.stderr.splitlines() if " pass done " in line]
    assert done, r.stderr
    msgs = gw.sql("SELECT subject, state, reason, kind, new_text, topic, attachments,"
                  " pair_id IS NOT NULL, thread_id IS NOT NULL FROM messages ORDER BY subject")
    flags = gw.sql("SELECT m.subject, f.rule, f.category, f.action, f.span_start, f.span_end, f.excerpt"
                   " FROM flags f JOIN messages m ON m.id = f.message ORDER BY m.subject, f.id")
    return done[-1], msgs, flags


def test_read_ahead_or_not_decides_the_same(stack):
    ahead, msgs_a, flags_a = run(stack, "ahead", 0)        # every message read on the reader thread
    behind, msgs_b, flags_b = run(stack, "behind", 10 ** 6)  # none
    assert " read_ahead=6" in ahead and " stored=6 " in ahead, ahead
    assert " read_ahead=0" in behind and " stored=6 " in behind, behind
    assert len(msgs_a) == 6 and msgs_a == msgs_b, (msgs_a, msgs_b)
    states = {m[0]: m[1] for m in msgs_a}
    assert states["plain"] == "relayed" and states["phone"] == "held" and states["stranger"] == "held"
    assert [m[4] for m in msgs_a if m[0] == "Re: plain"] == ["Thanks, see you Thursday.\n"], msgs_a
    assert flags_a and flags_a == flags_b, (flags_a, flags_b)
