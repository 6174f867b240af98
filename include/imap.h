/* imap: one IMAP session with libetpan: connect (plain, STARTTLS, implicit
 * TLS), select, list UIDs, fetch bodies in bounded batches, and mark
 * messages handled (move to processed_mailbox, or flag).  Owns libetpan IMAP. */
#ifndef IMAP_H
#define IMAP_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "mg.h"

struct imap;

/* Connect and log in.  MG_CONNFAIL (server unreachable or dropped),
 * MG_DENIED (login refused), MG_BADCONF (TLS demanded but unavailable). */
enum mg_status imap_open(const struct conf *, struct imap **out, struct buf *err);
void imap_close(struct imap *);

/* From another thread: make the call in progress (and every later one)
 * fail at once; the session is then only good for imap_close. */
void imap_cancel(struct imap *);

/* SELECT the configured mailbox; *uidvalidity from the server. */
enum mg_status imap_select(struct imap *, uint32_t *uidvalidity, struct buf *err);

/* UIDs of messages still to handle, ascending; caller frees *uids. */
enum mg_status imap_pending(struct imap *, uint32_t **uids, size_t *n, struct buf *err);

/* Fetch each UID's full message (BODY.PEEK[], \Seen untouched), uids
 * ascending, in batches of at most a few MB; cb gets borrowed bytes valid
 * during the call.  A message over max_message_size is not fetched: cb
 * gets raw NULL and len its size.  A non-OK status from cb stops the
 * fetch and is returned. */
typedef enum mg_status (*imap_fetch_cb)(uint32_t uid, const char *raw, size_t len, void *arg);
enum mg_status imap_fetch(struct imap *, const uint32_t *uids, size_t n, imap_fetch_cb cb,
    void *arg, struct buf *err);
/* Careful: one message per FETCH, so that a fetch that fails names the
 * message it failed at. */
void imap_careful(struct imap *, int on);

/* Mark handled: UID MOVE to processed_mailbox (COPY + \Deleted + UID
 * EXPUNGE without MOVE), or the $MentorgateDone keyword when none is set. */
enum mg_status imap_done(struct imap *, const uint32_t *uids, size_t n, struct buf *err);

/* IDLE, when the server offers it and the configuration allows it. */
int imap_can_idle(const struct imap *);
/* Send IDLE; *fd becomes readable when the server says something.  Until
 * imap_idle_done no other command may be sent.  MG_CONNFAIL: reconnect. */
enum mg_status imap_idle_start(struct imap *, int *fd, struct buf *err);
/* Has the server's news already been read into libetpan's buffer?  Check
 * before poll(): the fd will not wake for it. */
int imap_idle_buffered(const struct imap *);
/* Send DONE and read the end of IDLE.  MG_CONNFAIL: the session is gone. */
enum mg_status imap_idle_done(struct imap *, struct buf *err);

#endif
