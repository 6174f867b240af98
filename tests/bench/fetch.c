/* Benchmark: the floor under ingest.  Fetches every message of a
 * configuration's mailbox with the daemon's own IMAP module (same TLS,
 * same batches) and does nothing else with them.
 *   fetch CONFIG
 * prints  messages=N bytes=B seconds=S rate=R */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "conf.h"
#include "imap.h"

struct count {
	size_t n, bytes;
};

static enum mg_status
on_fetched(uint32_t uid, const char *raw, size_t len, void *arg)
{
	struct count *c = arg;

	(void)uid;
	(void)raw;
	c->n++;
	c->bytes += len;
	return MG_OK;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	struct buf err = {0};
	struct conf *c;
	struct imap *im;
	struct count got = {0};
	uint32_t uidvalidity, *uids = NULL;
	size_t n = 0;
	double t0;

	if (argc != 2) {
		fprintf(stderr, "usage: fetch CONFIG\n");
		return 64;
	}
	if (conf_load(argv[1], &c, &err) != MG_OK) {
		fprintf(stderr, "%s", err.s ? err.s : "bad configuration\n");
		return 78;
	}
	t0 = now();
	if (imap_open(c, &im, &err) != MG_OK || imap_select(im, &uidvalidity, &err) != MG_OK ||
	    imap_pending(im, &uids, &n, &err) != MG_OK ||
	    imap_fetch(im, uids, n, on_fetched, &got, &err) != MG_OK) {
		fprintf(stderr, "fetch: %s\n", err.s ? err.s : "failed");
		return 75;
	}
	t0 = now() - t0;
	printf("messages=%zu bytes=%zu seconds=%.3f rate=%.0f\n", got.n, got.bytes, t0,
	    got.n / t0);
	imap_close(im);
	free(uids);
	conf_free(c);
	buf_free(&err);
	return got.n == n ? 0 : 1;
}
