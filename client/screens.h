/* Every screen the holder sees, in Japanese and English (--lang): the
 * manual's steps (取込み, ログイン, 取込み情報の確認, 署名確認, 送信確認, the
 * result notice) and its client-side errors. Texts live here only. */
#ifndef MDG_CLIENT_SCREENS_H
#define MDG_CLIENT_SCREENS_H

#include <stdio.h>

#include "credentials.h"
#include "facts.h"
#include "result.h"
#include "status.h"
#include "submit.h"

struct mdg_ui {
	FILE *out;		/* stdout, or stderr when --json owns stdout */
	FILE *in;		/* where confirmations are read (stdin) */
	enum mdg_lang lang;
	enum mdg_procedure proc;
};

void mdg_screen_header(const struct mdg_ui *ui);
void mdg_screen_import(const struct mdg_ui *ui, const char *source);
const char *mdg_screen_pin_prompt(const struct mdg_ui *ui);
void mdg_screen_login(const struct mdg_ui *ui, const char *token_label);
void mdg_screen_form(const struct mdg_ui *ui, const struct mdg_client_form *f);
void mdg_screen_sign_confirm(const struct mdg_ui *ui);
void mdg_screen_send_confirm(const struct mdg_ui *ui);
void mdg_screen_sending(const struct mdg_ui *ui);

enum mdg_question { MDG_Q_CONTINUE, MDG_Q_SIGN, MDG_Q_AGREE, MDG_Q_SEND, MDG_Q_RETRY_PIN };

/* Asks the question on ui->out and reads the answer from ui->in: 1 for yes
 * (y, yes, はい), 0 otherwise (also at end of input). */
int mdg_screen_confirm(const struct mdg_ui *ui, enum mdg_question q);

/* The screen of a client-side state; e (may be NULL) adds the token's word
 * (CKR_..., tries left); detail (may be NULL) a technical line. */
void mdg_screen_state(const struct mdg_ui *ui, enum mdg_cstate s, const struct mdg_cred_error *e,
		      const struct mdg_client_form *f, const char *detail);

/* The result notice from the window's answer (title and detail in the
 * chosen language from i18n, then the result's own members). Sets *r.
 * Returns 0, or -1 if the answer is not one of the contract's. */
int mdg_screen_notice(const struct mdg_ui *ui, const struct mdg_http_answer *a, enum mdg_result *r);

#endif
