/* authres: what our own receiving server said about a message's sender
 * (RFC 8601 Authentication-Results).  Only the topmost such header carrying
 * our authserv-id is believed: any below it, or with another id, may have
 * been written by the sender. */
#ifndef AUTHRES_H
#define AUTHRES_H

#include <stddef.h>

enum authres_result { AUTHRES_NONE, AUTHRES_PASS, AUTHRES_FAIL };

/* Per method: FAIL for fail, softfail, hardfail or permerror; anything else
 * (neutral, none, policy, temperror ...) is NONE.  For dkim and spf a pass
 * wins over a fail (one good signature of several); for dmarc a fail wins. */
struct authres {
	int trusted;				/* our server's header was found */
	enum authres_result dkim, spf, dmarc;
	int authenticated;			/* the From domain is vouched for */
};

/* Parse one Authentication-Results field value (unfolded, without the
 * field name).  Returns 0 when it does not parse or its authserv-id is not
 * authserv_id (then *a is zeroed), 1 when it is ours.  authenticated is 1
 * when no dmarc result fails and a dmarc pass for from_domain, or a dkim or
 * spf pass aligned with it, is present; from_domain NULL or "" never is. */
int authres_parse(const char *value, const char *authserv_id, const char *from_domain,
    struct authres *a);

/* Read the topmost Authentication-Results header of raw (len bytes, need not
 * be NUL-terminated) with our authserv_id (a zeroed *a when there is none)
 * and decide a->authenticated for from_addr (an addr-spec; NULL never is). */
void authres_check(const char *raw, size_t len, const char *authserv_id, const char *from_addr,
    struct authres *a);

#endif
