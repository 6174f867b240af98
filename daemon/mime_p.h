/* Inside the mime module: what its files share. */
#ifndef MIME_P_H
#define MIME_P_H

#include <libetpan/libetpan.h>

#include "mime.h"

#define MIME_MAX_ATTACHMENTS 100

/* An RFC 2047 phrase or word list -> one line of UTF-8; caller frees. */
char *mime_decode_words(const char *);

/* Record part mm as an attachment of m. */
void mime_attach_add(struct mime_msg *m, struct mailmime *mm);
void mime_attach_free(struct mime_msg *m);

#endif
