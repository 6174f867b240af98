/* authres: what our own receiving server said about a message's sender
 * (RFC 8601 Authentication-Results).  Only the topmost such header, and only
 * when it carries our authserv-id, is believed: any below it, or with
 * another id, may have been written by the sender. */
#ifndef AUTHRES_H
#define AUTHRES_H

#include <stddef.h>

enum authres_result { AUTHRES_NONE, AUTHRES_PASS, AUTHRES_FAIL };

struct authres {
	int trusted;				/* our server's header was found */
	enum authres_result dkim, spf, dmarc;	/* fail: fail, softfail, permerror */
};

void authres_read(const char *raw, size_t len, const char *authserv_id, struct authres *);

#endif
