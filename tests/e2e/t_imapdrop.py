"""The server dies in the middle of a FETCH literal.  libetpan 1.9.4 then
spins for ever on recv() == 0; mentorgate's watchdog must cancel the stream,
give up on this pass, and lose nothing.  The 'server death' is a TCP relay in
front of the real Dovecot that closes both sides once the literal starts."""
import socket
import threading
import time

from harness import Daemon, Gateway, Middlebox, make_mail

MENTEE = "alex@school.test"
MENTOR = "sam@nhs.test"


class CuttingRelay(Middlebox):
    """127.0.0.1 TCP relay to Dovecot that hangs up mid-literal of the first
    large message body it carries (or, stall=True, goes silent there and
    keeps the connection open)."""

    def __init__(self, target_port, stall=False):
        self.target = target_port
        self.stall = stall
        self.cut = threading.Event()
        self.release = threading.Event()
        super().__init__()

    def connected(self, c):
        s = socket.create_connection(("127.0.0.1", self.target))
        other = threading.Thread(target=self.pump, args=(c, s, False), daemon=True)
        other.start()
        self.pump(s, c, True)
        other.join(600)     # (a stalled cut waits for release, bounded)
        c.close()           # only now: see t_certname.TlsTerminator
        s.close()

    def pump(self, src, dst, from_server):
        seen = 0
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if from_server and not self.cut.is_set():
                    seen += len(data)
                    if seen > 1_000_000:      # well inside the 3 MB literal
                        self.cut.set()
                        if self.stall:
                            self.release.wait(300)
                        break
                dst.sendall(data)
        except OSError:
            pass
        for sock in (src, dst):     # wakes the other direction
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def test_server_dying_mid_fetch_does_not_hang(stack):
    relay = CuttingRelay(stack.imap_port)
    gw = Gateway(stack)
    to_mentor, _ = gw.setup_pair()
    with open(gw.conf) as f:
        conf = f.read()
    plain = conf.replace(f"port = {stack.imap_port}\ntls = starttls\n",
                         f"port = {relay.port}\ntls = none\n").replace("timeout = 20", "timeout = 2")
    with open(gw.conf, "w") as f:
        f.write(plain)
    big = ("A long letter.\r\n" + ("x" * 76 + "\r\n") * 40000)   # ~3 MB
    stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "big one", big))
    stack.wait_count("relay@mentoring.test", 1)
    try:
        r = gw.once(check=False)      # harness: 300 s timeout; the spin would hit it
    finally:
        relay.close()
    assert relay.cut.is_set(), "the relay never cut the connection"
    assert r.returncode == 75, (r.returncode, r.stderr[-2000:])
    assert "UID FETCH BODY.PEEK[] failed" in r.stderr, r.stderr
    assert gw.sql("SELECT count(*) FROM messages") == [(0,)]
    assert stack.count("relay@mentoring.test") == 1            # nothing lost
    with open(gw.conf, "w") as f:                              # the server is back
        f.write(conf)
    gw.once()
    assert stack.wait_count(MENTOR, 1) == 1


def test_sigterm_while_the_server_hangs_mid_fetch(stack):
    """SIGTERM while a FETCH waits on a server gone silent: the reader thread
    is given a few seconds, then its fetch is cut; the daemon exits 0 at
    once (not after the watchdog's minutes) and loses nothing."""
    relay = CuttingRelay(stack.imap_port, stall=True)
    gw = Gateway(stack)
    to_mentor, _ = gw.setup_pair()
    gw.edit(f"port = {stack.imap_port}\ntls = starttls\n", f"port = {relay.port}\ntls = none\n")
    big = ("A long letter.\r\n" + ("x" * 76 + "\r\n") * 40000)   # ~3 MB
    stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "big one", big))
    stack.wait_count("relay@mentoring.test", 1)
    d = Daemon([gw.conf])
    try:
        assert relay.cut.wait(60), "the relay never saw the literal start"
        t0 = time.monotonic()
        rc = d.stop(timeout=60)
        took = time.monotonic() - t0
    finally:
        relay.release.set()
        relay.close()
    assert rc == 0, d.log()
    # the watchdog alone would have taken 4 x timeout (80 s) to cut it
    assert took < 30, (took, d.log())
    assert gw.sql("SELECT count(*) FROM messages") == [(0,)]
    assert stack.count("relay@mentoring.test") == 1            # nothing lost
    gw.edit(f"port = {relay.port}\ntls = none\n", f"port = {stack.imap_port}\ntls = starttls\n")
    gw.once()
    assert stack.wait_count(MENTOR, 1) == 1
