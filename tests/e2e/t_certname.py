"""A certificate from a trusted CA but for another host name is refused, by
IMAP (libetpan checks nothing: tlsverify does) and by SMTP (libcurl).  The
servers are the real Dovecot and Postfix behind a TLS terminator, as with
stunnel; two leaf certificates from one test CA differ only in the name."""
import os
import socket
import ssl
import subprocess
import tempfile
import threading

from harness import Gateway, Middlebox, make_mail

MENTEE = "alex@school.test"
MENTOR = "sam@nhs.test"


def make_pki():
    d = tempfile.mkdtemp(prefix="mg-pki-")

    def run(*args):
        subprocess.run(["openssl"] + list(args), check=True, capture_output=True, cwd=d)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=mg test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=keyCertSign,cRLSign",
        "-keyout", "ca.key", "-out", "ca.pem")
    for name, san in (("wrong", "DNS:wrong.example"), ("right", "IP:127.0.0.1")):
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write(f"subjectAltName={san}\n")
        run("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
            "-keyout", name + ".key", "-out", name + ".csr")
        run("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", name + ".ext", "-out", name + ".pem")
    return d


class TlsTerminator(Middlebox):
    """Implicit TLS on a 127.0.0.1 port, plain TCP to target behind it."""

    def __init__(self, pki, name, target):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(os.path.join(pki, name + ".pem"), os.path.join(pki, name + ".key"))
        self.target = target
        super().__init__()

    def connected(self, c):
        try:
            t = self.ctx.wrap_socket(c, server_side=True)
        except (ssl.SSLError, OSError):
            c.close()            # the client refused our certificate
            return
        up = socket.create_connection(("127.0.0.1", self.target))

        def pump(a, b):
            try:
                while True:
                    data = a.recv(65536)
                    if not data:
                        break
                    b.sendall(data)
            except Exception:   # (OSError; or the SSL object gone under it)
                pass
            for s in (a, b):    # wakes the other direction
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except Exception:
                    pass
        other = threading.Thread(target=pump, args=(up, t), daemon=True)
        other.start()
        pump(t, up)
        # closed only once neither direction can use them: a descriptor
        # closed under the other thread is reused by this process's next
        # open (the test's database, a subprocess's pipe), and the other
        # thread's late TLS write lands there
        other.join(60)
        t.close()
        up.close()


def point(gw, imap_port, smtp_port, ca):
    with open(gw.conf) as f:
        text = f.read()
    lines = []
    for line in text.splitlines():
        if line.startswith("port = "):
            line = f"port = {imap_port}"
        elif line == "tls = starttls":
            line = "tls = implicit"
        elif line.startswith("ca_file = "):
            continue
        elif line in ("[imap]", "[smtp]"):
            line = f"{line}\nca_file = {ca}"
        elif line.startswith("url = smtp"):
            line = f"url = smtps://127.0.0.1:{smtp_port}"
        lines.append(line)
    with open(gw.conf, "w") as f:
        f.write("\n".join(lines) + "\n")


def test_certificate_for_another_name_is_refused(stack):
    pki = make_pki()
    stack.tmpdirs.append(pki)
    ca = os.path.join(pki, "ca.pem")
    wrong_imap = TlsTerminator(pki, "wrong", stack.imap_port)
    wrong_smtp = TlsTerminator(pki, "wrong", stack.smtp_port)
    right_imap = TlsTerminator(pki, "right", stack.imap_port)
    right_smtp = TlsTerminator(pki, "right", stack.smtp_port)
    try:
        gw = Gateway(stack)
        to_mentor, _ = gw.setup_pair()
        stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "names", "hello"))
        stack.wait_count("relay@mentoring.test", 1)
        # IMAP: trusted CA, wrong name: refused before any login
        point(gw, wrong_imap.port, right_smtp.port, ca)
        r = gw.once(check=False)
        assert r.returncode == 75, r.stderr
        assert "certificate of 127.0.0.1 not trusted" in r.stderr, r.stderr
        assert gw.sql("SELECT count(*) FROM messages") == [(0,)]
        assert stack.count("relay@mentoring.test") == 1
        # the right name from the same CA: accepted, the relay is enqueued;
        # SMTP to a server with the wrong name is refused, nothing is sent
        point(gw, right_imap.port, wrong_smtp.port, ca)
        r = gw.once(check=False)
        assert r.returncode == 75, r.stderr
        assert gw.sql("SELECT count(*) FROM messages") == [(1,)]
        assert gw.sql("SELECT state FROM outbox") == [("queued",)]
        assert stack.count(MENTOR) == 0
        point(gw, right_imap.port, right_smtp.port, ca)
        gw.once()
        assert stack.wait_count(MENTOR, 1) == 1
        assert gw.sql("SELECT state FROM outbox") == [("sent",)]
    finally:
        for t in (wrong_imap, wrong_smtp, right_imap, right_smtp):
            t.close()
