/* tmpl: message templates (templates/NAME.txt): a "Subject: ..." line, a
 * blank line, then the body, with {{placeholder}}s.  An optional NAME.html
 * beside it is an HTML alternative (same placeholders, values escaped).
 * Unknown placeholders are a configuration error (file:line); values that
 * go into the subject are refused if they hold CR or LF. */
#ifndef TMPL_H
#define TMPL_H

#include <stddef.h>

#include "mg.h"

/* Every placeholder a template may use. */
#define TMPL_VARS "name first_name role partner_name partner_first_name partner_role " \
	"partner_address programme cohort week weeks coordinator_address"

struct tmpl {
	char *name, *path;
	char *subject, *body, *html;	/* html NULL when there is none */
	int body_line;			/* line of the body's first line in the file */
};

struct tmpl_var {
	const char *name, *value;
};

/* Load dir/name.txt (and .html); every problem appended to err as
 * "file:line: why".  MG_BADCONF then. */
enum mg_status tmpl_load(const char *dir, const char *name, struct tmpl **out, struct buf *err);
void tmpl_free(struct tmpl *);

/* Fill the placeholders; caller frees the three (html NULL when none).
 * MG_BADINPUT for a subject value with CR/LF or a missing value. */
enum mg_status tmpl_render(const struct tmpl *, const struct tmpl_var *, size_t n, char **subject,
    char **body, char **html);

#endif
