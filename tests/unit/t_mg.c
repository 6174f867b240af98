/* Unit tests for mg's allocators: xpush grows by doubling and keeps what
 * was pushed (a sanitizer build catches a write past the end). */
#include <stdlib.h>

#include "tap.h"
#include "mg.h"

int
main(void)
{
	size_t *v = NULL, n, bad = 0;

	for (n = 0; n < 5000; n++) {
		v = xpush(v, n, sizeof *v);
		v[n] = n * 7;
	}
	for (size_t i = 0; i < n; i++)
		bad += v[i] != i * 7;
	ok(bad == 0, "5000 pushes keep every element");

	void *p = v;
	v = xpush(v, 4097, sizeof *v);
	ok(v == p, "no realloc where there is room (4097 of 8192)");
	v = xpush(v, 4096, sizeof *v);
	v[8191] = 1;	/* the whole doubled array is ours */
	ok(v[4095] == 4095 * 7, "a doubling keeps the elements");
	free(v);

	char *c = xpush(NULL, 0, 1);
	c[0] = 'x';
	ok(c[0] == 'x', "the first push gives room for one");
	free(c);
	return tap_done();
}
