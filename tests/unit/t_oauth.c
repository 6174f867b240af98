/* Unit tests for the OAuth2 token cache (oauth) and the reconnect backoff. */
#include <stdlib.h>

#include "oauth.h"
#include "tap.h"

static void
parse(const char *out, const char *want, int64_t want_life, const char *what)
{
	char *t = NULL;
	int64_t life = 0;
	enum mg_status st = oauth_parse(out, &t, &life);

	ok(st == (want ? MG_OK : MG_BADINPUT), "%s: status", what);
	is_str(t, want, "%s: token", what);
	ok(!want || life == want_life, "%s: lifetime %lld", what, (long long)life);
	free(t);
}

int
main(void)
{
	parse("{\"access_token\": \"ya29.a0Af\", \"expires_in\": 3599, \"token_type\": \"Bearer\"}\n",
	    "ya29.a0Af", 3599, "token endpoint JSON");
	parse("{\"token_type\":\"Bearer\",\"expires_in\":60,\"access_token\":\"eyJ0.x-y_z\"}",
	    "eyJ0.x-y_z", 60, "JSON, other order, no spaces");
	parse("{\"access_token\": \"abc\"}", "abc", -1, "JSON without a lifetime");
	parse("abc.def\n", "abc.def", -1, "one line");
	parse("abc.def\r\n3600\r\n", "abc.def", 3600, "token and lifetime lines");
	parse("abc.def\nsoon\n", "abc.def", -1, "an unreadable lifetime is not a lifetime");
	parse("", NULL, 0, "empty output");
	parse("\n\n", NULL, 0, "blank lines");
	parse("two words\n", NULL, 0, "a space cannot be in a token");
	parse("{\"error\": \"invalid_grant\"}", NULL, 0, "an error answer");

	/* the command runs once while its token is valid, again when refused */
	char dir[] = "/tmp/mg-oauth-XXXXXX";
	ok(mkdtemp(dir) != NULL, "scratch dir");
	char *cmd = xasprintf("n=$(cat %s/n 2>/dev/null || echo 0); echo $((n+1)) >%s/n;"
	    " echo tok$((n+1)); echo 3600", dir, dir);
	char *t1 = NULL, *t2 = NULL, *t3 = NULL;
	struct buf err = {0};
	ok(oauth_token(cmd, &t1, &err) == MG_OK, "first token");
	ok(oauth_token(cmd, &t2, &err) == MG_OK, "second token");
	is_str(t1, "tok1", "first run's token");
	is_str(t2, "tok1", "cached: the command did not run again");
	oauth_reject(cmd);
	ok(oauth_token(cmd, &t3, &err) == MG_OK, "token after a refusal");
	is_str(t3, "tok2", "a refused token is fetched again");
	char *fail = NULL;
	ok(oauth_token("exit 3", &fail, &err) == MG_TEMPFAIL && !fail, "a failing command");
	char *sh = xasprintf("rm -rf %s", dir);
	ok(system(sh) == 0, "cleanup");
	free(sh);
	free(t1);
	free(t2);
	free(t3);
	free(cmd);
	buf_free(&err);

	/* backoff: doubling from 1 s, capped, jittered within the upper half */
	int64_t lo[] = { 500, 1000, 2000, 4000 }, hi[] = { 1000, 2000, 4000, 8000 };
	for (int f = 1; f <= 4; f++) {
		int in = 1;
		for (uint32_t r = 0; r < 5000; r += 7) {
			int64_t d = mg_backoff_ms(f, 300000, r * 2654435761u);
			in &= d >= lo[f - 1] && d <= hi[f - 1];
		}
		ok(in, "attempt %d waits %lld..%lld ms", f, (long long)lo[f - 1], (long long)hi[f - 1]);
	}
	int capped = 1;
	for (int f = 9; f < 200; f++) {
		int64_t d = mg_backoff_ms(f, 300000, (uint32_t)f * 40503u);
		capped &= d >= 150000 && d <= 300000;
	}
	ok(capped, "from attempt 9 on (and after very many) the wait stays within the 300 s cap");
	ok(mg_backoff_ms(3, 300000, 0) != mg_backoff_ms(3, 300000, 1234567), "jitter varies the wait");
	return tap_done();
}
