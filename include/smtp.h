/* smtp: send one prepared message over a reused libcurl connection. */
#ifndef SMTP_H
#define SMTP_H

#include <stddef.h>

#include "conf.h"
#include "mg.h"

struct smtp;

/* Caller frees with smtp_free.  The password (or password_command) is read
 * on the first send, not here. */
struct smtp *smtp_new(const struct conf *);
void smtp_free(struct smtp *);

/* The i-th connection to the same server (0: s itself), made on first use
 * and kept, freed with s; each is for one thread at a time. */
struct smtp *smtp_conn(struct smtp *, int i);
/* Close and forget the connections from the k-th on (not s itself). */
void smtp_conn_trim(struct smtp *, int k);

/* Send data (any line ends: normalised to CRLF here) from env_from to rcpt.
 * MG_OK on 250; MG_TEMPFAIL on 4xx or an unknown outcome (timeout);
 * MG_PERMFAIL on 5xx; MG_CONNFAIL when the server cannot be reached or
 * refuses us; MG_BADINPUT for an envelope address holding CR, LF, NUL, '<'
 * or '>'.  *code is the server's reply code (0 if none); err gets the text. */
enum mg_status smtp_send(struct smtp *, const char *env_from, const char *rcpt,
    const char *data, size_t len, int *code, struct buf *err);

/* Call fn(arg) once per smtp_send, just before the message's last bytes go
 * out (or when the send ends without them): the last moment before the
 * server can accept it.  When it returns nonzero the end is not sent: the
 * transaction is cut off (MG_TEMPFAIL, "held back") and not delivered.
 * NULL fn: none. */
void smtp_before_end(struct smtp *, int (*fn)(void *), void *arg);

/* Normalise any mix of CRLF, LF and CR to CRLF, ending with CRLF; caller frees. */
char *smtp_crlf(const char *data, size_t len, size_t *outlen);
/* Is addr safe as an SMTP envelope address? */
int smtp_envelope_ok(const char *addr);

#endif
