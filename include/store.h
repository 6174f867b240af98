/* store: the one SQLite database (WAL, FULL sync, foreign keys, 0600), its
 * migrations, transactions, and the raw messages and IMAP sync state it owns. */
#ifndef STORE_H
#define STORE_H

#include <stdint.h>

#include "mg.h"

struct store;

/* Open (creating with mode 0600) and migrate.  On failure *err says why. */
enum mg_status store_open(const char *path, struct store **out, struct buf *err);
/* Another connection to the file s opened, never creating one: MG_NOTFOUND
 * (why in err) when that file is no longer at its path. */
enum mg_status store_open_again(struct store *s, struct store **out, struct buf *err);
/* Is the file at the database's path still the one opened (device and
 * inode)?  MG_OK; MG_NOTFOUND once it was deleted or replaced (for good:
 * what is written goes to a file nobody will read), what happened in err
 * (err may be NULL); MG_TEMPFAIL when it cannot be told. */
enum mg_status store_check_file(struct store *, struct buf *err);
/* Closing a store whose file is gone makes no checkpoint, and removes its
 * own WAL and shared memory only (never a new file's). */
void store_close(struct store *);
/* Last SQLite error text; borrowed, valid until the next call. */
const char *store_errmsg(struct store *);
/* The storage fault (a full disk, an I/O error, a lock held too long) a
 * statement or commit on this thread met since the last call, in SQLite's
 * words, or NULL; taking it clears it. */
const char *store_fault_take(void);

/* Immediate transactions: a second writer waits (busy timeout), then TEMPFAIL. */
enum mg_status store_begin(struct store *);
enum mg_status store_commit(struct store *);
void store_rollback(struct store *);
/* Group commit: between these, store_begin/commit/rollback become
 * savepoints of one transaction, made durable (one fsync) by
 * store_batch_commit, which rolls everything back when it fails (SQLite's
 * reason appended to err).
 * A lean batch has no savepoints (each journals every page it touches: a
 * quarter of what ingesting costs): store_begin/commit do nothing, and a
 * store_rollback of a level that changed rows spoils the batch.  The caller
 * then rolls it back (store_batch_rollback) and does it again, not lean;
 * store_batch_commit refuses a spoilt batch. */
enum mg_status store_batch_begin(struct store *, int lean);
int store_batch_spoiled(const struct store *);
void store_batch_rollback(struct store *);
enum mg_status store_batch_commit(struct store *, struct buf *err);

/* An inbound message as received from IMAP, before any decision. */
struct store_msg {
	const char *mailbox;
	uint32_t uidvalidity, uid;
	const char *raw;
	size_t rawlen;
	const char *dedupe;		/* hex content hash */
	const char *message_id, *from_addr, *subject, *date;
};

/* MG_OK (and *id) if stored; MG_DUPLICATE if (mailbox, uidvalidity, uid) or the
 * dedupe hash is already stored, with *id the stored row. */
enum mg_status store_msg_add(struct store *, const struct store_msg *, int64_t *id);
/* Is (mailbox, uidvalidity, uid) stored already?  MG_OK yes, MG_NOTFOUND no. */
enum mg_status store_msg_known(struct store *, const char *mailbox, uint32_t uidvalidity,
    uint32_t uid);
/* Raw bytes of a stored message; caller frees *raw. */
enum mg_status store_msg_raw(struct store *, int64_t id, char **raw, size_t *len);
/* Ids of messages stored but not yet decided (state 'received'), oldest
 * first; caller frees *ids. */
enum mg_status store_msg_pending(struct store *, int64_t **ids, size_t *n);

/* What a stored message says now: its raw bytes and its texts (NULL: none
 * yet, or erased), borrowed during the callback.  MG_NOTFOUND for no such
 * message. */
struct store_content {
	const void *raw;
	size_t rawlen;
	const char *body, *new_text;
};
enum mg_status store_msg_content(struct store *, int64_t id,
    void (*cb)(const struct store_content *, void *), void *arg);

/* The outcome of processing one stored message. */
struct store_decision {
	const char *state;		/* relayed | held | ignored */
	const char *reason;		/* why held or ignored, or NULL */
	const char *token, *in_reply_to, *refs;
	int64_t pair_id, author_id, recipient_id;	/* 0 = none */
	const char *body;		/* normalised UTF-8 text */
	const char *from_addr, *subject;	/* decoded */
	/* message | autoreply | bounce | loop; unreadable | oversized (a note
	 * in the place of a message not read); NULL: message */
	const char *kind;
	const char *new_text;		/* the reply without history and signature */
	int64_t thread_id;		/* 0: none */
	const char *topic;		/* subject without Re:/Fwd:/[tags] */
	const char *attachments;	/* "name\ttype\tbytes" lines, or NULL */
};
enum mg_status store_msg_decide(struct store *, int64_t id, const struct store_decision *);

/* Erase what message id said (raw bytes, texts, subject, flagged excerpts,
 * attachment names, the copies we sent once they are out of the queue),
 * keeping the row, its content hash and every audit row.  *pair: its pair
 * or 0.  MG_NOTFOUND for no such message.  Inside the caller's
 * transaction. */
enum mg_status store_msg_erase(struct store *, int64_t id, int64_t *pair);

/* A mail to one of our command addresses (moderation, escalation, export)
 * was handled: record it as ignored, of kind, with the outcome.  Inside the
 * caller's transaction. */
enum mg_status store_msg_command(struct store *, int64_t id, const char *kind,
    const char *outcome, const char *from, const char *subject, const char *body);

/* The Message-ID map: relay_id is a Message-ID we generated, known to
 * recipient; orig_id (or NULL for our own mail) is what author knows the same
 * message as.  Inside the caller's transaction. */
enum mg_status store_map_add(struct store *, const char *relay_id, const char *orig_id,
    int64_t message, int64_t pair, int64_t author, int64_t recipient);
/* Is relay_id one of the Message-IDs we generated?  MG_OK yes, MG_NOTFOUND no. */
enum mg_status store_map_known(struct store *, const char *relay_id);
/* The id under which writer's partner in pair knows the message writer
 * calls ref; caller frees *out.  MG_NOTFOUND when there is none. */
enum mg_status store_map_translate(struct store *, const char *ref, int64_t writer,
    int64_t pair, char **out);

/* A screening hit on message; inside the caller's transaction. */
enum mg_status store_flag_add(struct store *, int64_t message, const char *rule,
    const char *category, const char *action, size_t start, size_t end, const char *excerpt);

/* How many of pair's messages were relayed since (epoch seconds). */
enum mg_status store_relayed_since(struct store *, int64_t pair, int64_t since, int64_t *n);

/* Conversations: the thread of the message in pair that ref names (its
 * Message-ID, or the id of our relayed copy of it), or of the newest other
 * message (not id) with this topic.  MG_NOTFOUND when none. */
enum mg_status store_thread_by_ref(struct store *, int64_t pair, const char *ref,
    int64_t *thread);
enum mg_status store_thread_by_topic(struct store *, int64_t pair, const char *topic,
    int64_t id, int64_t *thread);

/* A stored message as the transcript shows it (borrowed strings, valid
 * during the callback). */
struct store_row {
	int64_t id, received, pair_id;
	int64_t thread_id;
	const char *state, *reason, *from_addr, *subject, *body;
	const char *kind, *new_text;	/* NULL for messages stored before schema 2 */
	const char *attachments;	/* "name\ttype\tbytes" lines, or NULL */
	const char *author_role, *author_name, *recipient_name;
};
/* Messages of one pair (pair_id > 0) in order, or all messages in a state
 * (pair_id 0, state non-NULL), or all (both unset).  Non-zero from cb stops. */
enum mg_status store_messages(struct store *, int64_t pair_id, const char *state,
    int (*cb)(const struct store_row *, void *), void *arg);

/* IMAP sync state per mailbox; MG_NOTFOUND when never synced. */
/* Changes whenever another connection (mentorctl) commits. */
int64_t store_data_version(struct store *);

enum mg_status store_sync_get(struct store *, const char *mailbox, uint32_t *uidvalidity,
    uint32_t *last_uid);
/* last_uid only grows within one UIDVALIDITY; a new UIDVALIDITY replaces it. */
enum mg_status store_sync_set(struct store *, const char *mailbox, uint32_t uidvalidity,
    uint32_t last_uid);

/* The message fetching keeps failing at (uid 0: none), the passes in a
 * row it has, and the last error (the caller's to free). */
struct store_suspect {
	uint32_t uid;
	int fails;
	char *error;
};
enum mg_status store_suspect_get(struct store *, const char *mailbox, struct store_suspect *);
enum mg_status store_suspect_set(struct store *, const char *mailbox, const struct store_suspect *);

/* Does every row name only rows that exist?  SQLite's foreign keys, and a
 * message's pair, author and recipient, which have none (see migration 7).
 * MG_OK, or MG_BADINPUT with the first stray in err. */
enum mg_status store_refs_check(struct store *, struct buf *err);

#endif
