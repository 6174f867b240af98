"""A STARTTLS the server does not offer is an error, never a fall-back to
plain text.  SMTP: Postfix's smtp-sink, which offers no STARTTLS.  IMAP: a
STARTTLS-stripping middlebox in front of the real Dovecot (the attack the
rule exists for): it hides the capability and refuses the command."""
import os
import shutil
import socket
import subprocess
import threading
import time

from harness import Gateway, Middlebox, free_port, make_mail

MENTEE = "alex@school.test"
MENTOR = "sam@nhs.test"


class Stripper(Middlebox):
    def __init__(self, target):
        self.target = target
        self.seen = b""          # everything the client sent
        super().__init__()

    def connected(self, c):
        up = socket.create_connection(("127.0.0.1", self.target))
        threading.Thread(target=self.down, args=(up, c), daemon=True).start()
        self.up(c, up)

    def down(self, up, c):
        try:
            while (data := up.recv(65536)):
                c.sendall(data.replace(b" STARTTLS", b""))
        except OSError:
            pass
        c.close()

    def up(self, c, up):
        try:
            while (data := c.recv(65536)):
                self.seen += data
                for line in data.split(b"\r\n"):
                    parts = line.split()
                    if len(parts) == 2 and parts[1].upper() == b"STARTTLS":
                        c.sendall(parts[0] + b" BAD Unknown command\r\n")
                        break
                else:
                    up.sendall(data)
        except OSError:
            pass
        up.close()


def test_imap_starttls_stripped_is_refused_before_login(stack):
    strip = Stripper(stack.imap_port)
    try:
        gw = Gateway(stack)
        to_mentor, _ = gw.setup_pair()
        stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "stripped", "hello"))
        stack.wait_count("relay@mentoring.test", 1)
        gw.edit(f"port = {stack.imap_port}\n", f"port = {strip.port}\n")
        r = gw.once(check=False)
        assert r.returncode == 75, r.stderr
        assert "STARTTLS (never falling back to plain text) failed" in r.stderr, r.stderr
        assert b"STARTTLS" in strip.seen and b"LOGIN" not in strip.seen.upper()
        assert b"secret" not in strip.seen
        assert gw.sql("SELECT count(*) FROM messages") == [(0,)]
    finally:
        strip.close()


def test_smtp_starttls_not_offered_sends_nothing(stack):
    p = free_port()
    sink = subprocess.Popen([shutil.which("smtp-sink"), "-u", "nobody", f"127.0.0.1:{p}", "10"])
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", p), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)        # waiting for the sink to listen, bounded
        gw = Gateway(stack)
        to_mentor, _ = gw.setup_pair()
        gw.edit(f"url = smtp://127.0.0.1:{stack.smtp_port}\n",
             f"url = smtp://127.0.0.1:{p}\ntls = starttls\n")
        stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "no tls", "hello"))
        stack.wait_count("relay@mentoring.test", 1)
        r = gw.once(check=False)
        assert r.returncode == 75, r.stderr
        assert "STARTTLS" in r.stderr, r.stderr
        assert gw.sql("SELECT state, attempts FROM outbox") == [("queued", 0)]
    finally:
        sink.terminate()
        sink.wait()
