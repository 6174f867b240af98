#!/usr/bin/env bash
# Private Dovecot (IMAP+STARTTLS, LMTP) and Postfix (SMTP) on 127.0.0.1, all
# state under one directory.  Needs root (Dovecot drops to the vmail user).
#   mailstack.sh start DIR   -> writes DIR/env (ports, paths) and waits for greetings
#   mailstack.sh stop DIR    -> stops both masters by pidfile
#   mailstack.sh stop-postfix|start-postfix|stop-dovecot|start-dovecot DIR
# Users (password "secret"): see USERS below.
set -eu

USERS="relay@mentoring.test research@mentoring.test coord@mentoring.test safe@mentoring.test
alex@school.test jo@school.test mallory@school.test sam@nhs.test kim@nhs.test"
DOMAINS="mentoring.test school.test nhs.test"

die() { echo "mailstack: $*" >&2; exit 1; }

free_ports() {	# N free TCP ports on 127.0.0.1
	python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

wait_greeting() {	# port expected-prefix
	python3 - "$1" "$2" <<'PY'
import socket, sys, time
port, want = int(sys.argv[1]), sys.argv[2].encode()
for _ in range(100):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            if s.recv(64).startswith(want):
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.1)
sys.exit(1)
PY
}

stop_pid() {	# pidfile comm
	local f=$1 comm=$2 pid i
	[ -f "$f" ] || return 0
	pid=$(tr -dc 0-9 <"$f")
	[ -n "$pid" ] || return 0
	[ "$(cat /proc/$pid/comm 2>/dev/null)" = "$comm" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

write_conf() {
	local S=$1
	read -r IMAP IMAPS LMTP SMTP <<<"$(free_ports 4)"
	id vmail >/dev/null 2>&1 ||
		useradd --system --user-group --no-create-home --shell /usr/sbin/nologin vmail
	chmod 0755 "$S"
	mkdir -p "$S"/tls "$S"/log "$S"/dovecot/state "$S"/postfix
	install -d -o vmail -g vmail "$S/mail"
	install -d -o root -m 0755 "$S/postfix-spool"
	openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=localhost \
		-addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
		-keyout "$S/tls/key.pem" -out "$S/tls/cert.pem" 2>/dev/null
	: >"$S/dovecot/users"
	: >"$S/postfix/vmailbox"
	for u in $USERS; do
		echo "$u:{PLAIN}secret::::::" >>"$S/dovecot/users"
		echo "$u OK" >>"$S/postfix/vmailbox"
	done
	cat >"$S/dovecot.conf" <<DOVE
base_dir = $S/dovecot/run
state_dir = $S/dovecot/state
log_path = $S/log/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
mail_uid = vmail
mail_gid = vmail
first_valid_uid = 100
mail_location = maildir:~/Maildir
mail_max_userip_connections = 200
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2
auth_failure_delay = 0
recipient_delimiter = +
lmtp_save_to_detail_mailbox = no
ssl = yes
ssl_cert = <$S/tls/cert.pem
ssl_key = <$S/tls/key.pem
ssl_dh = </usr/share/dovecot/dh.pem
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%Lu $S/dovecot/users
}
userdb {
  driver = passwd-file
  args = username_format=%Lu $S/dovecot/users
  default_fields = home=$S/mail/%Ld/%Ln
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $IMAPS
    ssl = yes
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $LMTP
  }
}
service auth {
  unix_listener auth-postfix {
    mode = 0660
    user = postfix
    group = postfix
  }
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
DOVE
	cat >"$S/postfix/main.cf" <<PF
compatibility_level = 3.6
queue_directory = $S/postfix-spool
data_directory = $S/postfix-data
maillog_file = $S/log/postfix.log
maillog_file_prefixes = $S
myhostname = mailstack.localhost
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
virtual_mailbox_domains = $DOMAINS
virtual_mailbox_maps = texthash:$S/postfix/vmailbox
virtual_transport = lmtp:inet:127.0.0.1:$LMTP
default_transport = lmtp:inet:127.0.0.1:$LMTP
recipient_delimiter = +
smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated reject_unauth_destination
smtp_dns_support_level = disabled
lmtp_dns_support_level = disabled
smtpd_peername_lookup = no
queue_run_delay = 5s
minimal_backoff_time = 5s
maximal_backoff_time = 30s
delay_warning_time = 0
smtpd_tls_security_level = may
smtpd_tls_cert_file = $S/tls/cert.pem
smtpd_tls_key_file = $S/tls/key.pem
smtpd_sasl_type = dovecot
smtpd_sasl_path = $S/dovecot/run/auth-postfix
smtpd_sasl_auth_enable = yes
PF
	cat >"$S/postfix/master.cf" <<PF
127.0.0.1:$SMTP inet n - n - - smtpd
pickup    unix  n - n 60    1 pickup
cleanup   unix  n - n -     0 cleanup
qmgr      unix  n - n 300   1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n -     - trivial-rewrite
bounce    unix  - - n -     0 bounce
defer     unix  - - n -     0 bounce
trace     unix  - - n -     0 bounce
verify    unix  - - n -     1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -     - proxymap
proxywrite unix - - n -     1 proxymap
smtp      unix  - - n -     - smtp
relay     unix  - - n -     - smtp
showq     unix  n - n -     - showq
error     unix  - - n -     - error
retry     unix  - - n -     - error
discard   unix  - - n -     - discard
lmtp      unix  - - n -     - lmtp
anvil     unix  - - n -     1 anvil
scache    unix  - - n -     1 scache
postlog   unix-dgram n - n - 1 postlogd
PF
	cat >"$S/env" <<ENV
MS_DIR=$S
MS_IMAP_PORT=$IMAP
MS_IMAPS_PORT=$IMAPS
MS_LMTP_PORT=$LMTP
MS_SMTP_PORT=$SMTP
MS_CA=$S/tls/cert.pem
ENV
}

start_dovecot() {
	. "$1/env"
	rm -f "$1/dovecot/run/anvil-auth-penalty"
	dovecot -c "$1/dovecot.conf" || die "dovecot did not start (see $1/log/dovecot.log)"
	wait_greeting "$MS_IMAP_PORT" "* OK" || die "no IMAP greeting on $MS_IMAP_PORT"
	wait_greeting "$MS_LMTP_PORT" "220" || die "no LMTP greeting on $MS_LMTP_PORT"
}

start_postfix() {
	. "$1/env"
	postfix -c "$1/postfix" start >/dev/null 2>&1 || die "postfix did not start (see $1/log/postfix.log)"
	wait_greeting "$MS_SMTP_PORT" "220" || die "no SMTP greeting on $MS_SMTP_PORT"
}

stop_dovecot() { stop_pid "$1/dovecot/run/master.pid" dovecot; }
stop_postfix() { stop_pid "$1/postfix-spool/pid/master.pid" master; }

[ $# -eq 2 ] || die "usage: mailstack.sh start|stop|start-postfix|stop-postfix|start-dovecot|stop-dovecot DIR"
S=$(cd "$2" && pwd)
case $1 in
start)
	[ "$(id -u)" = 0 ] || die "must run as root (Dovecot and Postfix masters)"
	write_conf "$S"
	start_dovecot "$S"
	start_postfix "$S"
	;;
stop) stop_postfix "$S"; stop_dovecot "$S" ;;
start-postfix) start_postfix "$S" ;;
stop-postfix) stop_postfix "$S" ;;
start-dovecot) start_dovecot "$S" ;;
stop-dovecot) stop_dovecot "$S" ;;
*) die "unknown command $1" ;;
esac
