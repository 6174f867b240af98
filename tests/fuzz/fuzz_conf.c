/* libFuzzer target: the configuration reader.  Any file is read to the end;
 * refused, it says where and why, accepted, it has what the daemon needs. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/mg-fuzz-conf-XXXXXX", path[64];

static void
cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf errs = {0};
	struct conf *c = NULL;
	FILE *f;

	if (!path[0]) {
		if (!mkdtemp(dir))
			abort();
		snprintf(path, sizeof path, "%s/mentorgate.conf", dir);
		atexit(cleanup);
		umask(077);	/* a file with a password must be private */
	}
	if (!(f = fopen(path, "w")) || fwrite(data, 1, size, f) != size || fclose(f))
		abort();
	if (conf_load(path, &c, &errs) == MG_OK) {
		if (!c || errs.len || !c->name || !c->relay_local || !c->relay_domain ||
		    !c->database || !c->imap_host || !c->smtp_url)
			abort();
		if (mg_has_crlf(c->name) || (c->from_name && mg_has_crlf(c->from_name)))
			abort();	/* they go into headers */
		conf_free(c);
	} else if (c || !errs.len)
		abort();
	buf_free(&errs);
	return 0;
}
