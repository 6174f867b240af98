/* gateway: one pass of the daemon: decide leftovers, sync the IMAP mailbox
 * (store, decide, then mark handled), and flush the outbox.  Logs. */
#ifndef GATEWAY_H
#define GATEWAY_H

#include "conf.h"
#include "mg.h"
#include "smtp.h"
#include "store.h"

struct gateway_stats {
	int stored, duplicates, decided, sent, deferred, failed;
	int imap_down, smtp_down;	/* a server could not be reached */
};

/* MG_OK even when a server was unreachable (see stats); another status for
 * a local failure such as the database. */
enum mg_status gateway_pass(struct store *, const struct conf *, struct smtp *,
    struct gateway_stats *);

#endif
