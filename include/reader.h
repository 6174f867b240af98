/* reader: fetch messages and read them (relay_read) on a thread of its
 * own, handing them over in mailbox order through a bounded queue, so that
 * the database work on the caller's thread overlaps the next messages'
 * fetching, parsing and screening.  While the queue is full it moves the
 * messages the caller has committed out of the mailbox (imap_done), so
 * that a long backlog does not end in one long move.  The IMAP session
 * belongs to the reader until reader_finish. */
#ifndef READER_H
#define READER_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "imap.h"
#include "mg.h"

struct reader;

struct reader_item {
	uint32_t uid;
	struct relay_msg *msg;	/* the caller's to decide or free */
};

/* Start fetching uids[0..n) (which must outlive the reader); NULL when
 * no thread can be started. */
struct reader *reader_start(struct imap *, const struct conf *, const uint32_t *uids, size_t n);

/* The next message: 1, or 0 when there are none left or a stop was
 * requested (SIGTERM: mg_stop_requested()). */
int reader_next(struct reader *, struct reader_item *);

/* Messages uids[0..n) are committed: move them when there is time. */
void reader_handled(struct reader *, const uint32_t *uids, size_t n);

struct reader_end {
	double cpu;		/* the CPU seconds the thread used */
	size_t moved;		/* handled messages it moved */
	size_t read_ahead;	/* messages it read (the rest were left to the caller) */
	struct uids unmoved;	/* and those it did not: the caller's to move and free */
};

/* Stop the fetch if it is still going, wait for the thread, free what was
 * not taken; the fetch's status (MG_OK when it was stopped), its error
 * appended to err, and *end. */
enum mg_status reader_finish(struct reader *, struct reader_end *end, struct buf *err);

#endif
