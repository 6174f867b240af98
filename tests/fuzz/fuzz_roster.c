/* libFuzzer target: the roster CSV import and its checks, against a scratch
 * database holding one cohort.  Each input is imported inside a batch that
 * is then rolled back, so every run starts from the same database.  An
 * import is all or nothing: refused, it says why and imports nothing. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roster.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct store *st;
static char dir[] = "/tmp/mg-fuzz-roster-XXXXXX", db[64], csv[64];

static void
cleanup(void)
{
	char p[80];

	store_close(st);
	unlink(csv);
	unlink(db);
	snprintf(p, sizeof p, "%s-wal", db);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", db);
	unlink(p);
	rmdir(dir);
}

static void
setup(void)
{
	struct buf err = {0};
	int64_t id;

	if (!mkdtemp(dir))
		abort();
	snprintf(db, sizeof db, "%s/db", dir);
	snprintf(csv, sizeof csv, "%s/in.csv", dir);
	if (store_open(db, &st, &err) != MG_OK ||
	    roster_cohort_add(st, "2025", "2025-01-06", 10, &id, &err) != MG_OK)
		abort();
	buf_free(&err);
	atexit(cleanup);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf err = {0};
	enum mg_status rc;
	int count = -1;
	FILE *f;

	if (!st)
		setup();
	if (!(f = fopen(csv, "w")) || fwrite(data, 1, size, f) != size || fclose(f))
		abort();
	if (store_batch_begin(st, 0) != MG_OK)
		abort();
	rc = roster_import(st, csv, "Bright Futures", &count, &err);
	if (rc != MG_OK && (count != 0 || !err.len))
		abort();	/* refused: nothing counted, and a reason */
	if (rc == MG_OK && err.len)
		abort();
	store_batch_rollback(st);
	buf_free(&err);
	return 0;
}
