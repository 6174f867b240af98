/* Minimal checks for unit tests: each prints "ok"/"not ok" and the program
 * ends with "N passed, N failed" (exit 1 on any failure). */
#ifndef TAP_H
#define TAP_H

#include <stdio.h>
#include <string.h>

static int tap_pass, tap_fail;

#define ok(cond, ...) do { \
	if (cond) { tap_pass++; printf("ok - "); } \
	else { tap_fail++; printf("not ok - %s:%d: ", __FILE__, __LINE__); } \
	printf(__VA_ARGS__); putchar('\n'); } while (0)

#define is_str(got, want, ...) do { \
	const char *g_ = (got), *w_ = (want); \
	int c_ = (g_ && w_) ? !strcmp(g_, w_) : g_ == w_; \
	ok(c_, __VA_ARGS__); \
	if (!c_) printf("#   got:  [%s]\n#   want: [%s]\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
	} while (0)

static inline int
tap_done(void)
{
	printf("%d passed, %d failed\n", tap_pass, tap_fail);
	return tap_fail != 0;
}

#endif
