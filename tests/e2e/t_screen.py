"""Screening in the relay: risky new text is held (never reaches the
partner), so is a quote of what the pair never exchanged (t_quoted has
true quotes), every hit is recorded, the statistical second opinion holds
what no rule caught (new text only), and a broken rule file stops the
configuration with file:line."""
import os
import subprocess

from harness import BUILD, Gateway, body_text, make_mail, parse

MENTEE = "alex@school.test"
MENTOR = "sam@nhs.test"
COORD = "coord@mentoring.test"
RULES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                     "conf", "rules")


def test_risky_text_is_held_and_a_quote_of_what_was_never_relayed(stack):
    gw = Gateway(stack, extra=f"\n[screening]\nrules = {RULES}\n")
    to_mentor, to_mentee = gw.setup_pair()
    stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "Week 2",
               "text me on oh seven seven double oh nine double oh one two three"))
    stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "Week 2 again",
               "I don't see the point anymore."))
    stack.send(MENTOR, to_mentee, make_mail(MENTOR, to_mentee, "Re: Week 2",
               "Let's keep talking here, it keeps us both safe.\r\n\r\n"
               "On Sun, 22 Nov 2026 at 10:00, Alex <x@y.test> wrote:\r\n"
               "> text me on 07700 900123"))
    stack.wait_count("relay@mentoring.test", 3)
    gw.once()
    rows = {r[0]: r for r in gw.sql("SELECT subject, state, reason, id FROM messages")}
    assert rows["Week 2"][1:3] == ("held", "screening: contact-phone"), rows
    assert rows["Week 2 again"][1:3] == ("held", "screening (escalate): risk"), rows
    # the mentee's number was held, never relayed: quoting it is making it up
    # (the address in its made-up attribution is nobody the gateway knows)
    assert rows["Re: Week 2"][1:3] == ("held", "screening: contact-email, contact-phone (in quoted"
                                       " text this pair never exchanged)"), rows
    flags = gw.sql("SELECT message, category, action, excerpt FROM flags ORDER BY id")
    assert (rows["Week 2"][3], "contact-phone", "hold",
            "oh seven seven double oh nine double oh one two three") in flags, flags
    assert any(f[0] == rows["Week 2 again"][3] and f[1] == "risk" and f[2] == "escalate"
               for f in flags), flags
    assert (rows["Re: Week 2"][3], "contact-phone", "hold", "07700 900123") in flags, flags
    assert stack.count(MENTOR) == 0, "nothing held reaches the partner"
    assert stack.count(MENTEE) == 0


def test_the_model_holds_what_no_rule_caught_and_says_why(stack):
    """The statistical second opinion in the relay: a category it rates is
    held as model-CATEGORY, the coordinator is told why and sees the word
    that weighs most; quoted history is the rules' alone.  (A model of one
    made-up word, so that no rule can know it.)"""
    import shutil
    gw = Gateway(stack)
    rules = os.path.join(gw.dir, "rules")
    shutil.copytree(RULES, rules)
    with open(os.path.join(rules, "screen.model"), "w") as f:
        f.write("categories risk\nbias -3\nthreshold 0.5\nfloor 10\nu:zorbly 0:25\n")
    with open(gw.conf, "a") as f:
        f.write(f"\n[screening]\nrules = {rules}\n")
    to_mentor, to_mentee = gw.setup_pair()
    stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "Week 4",
               "Honestly the whole week felt zorbly again and I could not shake it"))
    stack.send(MENTOR, to_mentee, make_mail(MENTOR, to_mentee, "Re: Week 3",
               "Thanks for the update, we can pick the reading list up on Thursday.\r\n\r\n"
               "On Sun, 22 Nov 2026 at 10:00, Alex wrote:\r\n"
               "> the whole week felt zorbly again and I could not shake it off"))
    stack.wait_count("relay@mentoring.test", 2)
    gw.once()
    rows = {r[0]: r for r in gw.sql("SELECT subject, state, reason, id FROM messages")}
    assert rows["Week 4"][1:3] == ("held", "screening: risk"), rows
    assert rows["Re: Week 3"][1] == "relayed", rows
    flags = gw.sql("SELECT message, rule, category, action, excerpt FROM flags")
    assert flags == [(rows["Week 4"][3], "model-risk", "risk", "hold", "zorbly")], flags
    stack.wait_queue_empty()
    holds = [parse(m) for m in stack.messages(COORD) if b"held: " in m]
    assert len(holds) == 1, [str(parse(m)["Subject"]) for m in stack.messages(COORD)]
    text = body_text(holds[0])
    assert "statistical second opinion" in text and "zorbly" in text, text
    assert stack.wait_count(MENTEE, 1) == 1 and stack.count(MENTOR) == 0


def test_bad_rule_file_is_a_config_error(stack):
    bad = os.path.join(stack.dir, "badrules")
    os.makedirs(bad, exist_ok=True)
    with open(os.path.join(bad, "10-x.rules"), "w") as f:
        f.write("[rule x]\ncategory = contact-phone\naction = hold\npattern = 07\\d{9}\n"
                "match = call 07700900123\nnomatch = call 0770\nnomatch = 07700900999\n")
    gw = Gateway(stack, extra=f"\n[screening]\nrules = {bad}\n")
    r = gw.ctl("check", check=False)
    assert r.returncode == 78, r
    assert "10-x.rules:1: rule x matches its counter-example: 07700900999" in r.stderr, r.stderr
    r = subprocess.run([os.path.join(BUILD, "mentorgated"), "-c", gw.conf, "--once"],
                       capture_output=True, text=True)
    assert r.returncode == 78 and "10-x.rules:1" in r.stderr, r


def test_failed_sender_authentication_is_held_as_spoof(stack):
    gw = Gateway(stack, extra="\n[moderation]\nauthserv_id = mx.mentoring.test\n")
    to_mentor, _ = gw.setup_pair()
    cases = {
        "a": "Authentication-Results: mx.mentoring.test; dkim=fail header.d=school.test; spf=fail\r\n",
        "b": "Authentication-Results: mx.mentoring.test; spf=softfail smtp.mailfrom=school.test\r\n"
             "Authentication-Results: mx.mentoring.test; dkim=pass header.d=school.test\r\n",
        "c": "Authentication-Results: mx.mentoring.test; dkim=pass header.d=school.test\r\n",
        "d": "Authentication-Results: evil.test; dkim=fail header.d=school.test\r\n",
    }
    for subject, header in cases.items():
        stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, subject, "hello", extra=header))
    stack.wait_count("relay@mentoring.test", 4)
    gw.once()
    got = dict((s, (st, r)) for s, st, r in gw.sql("SELECT subject, state, reason FROM messages"))
    assert got["a"] == ("held", "possible spoof of a participant's address: dkim=fail spf=fail"), got
    assert got["b"] == ("held", "possible spoof of a participant's address: spf=fail"), got
    assert got["c"][0] == "relayed", got
    # no word from our own server (another server's header is the sender's)
    assert got["d"] == ("held", "possible spoof of a participant's address: not authenticated"
                        " (no Authentication-Results from our server)"), got


def test_rules_replay_reports_gains_and_losses_and_changes_nothing(stack):
    import shutil
    gw = Gateway(stack, extra=f"\n[screening]\nrules = {RULES}\n")
    to_mentor, _ = gw.setup_pair()
    stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "a", "call me on 07700 900123"))
    stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "b", "I loved the football clip"))
    stack.wait_count("relay@mentoring.test", 2)
    gw.once()
    newrules = os.path.join(gw.dir, "rules")
    shutil.copytree(RULES, newrules)
    os.remove(os.path.join(newrules, "10-contact-phone.rules"))
    os.remove(os.path.join(newrules, "screen.model"))   # (its own opinion of the number)
    with open(os.path.join(newrules, "99-test.rules"), "w") as f:
        f.write("[rule football]\ncategory = social\naction = flag\npattern = \\bfootball\\b\n"
                "match = football\nnomatch = rugby\n")
    with open(gw.conf) as f:
        conf = f.read().replace(f"rules = {RULES}", f"rules = {newrules}")
    with open(gw.conf, "w") as f:
        f.write(conf)
    before = gw.sql("SELECT * FROM flags"), gw.sql("SELECT id, state, reason FROM messages")
    out = gw.ctl("rules", "replay", "--days", "7").stdout
    assert "2 messages from the last 7 days" in out, out
    rows = {l.split()[0]: l.split()[1:] for l in out.splitlines() if l.split() and l.split()[0] in
            ("contact-phone", "social")}
    assert rows["contact-phone"] == ["0", "1", "0", "1"], out
    assert rows["social"] == ["1", "0", "1", "0"], out
    assert "loses contact-phone" in out and "gains social" in out
    assert (gw.sql("SELECT * FROM flags"), gw.sql("SELECT id, state, reason FROM messages")) == before
