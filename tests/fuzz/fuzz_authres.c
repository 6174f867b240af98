/* libFuzzer target: Authentication-Results, as a field value and as the
 * headers of a whole message.  Only our authserv-id is believed, and a
 * verdict comes only from it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authres.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct authres zero;
	char *s = malloc(size + 1);
	struct authres a;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	memset(&a, 0xa5, sizeof a);
	if (!authres_parse(s, "mx.example.org", "example.org", &a) && memcmp(&a, &zero, sizeof a))
		abort();	/* not ours: nothing may be taken from it */
	if (a.authenticated && !a.trusted)
		abort();
	authres_parse(s, "mx.example.org", NULL, &a);
	if (a.authenticated)
		abort();	/* no From domain is never vouched for */
	authres_check((const char *)data, size, "mx.example.org", "alex@example.org", &a);
	if (a.authenticated && !a.trusted)
		abort();
	authres_check((const char *)data, size, "mx.example.org", NULL, &a);
	if (a.authenticated)
		abort();
	free(s);
	return 0;
}
