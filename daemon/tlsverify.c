/* Certificate verification for libetpan sessions: libetpan's GnuTLS build
 * accepts any certificate for any name, so the chain it received is checked
 * here against the system store (or a configured CA file) and the host name,
 * before anything is sent over it. */
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <libetpan/libetpan.h>

#include "tlsverify.h"

#define MAX_CHAIN 16

enum mg_status
tls_verify_chain(void *stream, const char *host, const char *ca_file, struct buf *err)
{
	gnutls_x509_crt_t certs[MAX_CHAIN];
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_typed_vdata_st vdata;
	carray *chain = mailstream_get_certificate_chain(stream);
	enum mg_status st = MG_DENIED;
	unsigned n = 0, status = 0;
	int r;

	if (!chain || carray_count(chain) == 0) {
		buf_adds(err, "TLS: the server sent no certificate");
		goto out;
	}
	for (unsigned i = 0; i < carray_count(chain) && n < MAX_CHAIN; i++) {
		MMAPString *der = carray_get(chain, i);
		gnutls_datum_t d = { (unsigned char *)der->str, (unsigned)der->len };
		if (gnutls_x509_crt_init(&certs[n]) < 0)
			goto out;
		if (gnutls_x509_crt_import(certs[n], &d, GNUTLS_X509_FMT_DER) < 0) {
			gnutls_x509_crt_deinit(certs[n]);
			buf_adds(err, "TLS: unreadable server certificate");
			goto out;
		}
		n++;
	}
	if (gnutls_x509_trust_list_init(&tl, 0) < 0)
		goto out;
	r = ca_file ? gnutls_x509_trust_list_add_trust_file(tl, ca_file, NULL, GNUTLS_X509_FMT_PEM, 0, 0)
	    : gnutls_x509_trust_list_add_system_trust(tl, 0, 0);
	if (r <= 0) {
		buf_printf(err, "TLS: no trusted certificates loaded from %s",
		    ca_file ? ca_file : "the system store");
		st = MG_BADCONF;
		goto out;
	}
	memset(&vdata, 0, sizeof vdata);
	vdata.type = GNUTLS_DT_DNS_HOSTNAME;
	vdata.data = (unsigned char *)host;
	if (gnutls_x509_trust_list_verify_crt2(tl, certs, n, &vdata, 1, 0, &status, NULL) < 0) {
		buf_adds(err, "TLS: certificate verification failed");
		goto out;
	}
	if (status != 0) {
		gnutls_datum_t why = { NULL, 0 };
		gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &why, 0);
		buf_printf(err, "TLS: certificate of %s not trusted: %s", host,
		    why.data ? (char *)why.data : "unknown reason");
		gnutls_free(why.data);
		goto out;
	}
	st = MG_OK;
out:
	if (tl)
		gnutls_x509_trust_list_deinit(tl, 1);
	for (unsigned i = 0; i < n; i++)
		gnutls_x509_crt_deinit(certs[i]);
	if (chain)
		mailstream_certificate_chain_free(chain);
	return st;
}
