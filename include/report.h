/* report: a cohort's evaluation in numbers: participants by role and
 * segment, pairs and active pairs (both sides wrote), messages each way,
 * the median time to a reply, prompts sent, each survey's response rate,
 * mean per question and share answering 4 or 5, holds and flags by
 * category.  Text, CSV, or one self-contained HTML page with inline SVG bar
 * charts and no scripts.  The end-of-wave report is mailed to the
 * coordinators. */
#ifndef REPORT_H
#define REPORT_H

#include <stdio.h>

#include "conf.h"
#include "mg.h"
#include "store.h"

enum report_format { REPORT_TEXT, REPORT_CSV, REPORT_HTML };

/* Write the report of the cohort named name.  MG_NOTFOUND for none. */
enum mg_status report_write(struct store *, const struct conf *, const char *name,
    enum report_format, FILE *);

/* Mail each cohort's report to the coordinators once its last week is over
 * (at the send hour).  *queued = reports enqueued. */
enum mg_status report_run(struct store *, const struct conf *, int *queued);

#endif
