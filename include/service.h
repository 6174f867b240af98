/* service: the conventions of a Unix daemon: a locked pidfile, dropping
 * root, and systemd's notify protocol (a datagram: no libsystemd). */
#ifndef SERVICE_H
#define SERVICE_H

#include <stdint.h>

#include "mg.h"

/* Create path (0644), lock it and write our PID.  Returns the open fd to
 * keep for the life of the process, -1 on error (err says why, naming a
 * live holder). */
int service_pidfile(const char *path, struct buf *err);
void service_pidfile_remove(const char *path, int fd);

/* Become user (and its groups) for good.  MG_DENIED when not root or the
 * switch fails, MG_BADCONF for an unknown user. */
enum mg_status service_drop(const char *user, struct buf *err);

/* Send one notify state ("READY=1", "STOPPING=1", "WATCHDOG=1", ...) to
 * $NOTIFY_SOCKET; nothing when it is unset. */
void service_notify(const char *state);

/* Milliseconds between WATCHDOG=1 pings (half of $WATCHDOG_USEC, when it
 * is meant for this process), or 0. */
int64_t service_watchdog_ms(void);

#endif
