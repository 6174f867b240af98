/* thread: topics and conversation ids. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "thread.h"

/* Reply and forward prefixes in the languages clients use. */
static const char *const prefixes[] = {
	"re", "fw", "fwd", "aw", "wg", "sv", "vs", "vb", "tr", "rif", "r", "i", "enc",
	"res", "antw", "doorst", "odp", "pd", "ynt", "ilt", "atb", "rv", "ref", "fs",
	"odg", "vl", "vá", "réf", "réf.", "ref.", "tr.", "回复", "转发", "答复", "轉寄", "回覆",
};

/* Length of a prefix "Re:", "RE :", "Re[2]:", "Re(3):" at s, or 0. */
static size_t
prefix_len(const char *s)
{
	for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++) {
		size_t n = strlen(prefixes[i]), k;
		if (strncasecmp(s, prefixes[i], n))
			continue;
		k = n;
		if (s[k] == '[' || s[k] == '(') {
			char close = s[k] == '[' ? ']' : ')';
			size_t j = k + 1;
			while (isdigit((unsigned char)s[j]))
				j++;
			if (j == k + 1 || s[j] != close)
				continue;
			k = j + 1;
		}
		while (s[k] == ' ')
			k++;
		if (s[k] == ':')
			return k + 1;
		if (!strncmp(s + k, "\xef\xbc\x9a", 3))	/* full-width colon */
			return k + 3;
	}
	return 0;
}

char *
thread_topic(const char *subject)
{
	struct buf b = {0};
	const char *p = subject ? subject : "";
	size_t n;
	int changed = 1;

	while (changed) {
		changed = 0;
		while (*p == ' ' || *p == '\t')
			p++;
		if ((n = prefix_len(p))) {
			p += n;
			changed = 1;
		} else if (*p == '[') {
			const char *close = strchr(p, ']');
			if (close && close - p < 40) {
				p = close + 1;
				changed = 1;
			}
		}
	}
	for (; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if (isspace(ch)) {
			if (b.len && b.s[b.len - 1] != ' ')
				buf_addc(&b, ' ');
			continue;
		}
		buf_addc(&b, (char)tolower(ch));
	}
	while (b.len && b.s[b.len - 1] == ' ')
		b.s[--b.len] = 0;
	n = b.len;
	if (n >= 5 && !strcmp(b.s + n - 5, "(fwd)")) {
		b.len = n - 5;
		b.s[b.len] = 0;
		while (b.len && b.s[b.len - 1] == ' ')
			b.s[--b.len] = 0;
	}
	return b.s ? buf_steal(&b) : xstrdup("");
}

enum mg_status
thread_assign(struct store *s, int64_t pair, int64_t id, const struct mime_msg *m,
    const char *topic, int64_t *thread)
{
	enum mg_status rc;

	*thread = 0;
	/* the direct parent first, then References newest first */
	for (size_t i = 0; i < m->in_reply_to.n; i++)
		if ((rc = store_thread_by_ref(s, pair, m->in_reply_to.v[i], thread)) != MG_NOTFOUND)
			return rc;
	for (size_t i = m->references.n; i > 0; i--)
		if ((rc = store_thread_by_ref(s, pair, m->references.v[i - 1], thread)) != MG_NOTFOUND)
			return rc;
	if (topic && *topic &&
	    (rc = store_thread_by_topic(s, pair, topic, id, thread)) != MG_NOTFOUND)
		return rc;
	*thread = id;
	return MG_OK;
}
