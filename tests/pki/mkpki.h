/* mkpki's parts (see LAYOUT.md): keys, helpers and CAs (mkpki_base.c),
 * holder facts and holders (mkpki_holders.c), CRLs (mkpki_crl.c), gen,
 * receipts, the crl command and main (mkpki.c). */
#ifndef MKPKI_H
#define MKPKI_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define DAY (24LL * 3600)
#define YEAR (365 * DAY)
#define HOUR 3600LL

#define POLICY "1.2.392.200149.8.5.1.1.20"
#define POLICY_TEST "1.2.392.200149.8.5.1.0.20"
#define OID_FACT "1.2.392.200149.8.5.5."
#define OID_UNKNOWN "1.3.6.1.4.1.99999.1"
#define PREF "Tokyo" /* the OU=<Pref> of every CRL DP */

#define NVALID 60

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define NB (-1 * YEAR)
#define NA (4 * YEAR)
#define NHOLDER (NVALID + n_special)
#define OID_KP_DOCSIGN "1.3.6.1.5.5.7.3.36"

extern time_t now;

void fail(const char *, ...) __attribute__((format(printf, 1, 2)));

enum { CA_G1, CA_G2, CA_TOKYO, CA_IMPOSTOR, CA_UNKNOWN, NCA };

enum {
	F_NOAKI = 1 << 0,
	F_NOFACTS = 1 << 1,
	F_TWONAMES = 1 << 2,
	F_BADPOLICY = 1 << 3,
	F_NOKU = 1 << 4,
	F_UNKCRIT = 1 << 5,
	F_SHA1 = 1 << 6,
	F_WRONGKEY = 1 << 7,
	F_DP_PRINTABLE = 1 << 8, /* DP directoryName all PrintableString */
};

enum {
	C_DELTA = 1 << 0,        /* deltaCRLIndicator (base number - 1) */
	C_V1 = 1 << 1,           /* v1: no extensions at all */
	C_NONEXT = 1 << 2,       /* no nextUpdate */
	C_NONUMBER = 1 << 3,     /* no cRLNumber */
	C_DP_PRINTABLE = 1 << 4, /* IDP directoryName all PrintableString */
};

enum keytype { K_RSA2048, K_RSA1024, K_RSA4096, K_EC };

struct keyjob {
	enum keytype type;
	EVP_PKEY *key;
};

struct keypool {
	struct keyjob *jobs;
	size_t n, next, start; /* jobs taken from start on, wrapping */
	int failed;
	pthread_mutex_t mu;
};

struct ca {
	const char *name;
	const char *const *dn;
	long long nb, na; /* relative to now */
	int anchor;
	X509 *cert;
	EVP_PKEY *key; /* borrowed from the key jobs */
};

struct facts {
	char name[128];
	char name_subst[64];
	char gender[2];
	char birth[16];     /* EYYYYMMDD */
	char birth_iso[16]; /* YYYY-MM-DD */
	char address[1024];
	char address_subst[256];
};

struct hspec {
	char name[32];
	int ca;
	enum keytype ktype;
	long long nb, na; /* relative to now */
	const char *city; /* CRL DP, or NULL */
	unsigned flags;
	const char *vc, *rev; /* expected results */
	int fidx;             /* facts_for index */
};

struct holder {
	struct hspec s;
	struct facts facts;
	EVP_PKEY *key;     /* the certificate's key, borrowed */
	EVP_PKEY *filekey; /* written to key.pem, borrowed */
	X509 *cert;
	char *serial;
	time_t not_before, not_after;
};

struct revoked {
	ASN1_INTEGER *serial; /* borrowed */
	int reason;
	time_t date;
};

extern const char *const dn_jlis[];
extern const char *const dn_tokyo[];
extern const char *const dn_unknown[];
extern struct ca cas[NCA];
extern const char *const surnames[];
extern const char *const given_m[];
extern const char *const given_f[];
extern const char *const given_x[];
extern const char *const streets[];
extern const struct hspec special[];
extern const size_t n_special; /* NELEM(special) */
extern const char *const dn_receipt[];

EVP_PKEY *keygen(enum keytype t);
void *keyworker(void *arg);
int keygen_all(struct keyjob *jobs, size_t n);
int mkpath(char *buf, size_t len, const char *a, const char *b, const char *c);
int mkdir_ok(const char *path);
void rfc3339(time_t t, char buf[32]);
char *name_text(const X509_NAME *name);
char *serial_hex(const ASN1_INTEGER *ai);
ASN1_INTEGER *random_serial(void);
X509_NAME *make_name(const char *const *kv);
X509_NAME *dp_name(const char *pref, const char *city);
X509_NAME *dp_name_printable(const char *pref, const char *city);
DIST_POINT_NAME *dpn_dirname(const X509_NAME *n);
int write_file_bio(const char *path, int (*fn)(BIO *, const void *), const void *obj);
int w_cert(BIO *b, const void *o);
int w_key(BIO *b, const void *o);
int w_crl_der(BIO *b, const void *o);
int w_crl_pem(BIO *b, const void *o);
int add_ext_conf(X509 *x, X509V3_CTX *ctx, int nid, const char *value);
int add_ski(X509 *x);
AUTHORITY_KEYID *akid_of(X509 *issuer);
int make_ca(struct ca *ca);
int era_of(int y, int m, int d);
size_t utf8_chars(const char *s);
void zeros(char *buf, size_t len, size_t n);
void facts_for(int i, const char *city, struct facts *f);
const char *gender_word(const char *code);
json_t *facts_json(const struct facts *f);
int push_othername(GENERAL_NAMES *gens, int fact, const char *value);
int add_holder_exts(struct holder *h, X509 *x, const struct ca *ca);
int make_holder(struct holder *h);
X509 *make_twin(const struct holder *h);
int add_crl_int_ext(X509_CRL *crl, int nid, long v, int crit);
int add_revoked(X509_CRL *crl, const struct revoked *r, int v1);
X509_CRL *make_crl(const struct ca *ca, const char *city, long number, time_t tu, time_t nu, unsigned flags,
		   const struct revoked *revs, size_t nrev);
json_t *crl_json(const X509_CRL *crl, const char *der, const char *pem, const char *signer, const char *city,
		 long number, time_t tu, time_t nu, unsigned flags, const char *expect);
int write_applicant(const char *path, const struct holder *h);
json_t *holder_json(const struct holder *h, const char *cert, const char *key, const char *twin);
struct holder *find_holder(struct holder *hs, size_t n, const char *name);
X509 *make_receipt_cert(const struct ca *ca, EVP_PKEY *key);
int write_secret_key(const char *path, EVP_PKEY *key);
int make_receipts(const char *dir, EVP_PKEY *rkey, json_t *man);
int gen(const char *arg);
void usage(void);
int parse_hours(const char *s, time_t *out);
int parse_long(const char *s, long *out);
int parse_revoke(const char *arg, json_t *holders, struct revoked *r);
EVP_PKEY *read_key(const char *path);
X509 *read_cert(const char *path);
int crl_cmd(int argc, char **argv);

#endif
