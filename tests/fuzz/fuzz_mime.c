/* libFuzzer target: MIME normalisation and classification of raw mail. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "classify.h"
#include "mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *raw = (const char *)data;
	struct mime_msg *m = mime_parse(raw, size);
	struct classify c;
	char *html;

	mime_free(m);
	classify_message(raw, size, &c);
	free(classify_line(&c));
	classify_clear(&c);
	html = mime_html_text(raw, size);
	free(html);
	return 0;
}
