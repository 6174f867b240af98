/* A scratch SQLite database for unit tests, removed with its WAL files. */
#ifndef TMPDB_H
#define TMPDB_H

#include <stdlib.h>
#include <unistd.h>

#include "mg.h"

/* Remove database path (and its -wal and -shm) and the directory it is in. */
static inline void
tmpdb_remove(const char *dir, const char *path)
{
	char *wal = xasprintf("%s-wal", path), *shm = xasprintf("%s-shm", path);

	unlink(path);
	unlink(wal);
	unlink(shm);
	rmdir(dir);
	free(wal);
	free(shm);
}

#endif
