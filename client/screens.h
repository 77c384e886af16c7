/* Every screen the holder sees, in Japanese and English (--lang): the
 * manual's steps (取込み, ログイン, 取込み情報の確認, 署名確認, 送信確認, the
 * result notice) and its client-side errors. Texts live here only. */
#ifndef MDG_CLIENT_SCREENS_H
#define MDG_CLIENT_SCREENS_H

#include <stdio.h>

#include "credentials.h"
#include "facts.h"
#include "message.h"
#include "result.h"
#include "status.h"
#include "submit.h"

struct mdg_ui {
	FILE *out; /* stdout, or stderr when --json owns stdout */
	FILE *in;  /* where confirmations are read (stdin) */
	enum mdg_lang lang;
	enum mdg_procedure proc;
	int card;                 /* the source is an IC card (PKCS#11 token), not a file */
	int sent;                 /* the request has gone out (a failure now may have reached the window) */
	const char *receipt_path; /* --receipt-out, once the receipt is saved there (the notice says so) */
};

void mdg_screen_header(const struct mdg_ui *ui);
void mdg_screen_import(const struct mdg_ui *ui, const char *source);
const char *mdg_screen_pin_prompt(const struct mdg_ui *ui);
/* what: the token's label, or the file that needs its password */
void mdg_screen_login(const struct mdg_ui *ui, const char *what);
/* reason: revocation only (may be NULL) */
void mdg_screen_form(const struct mdg_ui *ui, const struct mdg_client_form *f, const char *reason);
void mdg_screen_sign_confirm(const struct mdg_ui *ui);
void mdg_screen_send_confirm(const struct mdg_ui *ui);
void mdg_screen_sending(const struct mdg_ui *ui);

/* badNonce: the form took too long; the client starts again by itself.
 * a: the window's answer (its title is shown). */
void mdg_screen_restart(const struct mdg_ui *ui, const struct mdg_http_answer *a);

enum mdg_question { MDG_Q_CONTINUE, MDG_Q_SIGN, MDG_Q_AGREE, MDG_Q_SEND, MDG_Q_RETRY_PIN };
enum mdg_answer { MDG_ANS_NO = 0, MDG_ANS_YES, MDG_ANS_BACK };

/* Asks the question on ui->out and reads the answer from ui->in: YES for
 * y, yes, はい; BACK for b, back, 戻る (取込み画面に戻る: offered at the
 * form, signature and send questions); NO otherwise, also at end of input. */
enum mdg_answer mdg_screen_confirm(const struct mdg_ui *ui, enum mdg_question q);

/* The reason of a revocation (DESIGN.md "reason"): a number or a name, an
 * empty line for the default "unspecified". Returns the name (static), or
 * NULL at end of input or after three answers that are none of them. */
const char *mdg_screen_reason(const struct mdg_ui *ui);

/* The screen of a client-side state; e (may be NULL) adds the token's word
 * (CKR_..., tries left); detail (may be NULL) says what happened. */
void mdg_screen_state(const struct mdg_ui *ui, enum mdg_cstate s, const struct mdg_cred_error *e,
		      const struct mdg_client_form *f, const struct mdg_msg *detail);

/* The same state as one JSON object for --json (malloc'd, caller frees;
 * NULL without memory): {"result":"clientError","reason":<state name>,
 * "procedure":..,"exitStatus":N,"title":..,"detail":..[,"cause":..]}. */
char *mdg_state_json(const struct mdg_ui *ui, enum mdg_cstate s, const struct mdg_cred_error *e,
		     const struct mdg_client_form *f, const struct mdg_msg *detail);

/* The result notice from the window's answer (title and detail in the
 * chosen language from i18n, else the contract's own; then the result's
 * members: dates in wareki, the receipt number grouped for reading aloud,
 * the applicant's name from the answer or else the form f, may be NULL).
 * Sets *r and, if text is not NULL, *text to the notice as shown
 * (malloc'd) for --notice-out. Returns 0, or -1 if the answer is not one
 * of the contract's. */
int mdg_screen_notice(const struct mdg_ui *ui, const struct mdg_http_answer *a, const struct mdg_client_form *f,
		      enum mdg_result *r, char **text);

/* `receipt verify`: the receipt as the acceptance notice shows it
 * (screens_receipt.c); NULL members are left out. */
struct mdg_receipt_view {
	const char *receipt_id, *issuer, *serial, *accepted_at, *effective_from, *reason, *request_sha256;
	long long log_index;
	const char *signer; /* the receipt certificate's subject */
	int online;         /* the log was checked */
	unsigned long long tree_size;
	const char *log_name;
};
void mdg_screen_receipt(const struct mdg_ui *ui, const struct mdg_receipt_view *v);
/* A failure of `receipt verify`: its screen, or with json its object
 * (malloc'd; NULL without memory). detail may be NULL. */
void mdg_screen_receipt_failure(const struct mdg_ui *ui, enum mdg_rv v, const struct mdg_msg *detail);
char *mdg_receipt_failure_json(const struct mdg_ui *ui, enum mdg_rv v, const struct mdg_msg *detail);

/* A warning line under the notice (e.g. it could not be saved). */
void mdg_screen_warning(const struct mdg_ui *ui, const struct mdg_msg *m);

#endif
