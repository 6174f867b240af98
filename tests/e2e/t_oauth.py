"""XOAUTH2 to IMAP and SMTP.  Dovecot (auth_mechanisms ... xoauth2, a
passwd-file passdb) checks the bearer token as the password, so the real
servers do the whole SASL exchange; Postfix offers what Dovecot's auth
offers.  The token command counts its runs in a file."""
import os

from harness import Gateway, make_mail

MENTEE = "alex@school.test"
MENTOR = "sam@nhs.test"

SCRIPT = """#!/bin/sh
cd "$(dirname "$0")"
n=$(cat count 2>/dev/null || echo 0); n=$((n + 1)); echo $n >count
tok=secret
if [ $n -eq 1 ] && [ -e wrong-first ]; then tok=expired-token; fi
printf '{"access_token": "%s", "token_type": "Bearer", "expires_in": 3600}\\n' $tok
"""


def oauth_gateway(stack):
    gw = Gateway(stack)
    script = os.path.join(gw.dir, "token.sh")
    with open(script, "w") as f:
        f.write(SCRIPT)
    os.chmod(script, 0o700)
    gw.edit("password = secret\n", f"oauth2_token_command = {script}\n")
    gw.edit("[smtp]\n", "[smtp]\nusername = relay@mentoring.test\n"
            f"oauth2_token_command = {script}\n")
    return gw


def runs(gw):
    with open(os.path.join(gw.dir, "count")) as f:
        return int(f.read())


def xoauth2_logins(stack):
    with open(os.path.join(stack.dir, "log", "postfix.log")) as f:
        return f.read().count("sasl_method=XOAUTH2, sasl_username=relay@mentoring.test")


def test_xoauth2_imap_and_smtp_with_one_cached_token(stack):
    gw = oauth_gateway(stack)
    to_mentor, _ = gw.setup_pair()
    assert "password" not in open(gw.conf).read()
    stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "oauth", "hello"))
    stack.wait_count("relay@mentoring.test", 1)
    before = xoauth2_logins(stack)
    r = gw.once()
    assert stack.wait_count(MENTOR, 1) == 1
    # the token's stated lifetime let IMAP and SMTP share one run
    assert runs(gw) == 1
    assert xoauth2_logins(stack) == before + 1
    assert "secret" not in r.stderr


def test_a_refused_token_is_fetched_again(stack):
    gw = oauth_gateway(stack)
    to_mentor, _ = gw.setup_pair()
    open(os.path.join(gw.dir, "wrong-first"), "w").close()
    stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "oauth again", "hello"))
    stack.wait_count("relay@mentoring.test", 1)
    r = gw.once()
    assert stack.wait_count(MENTOR, 1) == 1
    # the first token was refused by Dovecot, dropped from the cache, and a
    # second run's token served both IMAP and SMTP
    assert runs(gw) == 2
    assert "expired-token" not in r.stderr
