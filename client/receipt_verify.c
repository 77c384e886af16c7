/* Receipts on the holder's side: --receipt-out and `receipt verify`
 * (receipt_verify.h). The log's checks are the server's own modules
 * (server/receipt: merkle.c, checkpoint.c, b64.c); the CMS signature is
 * OpenSSL's CMS_verify with the anchors, purpose any, as the stock
 * `openssl cms -verify -purpose any` does. */
#include "receipt_verify.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "b64.h"
#include "checkpoint.h"
#include "merkle.h"
#include "private_file.h"
#include "screens.h"
#include "status.h"

#define RECEIPT_FILE_MAX (256 * 1024)
#define LOG_KEY_FILE_MAX 4096
#define LEAF_MAX 16384      /* bytes of a log leaf (a receipt content is at most 8192) */
#define NOT_COVERED_WAIT 10 /* seconds to wait for a checkpoint that covers the receipt */

/* ---------------------------------------------------------------- saving */

int mdg_receipt_save(const struct mdg_http_answer *a, const char *path, struct mdg_msg *err)
{
	json_t *j = a->body != NULL ? json_loadb(a->body, a->len, 0, NULL) : NULL;
	const char *b64 = json_string_value(json_object_get(j, "receipt"));
	unsigned char *der = NULL;
	size_t n, derlen = 0;
	int rc = -1;

	if (b64 == NULL || (n = strlen(b64)) == 0) {
		mdg_msg_set(err, MDG_MSG_NO_RECEIPT, 0, NULL, NULL);
		goto out;
	}
	if ((der = malloc(n / 4 * 3 + 3)) == NULL) {
		mdg_msg_set(err, MDG_MSG_OOM, 0, NULL, NULL);
		goto out;
	}
	if (mdg_b64_decode(b64, n, der, n / 4 * 3 + 3, &derlen) != 0) {
		mdg_msg_set(err, MDG_MSG_NO_RECEIPT, 0, NULL, NULL);
		goto out;
	}
	rc = mdg_write_private_file(path, der, derlen, MDG_MSG_RECEIPT_SAVE, err);
out:
	free(der);
	json_decref(j);
	return rc;
}

/* ---------------------------------------------------------------- verifying */

struct rv_args {
	const char *file, *cafile, *url, *log_key, *cacert;
	enum mdg_lang lang;
	int json;
	long timeout;
};

/* What the checks found, owned here (rv_free). */
struct rv {
	struct mdg_msg msg;
	unsigned char *der;
	size_t der_len;
	char *content; /* the verified content, NUL-terminated */
	size_t content_len;
	json_t *cj; /* the content parsed */
	char signer[512];
	int online;
	struct mdg_checkpoint cp;
	char *note; /* the checkpoint as the log gave it */
};

static void rv_free(struct rv *r)
{
	free(r->der);
	free(r->content);
	json_decref(r->cj);
	free(r->note);
}

static void check_fail(struct rv *r, enum mdg_receipt_check c, const char *arg, const char *tech)
{
	mdg_msg_set(&r->msg, MDG_MSG_RECEIPT_CHECK, c, arg, tech);
}

/* OpenSSL's last error as one short English line. */
static const char *ossl_text(char *buf, size_t n)
{
	unsigned long e = ERR_peek_last_error();

	buf[0] = '\0';
	if (e != 0)
		ERR_error_string_n(e, buf, n);
	ERR_clear_error();
	return buf;
}

/* Reads at most max bytes of path into *buf (NUL-terminated). 0, or -1 with
 * err (missing, unreadable, too large). */
static int read_file(const char *path, size_t max, unsigned char **buf, size_t *len, struct mdg_msg *err)
{
	FILE *f = fopen(path, "rb");
	unsigned char *b;
	size_t n;

	*buf = NULL;
	if (f == NULL) {
		if (errno == ENOENT)
			mdg_msg_set(err, MDG_MSG_FILE_MISSING, 0, path, NULL);
		else
			mdg_msg_set(err, MDG_MSG_FILE_UNREADABLE, errno, path, NULL);
		return -1;
	}
	if ((b = malloc(max + 1)) == NULL) {
		fclose(f);
		mdg_msg_set(err, MDG_MSG_OOM, 0, NULL, NULL);
		return -1;
	}
	n = fread(b, 1, max + 1, f);
	if (ferror(f) || n == 0 || n > max) {
		int e = ferror(f) ? EIO : 0;
		fclose(f);
		free(b);
		mdg_msg_set(err, MDG_MSG_FILE_UNREADABLE, e, path, e ? NULL : "empty or too large");
		return -1;
	}
	fclose(f);
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

/* The file as DER: kept as it is when it starts like a DER SEQUENCE, else
 * read as base64 (as the answers carry it, white space allowed). */
static enum mdg_rv load_receipt(const char *path, struct rv *r)
{
	unsigned char *raw = NULL, *der = NULL;
	size_t len = 0, k = 0, derlen = 0;

	if (read_file(path, RECEIPT_FILE_MAX, &raw, &len, &r->msg) != 0)
		return MDG_RV_UNREADABLE;
	if (raw[0] == 0x30) {
		r->der = raw;
		r->der_len = len;
		return MDG_RV_OK;
	}
	for (size_t i = 0; i < len; i++)
		if (raw[i] != ' ' && raw[i] != '\t' && raw[i] != '\r' && raw[i] != '\n')
			raw[k++] = raw[i];
	if (k == 0 || (der = malloc(k / 4 * 3 + 3)) == NULL ||
	    mdg_b64_decode((const char *)raw, k, der, k / 4 * 3 + 3, &derlen) != 0 || derlen == 0) {
		free(raw);
		free(der);
		check_fail(r, MDG_RC_NOT_CMS, path, "neither DER nor base64");
		return MDG_RV_UNREADABLE;
	}
	free(raw);
	r->der = der;
	r->der_len = derlen;
	return MDG_RV_OK;
}

static int is_string(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));
	return v != NULL && v[0] != '\0';
}

/* The content is a receipt content: an object with the members DESIGN.md
 * fixes, procedure "revocation", a receipt id the log's URL can carry. */
static int content_ok(json_t *j)
{
	static const char *const keys[] = { "receiptId",     "issuer", "serial",       "acceptedAt",
					    "effectiveFrom", "reason", "requestSha256" };
	const char *id, *proc;
	json_t *idx;

	if (!json_is_object(j))
		return 0;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!is_string(j, keys[i]))
			return 0;
	proc = json_string_value(json_object_get(j, "procedure"));
	idx = json_object_get(j, "logIndex");
	if (proc == NULL || strcmp(proc, "revocation") != 0 || !json_is_integer(idx) || json_integer_value(idx) < 0)
		return 0;
	id = json_string_value(json_object_get(j, "receiptId"));
	for (size_t i = 0; id[i] != '\0'; i++) {
		char c = id[i];
		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-' ||
		      c == '_'))
			return 0;
	}
	return strlen(id) <= 128;
}

static X509_STORE *load_anchors(const char *cafile, struct mdg_msg *err)
{
	X509_STORE *st = X509_STORE_new();
	char tech[256];

	if (st == NULL || X509_STORE_load_file(st, cafile) != 1) {
		mdg_msg_set(err, MDG_MSG_CAFILE, 0, cafile, ossl_text(tech, sizeof(tech)));
		X509_STORE_free(st);
		return NULL;
	}
	X509_STORE_set_purpose(st, X509_PURPOSE_ANY);
	return st;
}

static void signer_name(CMS_ContentInfo *cms, char *out, size_t n)
{
	STACK_OF(X509) *signers = CMS_get0_signers(cms);
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long len;

	out[0] = '\0';
	if (signers != NULL && sk_X509_num(signers) > 0 && b != NULL &&
	    X509_NAME_print_ex(b, X509_get_subject_name(sk_X509_value(signers, 0)), 0,
			       XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0 &&
	    (len = BIO_get_mem_data(b, &p)) > 0)
		snprintf(out, n, "%.*s", (int)len, p);
	BIO_free(b);
	sk_X509_free(signers);
}

/* The signature first without the chain (a failure there: the bytes were
 * altered), then with it (a failure there: not the anchors' window). */
static enum mdg_rv verify_cms(const struct rv_args *a, X509_STORE *anchors, struct rv *r)
{
	const unsigned char *p = r->der;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)r->der_len);
	BIO *out = BIO_new(BIO_s_mem()), *sink = BIO_new(BIO_s_mem());
	enum mdg_rv v = MDG_RV_UNREADABLE;
	char tech[256];
	char *data;
	long len;

	if (cms == NULL || p != r->der + r->der_len || OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed ||
	    OBJ_obj2nid(CMS_get0_eContentType(cms)) != NID_pkcs7_data) {
		check_fail(r, MDG_RC_NOT_CMS, a->file, ossl_text(tech, sizeof(tech)));
		goto out;
	}
	if (out == NULL || sink == NULL) {
		mdg_msg_set(&r->msg, MDG_MSG_OOM, 0, NULL, NULL);
		goto out;
	}
	if (CMS_verify(cms, NULL, NULL, NULL, sink, CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) != 1) {
		check_fail(r, MDG_RC_SIGNATURE, a->file, ossl_text(tech, sizeof(tech)));
		v = MDG_RV_BAD_SIGNATURE;
		goto out;
	}
	if (CMS_verify(cms, NULL, anchors, NULL, out, CMS_BINARY) != 1) {
		check_fail(r, MDG_RC_CHAIN, a->cafile, ossl_text(tech, sizeof(tech)));
		v = MDG_RV_UNTRUSTED;
		goto out;
	}
	signer_name(cms, r->signer, sizeof(r->signer));
	len = BIO_get_mem_data(out, &data);
	if (len <= 0 || (r->content = malloc((size_t)len + 1)) == NULL) {
		check_fail(r, MDG_RC_NOT_RECEIPT, a->file, "no content");
		goto out;
	}
	memcpy(r->content, data, (size_t)len);
	r->content[len] = '\0';
	r->content_len = (size_t)len;
	r->cj = json_loadb(r->content, r->content_len, JSON_REJECT_DUPLICATES, NULL);
	if (!content_ok(r->cj)) {
		check_fail(r, MDG_RC_NOT_RECEIPT, a->file, NULL);
		goto out;
	}
	v = MDG_RV_OK;
out:
	BIO_free(out);
	BIO_free(sink);
	CMS_ContentInfo_free(cms);
	return v;
}

static enum mdg_rv from_cstate(enum mdg_cstate st)
{
	switch (st) {
	case MDG_CS_TLS:
		return MDG_RV_TLS;
	case MDG_CS_BAD_ANSWER:
		return MDG_RV_BAD_ANSWER;
	default:
		return MDG_RV_NETWORK;
	}
}

/* GET /v1/log/proof/<id>, waiting a little while the receipt is not yet in
 * a checkpoint (503 busy with Retry-After). */
static enum mdg_rv fetch_proof(const struct rv_args *a, const char *id, struct mdg_http_answer *ans, struct rv *r)
{
	struct mdg_submit_opts so = { .base_url = a->url, .cacert = a->cacert, .timeout = a->timeout, .lang = a->lang };
	char path[256];
	long waited = 0;
	enum mdg_cstate st;

	snprintf(path, sizeof(path), "/v1/log/proof/%s", id);
	for (;;) {
		mdg_http_answer_free(ans);
		if ((st = mdg_http_get(&so, path, ans, &r->msg)) != MDG_CS_OK)
			return from_cstate(st);
		if (ans->status == 200)
			return MDG_RV_OK;
		if (ans->status == 404) {
			check_fail(r, MDG_RC_UNKNOWN_ID, id, NULL);
			return MDG_RV_NOT_IN_LOG;
		}
		if (ans->status != 503)
			return MDG_RV_BAD_ANSWER;
		long wait = ans->retry_after > 0 ? ans->retry_after : 1;
		if (waited + wait > NOT_COVERED_WAIT) {
			check_fail(r, MDG_RC_NOT_COVERED, id, NULL);
			return MDG_RV_NOT_IN_LOG;
		}
		sleep((unsigned)wait);
		waited += wait;
	}
}

static enum mdg_rv proof_form(struct rv *r, const char *what)
{
	check_fail(r, MDG_RC_PROOF_FORM, NULL, what);
	return MDG_RV_BAD_ANSWER;
}

/* The proof answer against the content and the log key. */
static enum mdg_rv check_proof(const struct mdg_http_answer *ans, const struct mdg_note_verifier *vk, struct rv *r)
{
	json_t *j = json_loadb(ans->body, ans->len, 0, NULL), *inc, *h;
	const char *id = json_string_value(json_object_get(r->cj, "receiptId"));
	json_int_t index = json_integer_value(json_object_get(r->cj, "logIndex"));
	const char *pid, *leaf_b64, *note;
	mdg_merkle_hash proof[MDG_MERKLE_MAXPROOF];
	unsigned char leaf[LEAF_MAX], lh[32];
	size_t leaf_len = 0, n, i;
	char err[256], num[32];
	enum mdg_rv v = MDG_RV_BAD_ANSWER;

	if (!json_is_object(j)) {
		v = proof_form(r, "not a JSON object");
		goto out;
	}
	pid = json_string_value(json_object_get(j, "receiptId"));
	leaf_b64 = json_string_value(json_object_get(j, "leaf"));
	note = json_string_value(json_object_get(j, "checkpoint"));
	inc = json_object_get(j, "inclusion");
	if (pid == NULL || leaf_b64 == NULL || note == NULL || !json_is_array(inc) ||
	    !json_is_integer(json_object_get(j, "logIndex")) || !json_is_integer(json_object_get(j, "treeSize"))) {
		v = proof_form(r, "receiptId, logIndex, treeSize, leaf, inclusion or checkpoint missing");
		goto out;
	}
	if (strcmp(pid, id) != 0) {
		check_fail(r, MDG_RC_ID_DIFFERS, pid, NULL);
		v = MDG_RV_LEAF_MISMATCH;
		goto out;
	}
	if (json_integer_value(json_object_get(j, "logIndex")) != index) {
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(json_object_get(j, "logIndex")));
		check_fail(r, MDG_RC_INDEX_DIFFERS, num, NULL);
		v = MDG_RV_LEAF_MISMATCH;
		goto out;
	}
	if (mdg_b64_decode(leaf_b64, strlen(leaf_b64), leaf, sizeof(leaf), &leaf_len) != 0) {
		v = proof_form(r, "leaf is not base64");
		goto out;
	}
	if (leaf_len != r->content_len || memcmp(leaf, r->content, leaf_len) != 0) {
		check_fail(r, MDG_RC_LEAF_DIFFERS, NULL, NULL);
		v = MDG_RV_LEAF_MISMATCH;
		goto out;
	}
	/* the checkpoint: signed by the log key, origin its name */
	if (mdg_checkpoint_open(note, strlen(note), vk, NULL, &r->cp, err, sizeof(err)) != 0) {
		check_fail(r, MDG_RC_CHECKPOINT, vk->name, err);
		v = MDG_RV_BAD_CHECKPOINT;
		goto out;
	}
	if ((r->note = strdup(note)) == NULL) {
		mdg_msg_set(&r->msg, MDG_MSG_OOM, 0, NULL, NULL);
		goto out;
	}
	if ((json_int_t)r->cp.size != json_integer_value(json_object_get(j, "treeSize")) ||
	    (uint64_t)index >= r->cp.size) {
		check_fail(r, MDG_RC_SIZE_DIFFERS, NULL, NULL);
		v = MDG_RV_BAD_INCLUSION;
		goto out;
	}
	n = json_array_size(inc);
	if (n > MDG_MERKLE_MAXPROOF) {
		v = proof_form(r, "inclusion too long");
		goto out;
	}
	json_array_foreach(inc, i, h)
	{
		const char *s = json_string_value(h);
		size_t hl = 0;
		if (s == NULL || mdg_b64_decode(s, strlen(s), proof[i], MDG_MERKLE_HASH, &hl) != 0 ||
		    hl != MDG_MERKLE_HASH) {
			v = proof_form(r, "an inclusion hash is not 32 bytes of base64");
			goto out;
		}
	}
	mdg_merkle_leaf_hash((const unsigned char *)r->content, r->content_len, lh);
	if (!mdg_merkle_verify_inclusion((uint64_t)index, r->cp.size, lh, proof, n, r->cp.root)) {
		check_fail(r, MDG_RC_PROOF, NULL, NULL);
		v = MDG_RV_BAD_INCLUSION;
		goto out;
	}
	r->online = 1;
	v = MDG_RV_OK;
out:
	json_decref(j);
	return v;
}

/* --log-key: the verifier key itself, or a file holding it (first line). */
static int log_key(const char *arg, struct mdg_note_verifier *vk, struct mdg_msg *err)
{
	char why[256], key[MDG_NOTE_VKEY_LEN + 2];
	unsigned char *buf = NULL;
	size_t len = 0;
	struct stat sb;
	const char *k = arg;

	if (stat(arg, &sb) == 0 && S_ISREG(sb.st_mode)) {
		if (read_file(arg, LOG_KEY_FILE_MAX, &buf, &len, err) != 0)
			return -1;
		snprintf(key, sizeof(key), "%.*s", (int)strcspn((char *)buf, "\r\n"), (char *)buf);
		free(buf);
		k = key;
	}
	if (mdg_note_verifier_parse(k, vk, why, sizeof(why)) != 0) {
		mdg_msg_set(err, MDG_MSG_LOG_KEY, 0, arg, why);
		return -1;
	}
	return 0;
}

static enum mdg_rv verify(const struct rv_args *a, struct rv *r)
{
	struct mdg_note_verifier vk;
	struct mdg_http_answer ans = { 0 };
	X509_STORE *anchors;
	enum mdg_rv v;

	if (a->url != NULL) {
		if (mdg_submit_check_url(a->url, &r->msg) != 0 || log_key(a->log_key, &vk, &r->msg) != 0)
			return MDG_RV_USAGE;
	}
	if ((anchors = load_anchors(a->cafile, &r->msg)) == NULL)
		return MDG_RV_USAGE;
	v = load_receipt(a->file, r);
	if (v == MDG_RV_OK)
		v = verify_cms(a, anchors, r);
	X509_STORE_free(anchors);
	if (v != MDG_RV_OK || a->url == NULL)
		return v;
	v = fetch_proof(a, json_string_value(json_object_get(r->cj, "receiptId")), &ans, r);
	if (v == MDG_RV_OK)
		v = check_proof(&ans, &vk, r);
	mdg_http_answer_free(&ans);
	return v;
}

/* ---------------------------------------------------------------- output */

static const char *cstr(const struct rv *r, const char *k)
{
	return json_string_value(json_object_get(r->cj, k));
}

static void show(const struct mdg_ui *ui, const struct rv *r)
{
	struct mdg_receipt_view v = {
		.receipt_id = cstr(r, "receiptId"),
		.issuer = cstr(r, "issuer"),
		.serial = cstr(r, "serial"),
		.accepted_at = cstr(r, "acceptedAt"),
		.effective_from = cstr(r, "effectiveFrom"),
		.reason = cstr(r, "reason"),
		.request_sha256 = cstr(r, "requestSha256"),
		.log_index = (long long)json_integer_value(json_object_get(r->cj, "logIndex")),
		.signer = r->signer,
		.online = r->online,
		.tree_size = (unsigned long long)r->cp.size,
		.log_name = r->cp.origin,
	};
	mdg_screen_receipt(ui, &v);
}

/* {"result":"receiptVerified","exitStatus":0,"receipt":{content},"signer":..,
 *  "log":null | {"logIndex","treeSize","rootHash","checkpoint"}} */
static char *ok_json(const struct rv *r)
{
	json_t *j = json_object(), *log = json_null();
	char root[MDG_B64_LEN(32) + 1];
	char *out;

	if (r->online) {
		mdg_b64_encode(r->cp.root, sizeof(r->cp.root), root);
		log = json_pack("{s:O,s:I,s:s,s:s}", "logIndex", json_object_get(r->cj, "logIndex"), "treeSize",
				(json_int_t)r->cp.size, "rootHash", root, "checkpoint", r->note ? r->note : "");
	}
	json_object_set_new(j, "result", json_string("receiptVerified"));
	json_object_set_new(j, "exitStatus", json_integer(0));
	json_object_set(j, "receipt", r->cj);
	json_object_set_new(j, "signer", json_string(r->signer));
	json_object_set_new(j, "log", log != NULL ? log : json_null());
	out = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	return out;
}

/* ---------------------------------------------------------------- command */

static void usage(FILE *f)
{
	fputs("usage: madoguchi-client receipt verify FILE --cafile ANCHORS\n"
	      "         [--url URL --log-key KEY] [--cacert FILE] [--lang ja|en] [--json] [--timeout SECONDS]\n"
	      "  FILE     the receipt (DER, as --receipt-out writes it, or base64 as the answer carries it)\n"
	      "  ANCHORS  PEM file of the CA's anchor certificates\n"
	      "  KEY      the log's verifier key (GET /v1/log/key), or a file holding it\n"
	      "Exit status: 0 verified; see madoguchi-client(1).\n",
	      f);
}

static int bad_usage(const struct rv_args *a, const char *why)
{
	(void)a;
	fprintf(stderr, "madoguchi-client receipt: %s\n", why);
	usage(stderr);
	return mdg_exit_for_rv(MDG_RV_USAGE);
}

static int parse(int argc, char **argv, struct rv_args *a)
{
	enum { O_CAFILE = 256, O_URL, O_LOGKEY, O_CACERT, O_LANG, O_TIMEOUT };
	static const struct option opts[] = {
		{ "cafile", required_argument, NULL, O_CAFILE },
		{ "url", required_argument, NULL, O_URL },
		{ "log-key", required_argument, NULL, O_LOGKEY },
		{ "cacert", required_argument, NULL, O_CACERT },
		{ "lang", required_argument, NULL, O_LANG },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	char *end;

	memset(a, 0, sizeof(*a));
	a->timeout = 60;
	optind = 1;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case O_CAFILE:
			a->cafile = optarg;
			break;
		case O_URL:
			a->url = optarg;
			break;
		case O_LOGKEY:
			a->log_key = optarg;
			break;
		case O_CACERT:
			a->cacert = optarg;
			break;
		case O_LANG:
			if (strcmp(optarg, "ja") == 0)
				a->lang = MDG_LANG_JA;
			else if (strcmp(optarg, "en") == 0)
				a->lang = MDG_LANG_EN;
			else
				return bad_usage(a, "--lang: ja or en");
			break;
		case O_TIMEOUT:
			a->timeout = strtol(optarg, &end, 10);
			if (*end != '\0' || a->timeout <= 0 || a->timeout > 3600)
				return bad_usage(a, "--timeout: 1..3600 seconds");
			break;
		case 'j':
			a->json = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return mdg_exit_for_rv(MDG_RV_USAGE);
		}
	}
	if (optind + 2 != argc || strcmp(argv[optind], "verify") != 0)
		return bad_usage(a, "the command is: receipt verify FILE");
	a->file = argv[optind + 1];
	if (a->cafile == NULL)
		return bad_usage(a, "--cafile is required");
	return -1;
}

int mdg_receipt_command(int argc, char **argv)
{
	struct rv_args a;
	struct rv r = { 0 };
	enum mdg_rv v;
	int status = parse(argc, argv, &a);

	if (status >= 0)
		return status;
	struct mdg_ui ui = {
		.out = a.json ? stderr : stdout,
		.in = stdin,
		.lang = a.lang,
		.proc = MDG_PROC_REVOCATION,
	};
	mdg_submit_global_init();
	if ((a.url == NULL) != (a.log_key == NULL)) {
		mdg_msg_set(&r.msg, MDG_MSG_LOG_KEY_URL, 0, NULL, NULL);
		v = MDG_RV_USAGE;
	} else {
		v = verify(&a, &r);
	}
	if (v == MDG_RV_OK) {
		show(&ui, &r);
		if (a.json) {
			char *j = ok_json(&r);
			if (j != NULL)
				printf("%s\n", j);
			free(j);
		}
	} else {
		mdg_screen_receipt_failure(&ui, v, &r.msg);
		if (a.json) {
			char *j = mdg_receipt_failure_json(&ui, v, &r.msg);
			if (j != NULL)
				printf("%s\n", j);
			free(j);
		}
	}
	fflush(stdout);
	fflush(ui.out);
	rv_free(&r);
	mdg_submit_global_cleanup();
	return mdg_exit_for_rv(v);
}
