"""TLS to IMAP: libetpan verifies nothing, so mentorgate checks the chain."""
from harness import Gateway, make_mail

MENTEE = "alex@school.test"
MENTOR = "sam@nhs.test"


def test_untrusted_certificate_is_refused_before_login(stack):
    gw = Gateway(stack)
    to_mentor, _ = gw.setup_pair()
    gw.edit(f"ca_file = {stack.env['MS_CA']}\n", "")      # system store: self-signed fails
    stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "tls", "hello"))
    stack.wait_count("relay@mentoring.test", 1)
    r = gw.once(check=False)
    assert r.returncode == 75, (r.returncode, r.stderr)
    assert "not trusted" in r.stderr, r.stderr
    assert gw.sql("SELECT count(*) FROM messages") == [(0,)]
    assert stack.count("relay@mentoring.test") == 1         # untouched on the server
    # the explicit, logged opt-out
    gw.edit("tls = starttls\n", "tls = starttls\ntls_verify = no\n")
    r = gw.once()
    assert "tls-unverified" in r.stderr
    assert stack.wait_count(MENTOR, 1) == 1


def test_implicit_tls_with_pinned_ca(stack):
    gw = Gateway(stack)
    to_mentor, _ = gw.setup_pair()
    gw.edit(f"port = {stack.imap_port}\ntls = starttls\n",
         f"port = {stack.env['MS_IMAPS_PORT']}\ntls = implicit\n")
    stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "imaps", "hello"))
    stack.wait_count("relay@mentoring.test", 1)
    gw.once()
    assert stack.wait_count(MENTOR, 1) == 1


def test_smtp_starttls_verifies_the_server(stack):
    gw = Gateway(stack)
    to_mentor, _ = gw.setup_pair()
    gw.edit("[smtp]\n", "[smtp]\ntls = starttls\n")       # system store: self-signed fails
    stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "smtp tls", "hello"))
    stack.wait_count("relay@mentoring.test", 1)
    r = gw.once(check=False)
    assert r.returncode == 75, (r.returncode, r.stderr)
    assert gw.sql("SELECT state FROM outbox") == [("queued",)]
    gw.edit("[smtp]\n", f"[smtp]\nca_file = {stack.env['MS_CA']}\n")
    gw.once()
    assert stack.wait_count(MENTOR, 1) == 1
    assert gw.sql("SELECT state FROM outbox") == [("sent",)]
