/* roster: cohorts, participants and pairs (with their two masked-address
 * tokens).  Owns the cohorts, participants and pairs tables. */
#ifndef ROSTER_H
#define ROSTER_H

#include <stdint.h>

#include "mg.h"
#include "store.h"

struct roster_person {
	int64_t id;
	char *role, *name, *email, *segment;	/* email lower-case */
	int64_t cohort_id;
	int64_t paused;		/* when relay to them stopped (bounces), or 0 */
	char *first;		/* first name: as imported, else dname_first(name) */
};

struct roster_pair {
	int64_t id;
	char *state;
	struct roster_person mentee, mentor;
	char *to_mentor_token;	/* the mentor's masked address, as the mentee sees it */
	char *to_mentee_token;	/* the mentee's masked address, as the mentor sees it */
};

struct roster_cohort {
	int64_t id;
	char *name;
	int start;		/* YYYYMMDD, or -1 for a date that does not parse */
	int weeks;
};

/* Every cohort, in id order; free with roster_cohorts_free. */
enum mg_status roster_cohorts(struct store *, struct roster_cohort **out, size_t *n);
void roster_cohorts_free(struct roster_cohort *, size_t n);

/* Frees the strings inside (not the struct itself); accepts zeroed structs. */
void roster_person_clear(struct roster_person *);
void roster_pair_clear(struct roster_pair *);

/* MG_DUPLICATE if the name exists, MG_BADINPUT for a bad date or weeks. */
enum mg_status roster_cohort_add(struct store *, const char *name, const char *start,
    int weeks, int64_t *id, struct buf *err);

/* Import participants from CSV (a header naming the columns role, name,
 * email, cohort, segment and optionally first_name and born, in any order), all or
 * nothing: every bad row is reported as "file:line: why" in err and nothing
 * is changed.  Addresses must be RFC 5322 addr-specs, names pass
 * dname_check, and a mentee's or mentor's name must not imitate programme
 * (the programme's name) or its staff.  The first name stored is the
 * first_name column's, else dname_first(name).  *count = rows imported. */
enum mg_status roster_import(struct store *, const char *path, const char *programme,
    int *count, struct buf *err);

/* The born column (YYYY, YYYY-MM or YYYY-MM-DD): the last day it may mean
 * as YYYYMMDD (a year alone: its 31 December), or -1 when it is no such
 * date or begins after now.  Someone is under 18 on day d (YYYYMMDD) while
 * d < roster_born() + 180000. */
int roster_born(const char *born, int64_t now);

/* Pair a mentee with a mentor, minting two fresh tokens. */
enum mg_status roster_pair(struct store *, const char *mentee_email, const char *mentor_email,
    struct roster_pair *out, struct buf *err);

/* Lookups.  MG_NOTFOUND when absent.  The caller clears *out. */
enum mg_status roster_pair_get(struct store *, int64_t id, struct roster_pair *out);
/* *to_mentor = 1 when token is the pair's to_mentor_token. */
enum mg_status roster_pair_by_token(struct store *, const char *token, struct roster_pair *out,
    int *to_mentor);
enum mg_status roster_person_by_email(struct store *, const char *email,
    struct roster_person *out);
enum mg_status roster_person_by_id(struct store *, int64_t id, struct roster_person *out);

/* Every pair, in id order; the callback's non-zero return stops the walk. */
enum mg_status roster_pairs(struct store *, int (*cb)(const struct roster_pair *, void *),
    void *arg);

/* The pairs person belongs to. */
enum mg_status roster_pairs_of(struct store *, int64_t person,
    int (*cb)(const struct roster_pair *, void *), void *arg);

/* Stop relaying to person (their address bounces for good); *newly = 0 when
 * already paused.  Inside the caller's transaction. */
enum mg_status roster_pause(struct store *, int64_t person, const char *why, int *newly);
/* Relay to them again.  MG_NOTFOUND for an unknown address. */
enum mg_status roster_resume(struct store *, const char *email);

/* All participants' addresses (lower-case); caller frees the array and each
 * string. */
enum mg_status roster_addresses(struct store *, char ***emails, size_t *n);

/* Is email (lower-case) a participant's address?  Yes also when the
 * database cannot say (callers mask it: the safe side). */
int roster_is_address(struct store *, const char *email);

#endif
