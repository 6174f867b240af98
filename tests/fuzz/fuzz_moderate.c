/* libFuzzer target: a coordinator's answer to a hold.  Whatever it says,
 * a decision is one verb, and its note lies inside the text. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "moderate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct moderate_decision d = {0};
	char *s = malloc(size + 1), *note;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	if (moderate_parse(s, &d, &note) == MG_OK) {
		if ((unsigned)d.verb >= MOD_NVERB || d.note != note)
			abort();
		if (d.verb == MOD_EDIT && (!note || !*note))
			abort();	/* edit needs the new text */
		if (note && strlen(note) > size)
			abort();
	}
	free(note);
	free(s);
	return 0;
}
