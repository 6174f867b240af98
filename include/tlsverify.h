/* tlsverify: check a libetpan stream's peer certificate chain and host name. */
#ifndef TLSVERIFY_H
#define TLSVERIFY_H

#include "mg.h"

/* stream is a libetpan mailstream after the TLS handshake.  MG_OK when the
 * chain verifies against ca_file (PEM) or, when NULL, the system store, for
 * host; MG_DENIED when it does not; MG_BADCONF when no CA could be loaded. */
enum mg_status tls_verify_chain(void *stream, const char *host, const char *ca_file,
    struct buf *err);

#endif
