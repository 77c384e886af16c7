/* madoguchi-client: the holder's side of the online window. Walks the
 * manual's steps (2.1 / 3.1): nonce, read the card, confirm the form, sign,
 * confirm sending, submit, show the result notice. Exit statuses: status.c. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "credentials.h"
#include "facts.h"
#include "form.h"
#include "pin.h"
#include "screens.h"
#include "sign.h"
#include "status.h"
#include "submit.h"

#define VERSION "0.1.0"

struct args {
	enum mdg_procedure proc;
	const char *url, *cacert, *reason;
	struct mdg_cred_opts cred;
	struct mdg_pin_source pin;
	enum mdg_lang lang;
	int yes, json;
	long timeout;
};

static void usage(FILE *f)
{
	fputs("usage: madoguchi-client check|revoke --url URL\n"
	      "         (--pkcs11-module PATH [--token-label L] [--key-label L]\n"
	      "          | --pkcs12 FILE | --cert FILE --key FILE)\n"
	      "         [--reason R] [--cacert FILE] [--lang ja|en] [--yes] [--json]\n"
	      "         [--pin-file FILE] [--timeout SECONDS]\n"
	      "  check   自己の電子証明書の有効性確認 (validity check)\n"
	      "  revoke  自己の電子証明書の失効申請 (revocation)\n"
	      "The PIN comes from --pin-file, else $MADOGUCHI_PIN, else the terminal (no echo).\n"
	      "Exit status: 0 accepted (revoke) / valid (check); see madoguchi-client(1).\n",
	      f);
}

/* Returns -1 to run, else the exit status. */
static int parse_args(int argc, char **argv, struct args *a)
{
	enum { O_URL = 256, O_CACERT, O_CERT, O_KEY, O_P12, O_MODULE, O_TOKEN, O_KEYLABEL, O_REASON, O_LANG,
	       O_PINFILE, O_TIMEOUT };
	static const struct option opts[] = {
		{"url", required_argument, NULL, O_URL},
		{"cacert", required_argument, NULL, O_CACERT},
		{"cert", required_argument, NULL, O_CERT},
		{"key", required_argument, NULL, O_KEY},
		{"pkcs12", required_argument, NULL, O_P12},
		{"pkcs11-module", required_argument, NULL, O_MODULE},
		{"token-label", required_argument, NULL, O_TOKEN},
		{"key-label", required_argument, NULL, O_KEYLABEL},
		{"reason", required_argument, NULL, O_REASON},
		{"lang", required_argument, NULL, O_LANG},
		{"pin-file", required_argument, NULL, O_PINFILE},
		{"timeout", required_argument, NULL, O_TIMEOUT},
		{"yes", no_argument, NULL, 'y'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int c, sources = 0;

	memset(a, 0, sizeof(*a));
	a->cred.token_label = MDG_TOKEN_LABEL_DEFAULT;
	a->cred.key_label = MDG_KEY_LABEL_DEFAULT;
	a->timeout = 60;
	while ((c = getopt_long(argc, argv, "yjhV", opts, NULL)) != -1) {
		switch (c) {
		case O_URL: a->url = optarg; break;
		case O_CACERT: a->cacert = optarg; break;
		case O_CERT: a->cred.cert_file = optarg; break;
		case O_KEY: a->cred.key_file = optarg; break;
		case O_P12: a->cred.pkcs12_file = optarg; break;
		case O_MODULE: a->cred.module = optarg; break;
		case O_TOKEN: a->cred.token_label = optarg; break;
		case O_KEYLABEL: a->cred.key_label = optarg; break;
		case O_REASON: a->reason = optarg; break;
		case O_PINFILE: a->pin.file = optarg; break;
		case O_LANG:
			if (strcmp(optarg, "ja") == 0)
				a->lang = MDG_LANG_JA;
			else if (strcmp(optarg, "en") == 0)
				a->lang = MDG_LANG_EN;
			else {
				fprintf(stderr, "madoguchi-client: --lang: ja or en\n");
				return mdg_exit_for_state(MDG_CS_USAGE);
			}
			break;
		case O_TIMEOUT: {
			char *end;
			a->timeout = strtol(optarg, &end, 10);
			if (*end != '\0' || a->timeout <= 0 || a->timeout > 3600) {
				fprintf(stderr, "madoguchi-client: --timeout: 1..3600 seconds\n");
				return mdg_exit_for_state(MDG_CS_USAGE);
			}
			break;
		}
		case 'y': a->yes = 1; break;
		case 'j': a->json = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': puts("madoguchi-client " VERSION); return 0;
		default: usage(stderr); return mdg_exit_for_state(MDG_CS_USAGE);
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return mdg_exit_for_state(MDG_CS_USAGE);
	}
	if (strcmp(argv[optind], "check") == 0)
		a->proc = MDG_PROC_VALIDITY;
	else if (strcmp(argv[optind], "revoke") == 0)
		a->proc = MDG_PROC_REVOCATION;
	else {
		fprintf(stderr, "madoguchi-client: the command is check or revoke\n");
		return mdg_exit_for_state(MDG_CS_USAGE);
	}
	if (a->url == NULL) {
		fprintf(stderr, "madoguchi-client: --url is required\n");
		return mdg_exit_for_state(MDG_CS_USAGE);
	}
	if (a->cred.module != NULL) {
		a->cred.kind = MDG_CRED_PKCS11;
		sources++;
	}
	if (a->cred.pkcs12_file != NULL) {
		a->cred.kind = MDG_CRED_PKCS12;
		sources++;
	}
	if (a->cred.cert_file != NULL || a->cred.key_file != NULL) {
		a->cred.kind = MDG_CRED_PEM;
		sources++;
		if (a->cred.cert_file == NULL || a->cred.key_file == NULL) {
			fprintf(stderr, "madoguchi-client: --cert and --key go together\n");
			return mdg_exit_for_state(MDG_CS_USAGE);
		}
	}
	if (sources != 1) {
		fprintf(stderr, "madoguchi-client: give one of --pkcs11-module, --pkcs12, --cert/--key\n");
		return mdg_exit_for_state(MDG_CS_USAGE);
	}
	if (a->reason != NULL) {
		if (a->proc != MDG_PROC_REVOCATION) {
			fprintf(stderr, "madoguchi-client: --reason is for revoke only\n");
			return mdg_exit_for_state(MDG_CS_USAGE);
		}
		if ((a->reason = mdg_reason_lookup(a->reason)) == NULL) {
			fprintf(stderr, "madoguchi-client: --reason: unspecified, keyCompromise, affiliationChanged, "
					"superseded or cessationOfOperation\n");
			return mdg_exit_for_state(MDG_CS_USAGE);
		}
	}
	return -1;
}

static const char *source_text(const struct args *a, char *buf, size_t len)
{
	switch (a->cred.kind) {
	case MDG_CRED_PKCS11:
		snprintf(buf, len, "PKCS#11 %s, token \"%s\", key \"%s\"", a->cred.module, a->cred.token_label,
			 a->cred.key_label);
		break;
	case MDG_CRED_PKCS12:
		snprintf(buf, len, "PKCS#12 %s", a->cred.pkcs12_file);
		break;
	case MDG_CRED_PEM:
		snprintf(buf, len, "PEM %s, %s", a->cred.cert_file, a->cred.key_file);
		break;
	}
	return buf;
}

/* The ログイン dialog: asks for the PIN until it is right, the holder gives
 * up, or the token says locked. */
static enum mdg_cstate login(const struct mdg_ui *ui, const struct args *a, struct mdg_creds *c,
			     struct mdg_cred_error *e)
{
	char pin[MDG_PIN_MAX], err[256];
	int interactive;
	enum mdg_cstate st;

	for (;;) {
		mdg_screen_login(ui, a->cred.kind == MDG_CRED_PKCS11 ? a->cred.token_label : NULL);
		fflush(ui->out);
		if (mdg_pin_get(&a->pin, mdg_screen_pin_prompt(ui), pin, &interactive, err, sizeof(err)) != 0) {
			OPENSSL_cleanse(pin, sizeof(pin));
			snprintf(e->msg, sizeof(e->msg), "%s", err);
			e->ckr = 0;
			return MDG_CS_USAGE;
		}
		st = mdg_creds_login(c, pin, e);
		OPENSSL_cleanse(pin, sizeof(pin));
		if (st != MDG_CS_PIN_INCORRECT || !interactive)
			return st;
		mdg_screen_state(ui, st, e, NULL, NULL);
		if (!mdg_screen_confirm(ui, MDG_Q_RETRY_PIN))
			return st;
	}
}

static int run(const struct args *a, const struct mdg_ui *ui)
{
	struct mdg_submit_opts so = {.base_url = a->url, .cacert = a->cacert, .timeout = a->timeout, .lang = a->lang};
	struct mdg_cred_error e = {.tries_left = -1};
	struct mdg_creds *c = NULL;
	struct mdg_client_form form;
	struct mdg_http_answer ans = {0};
	enum mdg_cstate st = MDG_CS_OK;
	enum mdg_result r = MDG_SERVICE_ERROR;
	unsigned char *der = NULL;
	size_t der_len = 0;
	char nonce[MDG_FORM_NONCE_MAX], err[512] = "", src[512];
	const char *why = NULL;
	int status;

	memset(&form, 0, sizeof(form));
	if (mdg_submit_check_url(a->url, err, sizeof(err)) != 0) {
		st = MDG_CS_USAGE;
		goto out;
	}
	mdg_screen_header(ui);
	/* 取込み: the card goes in */
	mdg_screen_import(ui, source_text(a, src, sizeof(src)));
	if (!a->yes && !mdg_screen_confirm(ui, MDG_Q_CONTINUE)) {
		st = MDG_CS_CANCELLED;
		goto out;
	}
	if (mdg_fetch_nonce(&so, nonce, sizeof(nonce), err, sizeof(err)) != 0) {
		st = MDG_CS_NETWORK;
		goto out;
	}
	if ((st = mdg_creds_open(&a->cred, &c, &e)) != MDG_CS_OK)
		goto out;
	/* ログイン, where the token requires it before the certificate is read */
	if (mdg_creds_needs_pin(c) && (st = login(ui, a, c, &e)) != MDG_CS_OK)
		goto out;
	if ((st = mdg_creds_read(c, &e)) != MDG_CS_OK)
		goto out;
	if (mdg_client_form_from_cert(mdg_creds_cert(c), &form, &why) != 0) {
		snprintf(err, sizeof(err), "%s", why);
		st = MDG_CS_IMPORT_ERROR;
		goto out;
	}
	if (mdg_client_cert_expired(&form, time(NULL))) {
		st = MDG_CS_CERT_EXPIRED;
		goto out;
	}
	if (mdg_client_form_build(&form, a->proc, nonce, a->reason) != 0) {
		snprintf(err, sizeof(err), "out of memory");
		st = MDG_CS_IMPORT_ERROR;
		goto out;
	}
	/* 取込み情報の確認, then 署名確認 */
	mdg_screen_form(ui, &form);
	if (!a->yes && !mdg_screen_confirm(ui, MDG_Q_SIGN)) {
		st = MDG_CS_CANCELLED;
		goto out;
	}
	mdg_screen_sign_confirm(ui);
	if (!a->yes && !mdg_screen_confirm(ui, MDG_Q_AGREE)) {
		st = MDG_CS_CANCELLED;
		goto out;
	}
	if (mdg_sign_form(mdg_creds_cert(c), mdg_creds_key(c), form.json, form.json_len, &der, &der_len) != 0) {
		st = mdg_creds_classify_failure(c, &e);
		goto out;
	}
	/* 送信確認 */
	mdg_screen_send_confirm(ui);
	if (!a->yes && !mdg_screen_confirm(ui, MDG_Q_SEND)) {
		st = MDG_CS_CANCELLED;
		goto out;
	}
	mdg_screen_sending(ui);
	if (mdg_post_request(&so, a->proc, der, der_len, &ans, err, sizeof(err)) != 0) {
		st = MDG_CS_NETWORK;
		goto out;
	}
	if (a->json) {
		fwrite(ans.body, 1, ans.len, stdout);
		fflush(stdout);
	}
	if (mdg_screen_notice(ui, &ans, &r) != 0) {
		snprintf(err, sizeof(err), "HTTP %ld", ans.status);
		st = MDG_CS_BAD_ANSWER;
		goto out;
	}
out:
	if (st != MDG_CS_OK)
		mdg_screen_state(ui, st, &e, &form, err[0] ? err : NULL);
	status = st != MDG_CS_OK ? mdg_exit_for_state(st) : mdg_exit_for_result(r);
	fflush(ui->out);
	mdg_http_answer_free(&ans);
	OPENSSL_free(der);
	mdg_client_form_clear(&form);
	mdg_creds_free(c);
	return status;
}

int main(int argc, char **argv)
{
	struct args a;
	int status = parse_args(argc, argv, &a);

	if (status >= 0)
		return status;
	struct mdg_ui ui = {
		.out = a.json ? stderr : stdout,
		.in = stdin,
		.lang = a.lang,
		.proc = a.proc,
	};
	mdg_submit_global_init();
	status = run(&a, &ui);
	mdg_submit_global_cleanup();
	return status;
}
