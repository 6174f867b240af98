"""A full disk under the database: nothing is taken from the mailbox while
nothing can be committed, the failure is logged once and retried with
backoff (no line claims what was rolled back), and once there is room
again every message is relayed exactly once, without a restart.  As root
the database lives on a small tmpfs that a filler file fills (ENOSPC);
without root, a file size limit on the daemon stands in for it (EFBIG),
and recovery is a second run."""
import errno
import os
import resource
import shutil
import signal
import subprocess

from harness import BUILD, Daemon, Gateway, make_mail

MENTEE = "alex@school.test"
MENTOR = "sam@nhs.test"
N = 12


def send_batch(stack, gw, to_mentor):
    body = "A weekly update with some length to it.\r\n" * 60   # a few KB each
    for i in range(N):
        stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, f"full {i}", body))
    assert stack.wait_count("relay@mentoring.test", N) == N


def assert_once_each(stack, gw):
    assert stack.wait_count(MENTOR, N) == N
    assert stack.count(MENTOR) == N
    assert gw.sql("SELECT count(*) FROM messages") == [(N,)]
    assert gw.sql("SELECT count(DISTINCT subject) FROM messages") == [(N,)]
    assert stack.count("relay@mentoring.test") == 0


def stored_reported(log):
    return sum(int(w.split("=")[1]) for l in log.splitlines() if " pass done " in l
               for w in l.split() if w.startswith("stored="))


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")     # utime + stime


def mount_small_disk(path):
    os.makedirs(path)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", path],
                       capture_output=True)
    return r.returncode == 0


def fill(path):
    """Write until the file system is full (ENOSPC)."""
    fd = os.open(os.path.join(path, "filler"), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while os.write(fd, b"\0" * 65536) > 0:
            pass
    except OSError as e:
        assert e.errno == errno.ENOSPC, e
    finally:
        os.close(fd)


def test_full_disk_is_retried_and_nothing_is_lost(stack):
    gw = Gateway(stack)
    to_mentor, _ = gw.setup_pair()
    disk = os.path.join(gw.dir, "disk")
    if os.geteuid() == 0 and mount_small_disk(disk):
        try:
            db = os.path.join(disk, "gw.db")
            shutil.copy(gw.db, db)
            gw.edit(f"database = {gw.db}\n", f"database = {db}\n")
            # no timer to fall back on: the retries are the backoff's
            gw.edit("poll_interval = 1\n", "poll_interval = 3600\n")
            gw.db = db
            d = Daemon([gw.conf], env={"MENTORGATE_LOG": "debug"})
            try:
                d.wait_log("imap idling")       # its first pass has written what it writes
                fill(disk)
                send_batch(stack, gw, to_mentor)
                d.wait_log("ingest commit failed")
                cpu0 = cpu_seconds(d.proc.pid)
                d.wait_log("database still-down", n=2)     # retried twice, later each time
                cpu = cpu_seconds(d.proc.pid) - cpu0
                assert stack.count("relay@mentoring.test") == N   # all still there
                assert stack.count(MENTOR) == 0
                os.unlink(os.path.join(disk, "filler"))
                d.wait_log("database recovered")
                assert_once_each(stack, gw)
            finally:
                assert d.stop() == 0, d.log()
            log = d.log().splitlines()
            failed = [l for l in log if "ingest commit failed" in l]
            assert "database or disk is full" in failed[0], failed
            assert stored_reported(d.log()) == N, d.log()   # the rolled back batch is not counted
            # logged once: the retries' failures are debug lines
            assert [l.split()[1] for l in failed] == ["err"] + ["debug"] * (len(failed) - 1), log
            down = [l for l in log if " database down " in l]
            assert len(down) == 1 and down[0].split()[1] == "warn", log
            assert sum(" database recovered " in l for l in log) == 1, log
            waits = [int(l.rsplit("retry_in_ms=", 1)[1]) for l in log
                     if " database down " in l or " database still-down " in l]
            assert waits[1] >= 1000 and waits[2] >= 2000, waits  # backoff: 1 s, 2 s, ...
            assert cpu < 1.0, cpu      # waited, not spun, through the backoff
            # a rolled back batch leaves no "relay queued" behind: one each
            assert sum(" relay queued " in l for l in log) == N, log
        finally:
            subprocess.run(["umount", "-l", disk])
        return
    # without root: the database may not grow past its size now
    limit = os.path.getsize(gw.db) + 8192

    def small_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    send_batch(stack, gw, to_mentor)
    r = subprocess.run([os.path.join(BUILD, "mentorgated"), "-c", gw.conf, "--once"],
                       capture_output=True, text=True, preexec_fn=small_files)
    assert r.returncode == 75, r
    assert "ingest commit failed" in r.stderr and stored_reported(r.stderr) == 0, r.stderr
    assert "relay queued" not in r.stderr, r.stderr     # it was rolled back
    assert stack.count("relay@mentoring.test") == N
    assert stack.count(MENTOR) == 0
    gw.once()
    assert_once_each(stack, gw)
