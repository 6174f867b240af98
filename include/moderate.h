/* moderate: holds and the coordinators' decisions.  Owns the holds table.
 *
 * A held message is mailed to every coordinator: who wrote to whom, why it
 * is held, the text with the matched spans marked [[like this]], and how to
 * answer.  Replies go to LOCAL+mod-TOKEN@DOMAIN, a token bound to that hold
 * and spent by the first decision:
 *     approve          relay it as written
 *     reject REASON    do not relay; the author is told REASON kindly
 *     redact           relay it with the marked spans replaced by
 *                      "[removed by moderator]"
 *     edit             relay the lines below this one instead
 * Only configured coordinators decide (with require_authentication, only
 * mail whose trusted Authentication-Results show DKIM or SPF pass); the
 * other coordinators get a receipt "decided by X".  Nothing is ever decided
 * by following a link. */
#ifndef MODERATE_H
#define MODERATE_H

#include <stdint.h>

#include "conf.h"
#include "mg.h"
#include "mime.h"
#include "screen.h"
#include "store.h"

struct moderate_info {
	const char *reason;
	const char *author, *author_role;	/* names, or NULL for a stranger */
	const char *recipient, *recipient_role;
	const char *from_addr, *subject;
	const char *text;			/* the screened text, or the body */
	const struct screen_hit *hits;		/* spans of text to mark */
	size_t nhits;
};

/* Record the hold of message and enqueue its mail to the coordinators;
 * inside the caller's transaction. */
enum mg_status moderate_hold(struct store *, const struct conf *, int64_t message,
    const struct moderate_info *);

/* The "From/To/Subject/Why" block and the marked text; caller frees. */
char *moderate_summary(const struct moderate_info *);

/* One summary to each coordinator, at most once per hold_reminder_hours,
 * of the holds still open that long after their mail (or last listing),
 * and, within the hour, of holds batched and never mailed.  *sent = how
 * many holds it lists. */
enum mg_status moderate_remind(struct store *, const struct conf *, int *sent);

/* Holds mailed one by one for a sender or pair in a day; more are batched
 * into the next summary (moderate_remind). */
#define MOD_HOLD_BURST 3

/* close: the hold ends and nothing is sent to anyone (a message that was
 * never for a partner: one to the programme's own address, say) */
enum moderate_verb { MOD_APPROVE, MOD_REJECT, MOD_REDACT, MOD_EDIT, MOD_CLOSE, MOD_NVERB };

struct moderate_decision {
	enum moderate_verb verb;
	const char *note;	/* reject, close: the reason; edit: the replacement text */
	const char *by;		/* the coordinator's address, or "shell:USER" */
	int anyway;		/* edit: relay it even if screening holds the text */
};

/* Read a coordinator's answer (the new text of the reply).  The first
 * line (trimmed) must be a verb alone ("approve", "redact", also with a
 * full stop), "reject REASON", "close NOTE", or "edit" (or "edit anyway")
 * with the new text on the lines below; anything else ("Approve? not
 * sure", "Edit?") is MG_BADINPUT. */
enum mg_status moderate_parse(const char *text, struct moderate_decision *, char **note);

/* Decide the hold (by its token, or by id when token is NULL).  One
 * transaction: the hold, the relayed copy or the author's notice, and the
 * receipts.  MG_DUPLICATE when it was decided already (*detail says by
 * whom), MG_DENIED when it cannot be relayed (*detail says why; the hold
 * stays open), also for an edit whose text screening holds (unless
 * anyway), MG_NOTFOUND for no such hold.  Caller frees *detail. */
enum mg_status moderate_decide(struct store *, const struct conf *, const char *token, int64_t id,
    const struct moderate_decision *, char **detail);

/* Mail to LOCAL+mod-TOKEN: check the sender is a coordinator, parse and
 * decide, answer the sender when it helps.  Records the reply message as
 * ignored (kind "moderation") in the same transaction.  (The sender is
 * authenticated before, like every command by mail: relay.c.) */
enum mg_status moderate_reply(struct store *, const struct conf *, int64_t message,
    const char *token, const struct mime_msg *);

/* "approve", "reject" ... */
const char *moderate_verb(enum moderate_verb);

/* Is the hold of LOCAL+mod-TOKEN open?  MG_OK with its id and subject
 * (caller frees), MG_NOTFOUND when there is none or it is decided. */
enum mg_status moderate_open(struct store *, const char *token, int64_t *id, char **subject);

/* May addr decide the hold of token (decider.h)?  0 for no such hold. */
int moderate_may(struct store *, const struct conf *, const char *token, const char *addr);

/* Print open holds, or one hold in full. */
/* Relay to email has been resumed: approve (as by) the holds kept only
 * because it was paused, each in its own transaction, as a coordinator's
 * approval would.  *released: how many; a hold that cannot be released
 * stays open, named in err. */
enum mg_status moderate_release_paused(struct store *, const struct conf *, const char *email,
    const char *by, int *released, struct buf *err);

enum mg_status moderate_list(struct store *);
enum mg_status moderate_show(struct store *, int64_t id);

#endif
