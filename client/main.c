/* madoguchi-client: the holder's side of the online window. Walks the
 * manual's steps (2.1 / 3.1): nonce, read the card, confirm the form, sign,
 * confirm sending, submit, show the result notice. Exit statuses: status.c. */
#include <errno.h>
#include <fcntl.h>
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
#include "private_file.h"
#include "receipt_verify.h"
#include "screens.h"
#include "sign.h"
#include "status.h"
#include "submit.h"

#define VERSION "0.1.0"

struct args {
	enum mdg_procedure proc;
	const char *url, *cacert, *reason, *notice_out, *receipt_out;
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
	      "         [--pin-file FILE] [--timeout SECONDS] [--notice-out FILE] [--receipt-out FILE]\n"
	      "       madoguchi-client receipt verify FILE --cafile ANCHORS [--url URL --log-key KEY]\n"
	      "  check   自己の電子証明書の有効性確認 (validity check)\n"
	      "  revoke  自己の電子証明書の失効申請 (revocation)\n"
	      "  receipt verify  受理証明書の確認 (check a receipt; receipt --help)\n"
	      "The PIN comes from --pin-file, else $MADOGUCHI_PIN, else the terminal (no echo).\n"
	      "Exit status: 0 accepted (revoke) / valid (check); see madoguchi-client(1).\n",
	      f);
}

/* Returns -1 to run, else the exit status. */
static int parse_args(int argc, char **argv, struct args *a)
{
	enum {
		O_URL = 256,
		O_CACERT,
		O_CERT,
		O_KEY,
		O_P12,
		O_MODULE,
		O_TOKEN,
		O_KEYLABEL,
		O_REASON,
		O_LANG,
		O_PINFILE,
		O_TIMEOUT,
		O_NOTICE_OUT,
		O_RECEIPT_OUT
	};
	static const struct option opts[] = {
		{ "url", required_argument, NULL, O_URL },
		{ "cacert", required_argument, NULL, O_CACERT },
		{ "cert", required_argument, NULL, O_CERT },
		{ "key", required_argument, NULL, O_KEY },
		{ "pkcs12", required_argument, NULL, O_P12 },
		{ "pkcs11-module", required_argument, NULL, O_MODULE },
		{ "token-label", required_argument, NULL, O_TOKEN },
		{ "key-label", required_argument, NULL, O_KEYLABEL },
		{ "reason", required_argument, NULL, O_REASON },
		{ "lang", required_argument, NULL, O_LANG },
		{ "pin-file", required_argument, NULL, O_PINFILE },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "notice-out", required_argument, NULL, O_NOTICE_OUT },
		{ "receipt-out", required_argument, NULL, O_RECEIPT_OUT },
		{ "yes", no_argument, NULL, 'y' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c, sources = 0;

	memset(a, 0, sizeof(*a));
	a->cred.token_label = MDG_TOKEN_LABEL_DEFAULT;
	a->cred.key_label = MDG_KEY_LABEL_DEFAULT;
	a->timeout = 60;
	while ((c = getopt_long(argc, argv, "yjhV", opts, NULL)) != -1) {
		switch (c) {
		case O_URL:
			a->url = optarg;
			break;
		case O_CACERT:
			a->cacert = optarg;
			break;
		case O_CERT:
			a->cred.cert_file = optarg;
			break;
		case O_KEY:
			a->cred.key_file = optarg;
			break;
		case O_P12:
			a->cred.pkcs12_file = optarg;
			break;
		case O_MODULE:
			a->cred.module = optarg;
			break;
		case O_TOKEN:
			a->cred.token_label = optarg;
			break;
		case O_KEYLABEL:
			a->cred.key_label = optarg;
			break;
		case O_REASON:
			a->reason = optarg;
			break;
		case O_PINFILE:
			a->pin.file = optarg;
			break;
		case O_NOTICE_OUT:
			a->notice_out = optarg;
			break;
		case O_RECEIPT_OUT:
			a->receipt_out = optarg;
			break;
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
		case 'y':
			a->yes = 1;
			break;
		case 'j':
			a->json = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			puts("madoguchi-client " VERSION);
			return 0;
		default:
			usage(stderr);
			return mdg_exit_for_state(MDG_CS_USAGE);
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
	if (a->receipt_out != NULL && a->proc != MDG_PROC_REVOCATION) {
		fprintf(stderr, "madoguchi-client: --receipt-out is for revoke only\n");
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

/* One run of the procedure: what it holds, owned here and released by
 * session_free. */
struct session {
	const struct args *a;
	struct mdg_ui *ui;
	struct mdg_submit_opts so;
	struct mdg_cred_error e; /* what the card or the file said */
	struct mdg_msg err;      /* what the window, the URL or the PIN source said */
	struct mdg_creds *c;
	struct mdg_client_form form;
	struct mdg_http_answer ans;
	int have_answer; /* ans is the window's contract answer to show */
	const char *reason;
	int reason_asked; /* reason came from the prompt (asked again after "back") */
	unsigned char *der;
	size_t der_len;
	char nonce[MDG_FORM_NONCE_MAX];
	int shown; /* the state's screen is already on the terminal */
};

/* Back to the import step: the card is read again (the manual's
 * 取込み画面に戻る); the answer and the signature go. */
static void session_release(struct session *s)
{
	OPENSSL_free(s->der);
	s->der = NULL;
	s->der_len = 0;
	mdg_client_form_clear(&s->form);
	mdg_creds_free(s->c);
	s->c = NULL;
	mdg_http_answer_free(&s->ans);
	s->have_answer = 0;
	mdg_cred_error_clear(&s->e);
	memset(&s->err, 0, sizeof(s->err));
	if (s->reason_asked) {
		s->reason = NULL;
		s->reason_asked = 0;
	}
}

/* The ログイン dialog: asks for the PIN until it is right, the holder gives
 * up, or the token says locked. A PIN the card cannot have (not 6-16
 * letters and digits) is refused here and never reaches the card. */
static enum mdg_cstate login(struct session *s)
{
	const struct args *a = s->a;
	const struct mdg_ui *ui = s->ui;
	char pin[MDG_PIN_MAX];
	int interactive;
	enum mdg_cstate st;

	for (;;) {
		mdg_screen_login(ui, a->cred.kind == MDG_CRED_PKCS11   ? a->cred.token_label
				     : a->cred.kind == MDG_CRED_PKCS12 ? a->cred.pkcs12_file
								       : a->cred.key_file);
		fflush(ui->out);
		if (mdg_pin_get(&a->pin, mdg_screen_pin_prompt(ui), pin, &interactive, &s->err) != 0) {
			OPENSSL_cleanse(pin, sizeof(pin));
			return MDG_CS_USAGE;
		}
		if (a->cred.kind == MDG_CRED_PKCS11 && !mdg_pin_form_ok(pin, &s->e.msg)) {
			s->e.ckr = 0;
			st = MDG_CS_PIN_FORM;
		} else {
			st = mdg_creds_login(s->c, pin, &s->e);
		}
		OPENSSL_cleanse(pin, sizeof(pin));
		if (st == MDG_CS_OK) {
			/* an earlier wrong try says nothing about what follows */
			mdg_cred_error_clear(&s->e);
			return st;
		}
		if ((st != MDG_CS_PIN_INCORRECT && st != MDG_CS_PIN_FORM) || !interactive)
			return st;
		mdg_screen_state(ui, st, &s->e, NULL, NULL);
		if (mdg_screen_confirm(ui, MDG_Q_RETRY_PIN) != MDG_ANS_YES) {
			s->shown = 1;
			return st;
		}
	}
}

/* GET /v1/nonce: MDG_CS_OK with s->nonce, or MDG_CS_OK with have_answer
 * (the window or its proxy answered with a result: busy, serviceError, ...),
 * or the state. */
static enum mdg_cstate get_nonce(struct session *s)
{
	enum mdg_result r;
	enum mdg_cstate st;

	mdg_http_answer_free(&s->ans);
	if ((st = mdg_fetch_nonce(&s->so, s->nonce, sizeof(s->nonce), &s->ans, &s->err)) != MDG_CS_OK)
		return st;
	if (s->nonce[0] != '\0') {
		mdg_http_answer_free(&s->ans);
		return MDG_CS_OK;
	}
	if (mdg_answer_result(&s->ans, &r)) {
		s->have_answer = 1;
		return MDG_CS_OK;
	}
	return MDG_CS_BAD_ANSWER;
}

/* The form with the current nonce, signed into s->der. */
static enum mdg_cstate build_and_sign(struct session *s)
{
	OPENSSL_free(s->der);
	s->der = NULL;
	if (mdg_client_form_build(&s->form, s->a->proc, s->nonce, s->reason) != 0) {
		mdg_msg_set(&s->e.msg, MDG_MSG_OOM, 0, NULL, NULL);
		return MDG_CS_IMPORT_ERROR;
	}
	if (mdg_sign_form(mdg_creds_cert(s->c), mdg_creds_key(s->c), s->form.json, s->form.json_len, &s->der,
			  &s->der_len) != 0)
		return mdg_creds_classify_failure(s->c, &s->e);
	return MDG_CS_OK;
}

static enum mdg_cstate ask(const struct session *s, enum mdg_question q, int *back)
{
	if (s->a->yes)
		return MDG_CS_OK;
	switch (mdg_screen_confirm(s->ui, q)) {
	case MDG_ANS_YES:
		return MDG_CS_OK;
	case MDG_ANS_BACK:
		*back = 1;
		return MDG_CS_OK;
	case MDG_ANS_NO:
		break;
	}
	return MDG_CS_CANCELLED;
}

/* From the import step (取込み) to the signature and the send question:
 * MDG_CS_OK with s->der ready to send, or with have_answer (the window
 * answered the nonce request with a result), or with *back set (the
 * holder chose 取込み画面に戻る), or the state. */
static enum mdg_cstate read_and_sign(struct session *s, int *back)
{
	const struct args *a = s->a;
	const struct mdg_ui *ui = s->ui;
	const char *why = NULL;
	enum mdg_cstate st;
	char src[512];

	*back = 0;
	mdg_screen_import(ui, source_text(a, src, sizeof(src)));
	if ((st = ask(s, MDG_Q_CONTINUE, back)) != MDG_CS_OK)
		return st;
	/* the nonce first: a window that cannot be reached costs no PIN try */
	if ((st = get_nonce(s)) != MDG_CS_OK || s->have_answer)
		return st;
	if ((st = mdg_creds_open(&a->cred, &s->c, &s->e)) != MDG_CS_OK)
		return st;
	/* ログイン, where the token requires it before the certificate is read */
	if (mdg_creds_needs_pin(s->c) && (st = login(s)) != MDG_CS_OK)
		return st;
	if ((st = mdg_creds_read(s->c, &s->e)) != MDG_CS_OK)
		return st;
	if (mdg_client_form_from_cert(mdg_creds_cert(s->c), &s->form, &why) != 0) {
		mdg_msg_set(&s->e.msg, MDG_MSG_NO_FACTS, 0, NULL, why);
		return MDG_CS_IMPORT_ERROR;
	}
	if (mdg_client_cert_expired(&s->form, time(NULL)))
		return MDG_CS_CERT_EXPIRED;
	if (a->proc == MDG_PROC_REVOCATION && s->reason == NULL) {
		if (a->yes) {
			s->reason = "unspecified";
		} else {
			if ((s->reason = mdg_screen_reason(ui)) == NULL)
				return MDG_CS_CANCELLED;
			s->reason_asked = 1;
		}
	}
	if (mdg_client_form_build(&s->form, a->proc, s->nonce, s->reason) != 0) {
		mdg_msg_set(&s->e.msg, MDG_MSG_OOM, 0, NULL, NULL);
		return MDG_CS_IMPORT_ERROR;
	}
	/* 取込み情報の確認, then 署名確認 */
	mdg_screen_form(ui, &s->form, s->reason);
	if ((st = ask(s, MDG_Q_SIGN, back)) != MDG_CS_OK || *back)
		return st;
	mdg_screen_sign_confirm(ui);
	if ((st = ask(s, MDG_Q_AGREE, back)) != MDG_CS_OK || *back)
		return st;
	if ((st = build_and_sign(s)) != MDG_CS_OK)
		return st;
	/* 送信確認 */
	mdg_screen_send_confirm(ui);
	return ask(s, MDG_Q_SEND, back);
}

/* POST the signed request; MDG_CS_OK with the answer in s->ans. */
static enum mdg_cstate send_request(struct session *s)
{
	mdg_http_answer_free(&s->ans);
	mdg_screen_sending(s->ui);
	s->ui->sent = 1;
	return mdg_post_request(&s->so, s->a->proc, s->der, s->der_len, &s->ans, &s->err);
}

/* badNonce: the form took too long between its nonce and its arrival. The
 * client starts again by itself, once: a fresh nonce, the form signed again
 * (a token keeps its session, so the PIN is asked again only if the token
 * wants it), sent again. */
static enum mdg_cstate start_again(struct session *s)
{
	enum mdg_cstate st;

	mdg_screen_restart(s->ui, &s->ans);
	s->ui->sent = 0;
	if ((st = get_nonce(s)) != MDG_CS_OK || s->have_answer)
		return st;
	if (mdg_creds_needs_pin(s->c) && (st = login(s)) != MDG_CS_OK)
		return st;
	if ((st = build_and_sign(s)) != MDG_CS_OK)
		return st;
	return send_request(s);
}

/* Where the state's 詳細 line comes from: the window / URL / PIN source,
 * or the card / file. */
static const struct mdg_msg *state_detail(const struct session *s, enum mdg_cstate st)
{
	switch (st) {
	case MDG_CS_USAGE:
	case MDG_CS_NETWORK:
	case MDG_CS_TLS:
	case MDG_CS_BAD_ANSWER:
		return &s->err;
	default:
		return NULL;
	}
}

static int run(const struct args *a, struct mdg_ui *ui)
{
	struct session s = {
		.a = a,
		.ui = ui,
		.so = { .base_url = a->url, .cacert = a->cacert, .timeout = a->timeout, .lang = a->lang },
		.reason = a->reason,
	};
	enum mdg_cstate st = MDG_CS_OK;
	enum mdg_result r = MDG_SERVICE_ERROR;
	char *notice = NULL;
	struct mdg_msg receipt_err = { 0 };
	int status, back;

	mdg_cred_error_clear(&s.e);
	if (mdg_submit_check_url(a->url, &s.err) != 0) {
		st = MDG_CS_USAGE;
		goto out;
	}
	mdg_screen_header(ui);
	for (;;) {
		st = read_and_sign(&s, &back);
		if (st != MDG_CS_OK || !back)
			break;
		session_release(&s);
	}
	if (st != MDG_CS_OK)
		goto out;
	if (!s.have_answer) {
		if ((st = send_request(&s)) != MDG_CS_OK)
			goto out;
		if (mdg_answer_result(&s.ans, &r) && r == MDG_BAD_NONCE && (st = start_again(&s)) != MDG_CS_OK)
			goto out;
	}
	/* --json: the window's answer byte for byte when it is the contract's;
	 * anything else is told as a client-side state below */
	if (a->json && mdg_answer_result(&s.ans, &r)) {
		fwrite(s.ans.body, 1, s.ans.len, stdout);
		fflush(stdout);
	}
	/* --receipt-out: kept before the notice, which says where it is */
	if (a->receipt_out != NULL && mdg_answer_result(&s.ans, &r) &&
	    (r == MDG_ACCEPTED || r == MDG_REVOCATION_ACCEPTED) &&
	    mdg_receipt_save(&s.ans, a->receipt_out, &receipt_err) == 0)
		ui->receipt_path = a->receipt_out;
	if (mdg_screen_notice(ui, &s.ans, &s.form, &r, &notice) != 0) {
		mdg_msg_set(&s.err, MDG_MSG_ANSWER, s.ans.status, "", NULL);
		st = MDG_CS_BAD_ANSWER;
		goto out;
	}
	if (receipt_err.id != MDG_MSG_NONE)
		mdg_screen_warning(ui, &receipt_err);
	/* --notice-out: the notice as shown (it names the holder) */
	if (a->notice_out != NULL &&
	    mdg_write_private_file(a->notice_out, notice, strlen(notice), MDG_MSG_NOTICE_SAVE, &s.err) != 0)
		mdg_screen_warning(ui, &s.err);
out:
	if (st != MDG_CS_OK) {
		const struct mdg_cred_error *e = st == MDG_CS_CANCELLED || st == MDG_CS_CERT_EXPIRED ? NULL : &s.e;
		if (!s.shown)
			mdg_screen_state(ui, st, e, &s.form, state_detail(&s, st));
		if (a->json) {
			char *j = mdg_state_json(ui, st, e, &s.form, state_detail(&s, st));
			if (j != NULL)
				printf("%s\n", j);
			free(j);
			fflush(stdout);
		}
	}
	status = st != MDG_CS_OK ? mdg_exit_for_state(st) : mdg_exit_for_result(r);
	fflush(ui->out);
	free(notice);
	session_release(&s);
	return status;
}

int main(int argc, char **argv)
{
	struct args a;
	int status;

	if (argc >= 2 && strcmp(argv[1], "receipt") == 0)
		return mdg_receipt_command(argc - 1, argv + 1);
	status = parse_args(argc, argv, &a);

	if (status >= 0)
		return status;
	struct mdg_ui ui = {
		.out = a.json ? stderr : stdout,
		.in = stdin,
		.lang = a.lang,
		.proc = a.proc,
		.card = a.cred.kind == MDG_CRED_PKCS11,
	};
	mdg_submit_global_init();
	status = run(&a, &ui);
	mdg_submit_global_cleanup();
	return status;
}
