/* The client's screens of a credential's state (docs/client.md): titles,
 * bodies and causes, as text and as JSON. */
#include "screens.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "form.h"
#include "timefmt.h"

#include "screens_int.h"

/* ---------------------------------------------------------------- states */

static void state_title(const struct mdg_ui *ui, enum mdg_cstate s, char *out, size_t n)
{
	const char *t = "";

	switch (s) {
	case MDG_CS_OK:
	case MDG_CS_COUNT:
		break;
	case MDG_CS_USAGE:
		t = L(ui, "利用方法の誤り", "Usage error");
		break;
	case MDG_CS_CANCELLED:
		t = STOP(ui);
		break;
	case MDG_CS_CARD_NOT_READY:
		t = L(ui, "ICカード準備エラー", "IC card not ready");
		break;
	case MDG_CS_UNEXPECTED:
		t = L(ui, "予期しないエラー", "Unexpected error");
		break;
	case MDG_CS_PIN_INCORRECT:
		t = L(ui, "パスワード確認失敗", "Wrong password");
		break;
	case MDG_CS_PIN_LOCKED:
		t = L(ui, "パスワードロック", "Password locked");
		break;
	case MDG_CS_PIN_FORM:
		t = L(ui, "パスワードの形式エラー", "Password not in the card's form");
		break;
	case MDG_CS_IMPORT_ERROR:
		snprintf(out, n, L(ui, "%sの取込みエラー", "Error reading %s"), INFO(ui));
		return;
	case MDG_CS_CERT_EXPIRED:
		/* the manual's 2.2.9 / 3.2.9, the title the window's "expired" has */
		t = mdg_result_title(MDG_EXPIRED, ui->proc, ui->lang);
		break;
	case MDG_CS_NETWORK:
		t = L(ui, "オンライン窓口に接続できません", "Cannot reach the online window");
		break;
	case MDG_CS_TLS:
		t = L(ui, "オンライン窓口のサーバ証明書を確認できません",
		      "The online window's server certificate could not be verified");
		break;
	case MDG_CS_BAD_ANSWER:
		t = L(ui, "オンライン窓口の応答エラー", "Unexpected answer from the online window");
		break;
	}
	snprintf(out, n, "%s", t);
}

static void tries_lines(const struct mdg_ui *ui, FILE *o, const struct mdg_cred_error *e)
{
	if (e == NULL)
		return;
	if (e->tries_left == 1)
		fprintf(o, "%s\n",
			L(ui, "残り回数: あと1回です。次に間違えるとICカードがロックされます。",
			  "Tries left: 1. One more wrong password locks the IC card."));
	else if (e->count_low)
		fprintf(o, "%s\n",
			L(ui, "ICカードは残り回数が少なくなっていると報告しています。",
			  "The IC card reports that few tries are left."));
	else
		fprintf(o, "%s\n",
			L(ui, "ICカードは残り回数を報告していません。",
			  "The IC card does not report how many tries are left."));
}

/* What the state means and what to do, without the technical line. */
static void state_body(const struct mdg_ui *ui, enum mdg_cstate s, const struct mdg_cred_error *e,
		       const struct mdg_client_form *f, FILE *o)
{
	switch (s) {
	case MDG_CS_OK:
	case MDG_CS_COUNT:
	case MDG_CS_USAGE:
		break;
	case MDG_CS_CANCELLED:
		fprintf(o,
			L(ui, "%sを中止しました。オンライン窓口には何も送信していません。\n",
			  "The %s has been cancelled. Nothing has been sent to the online window.\n"),
			ACT(ui));
		break;
	case MDG_CS_CARD_NOT_READY:
		fprintf(o,
			L(ui,
			  "ICカードリーダライタ(PKCS#11モジュール)が見つからないか、%"
			  "sを行いたい電子証明書が格納されたICカードが挿入されていません。\n"
			  "ICカードリーダライタをパソコンに接続して電源を確認し、ICカードを挿入してから、もう一度はじめ"
			  "からやり直してください。\n",
			  "The IC card reader (PKCS#11 module) was not found, or the IC card holding the certificate "
			  "for the %s is not inserted.\n"
			  "Connect the IC card reader, check that it is on, insert the IC card and start again from "
			  "the beginning.\n"),
			ACT(ui));
		break;
	case MDG_CS_UNEXPECTED:
		fprintf(o, "%s\n",
			L(ui,
			  "ICカードにアクセスしている途中でエラーが発生しました(ICカードが抜かれた場合など)。"
			  "ICカードをICカードリーダライタに挿入し、もう一度はじめからやり直してください。",
			  "An error occurred while the IC card was being accessed (for example, the card was removed). "
			  "Insert the IC card into the reader and start again from the beginning."));
		break;
	case MDG_CS_PIN_INCORRECT:
		if (!ui->card) {
			fprintf(o, "%s\n",
				L(ui,
				  "入力されたファイルのパスワードが正しくありません。パスワードを確かめて、もう一度はじ"
				  "めからやり直してください。",
				  "The password entered for the file is not correct. "
				  "Check the password and start again from the beginning."));
			break;
		}
		fprintf(o, "%s\n",
			L(ui,
			  "入力されたパスワードが正しくありません。続けて5回間違えるとICカードがロックされて使用できな"
			  "くなりますので、ご注意ください。",
			  "The password entered is not correct. Five wrong passwords in a row lock the IC card, "
			  "and it can then no longer be used."));
		if (e != NULL && e->ckr != 0) {
			char m[512];
			scr_msg_text(ui, &e->msg, m, sizeof(m));
			fprintf(o, L(ui, "ICカードの応答: %s\n", "The token says: %s\n"), m);
		}
		tries_lines(ui, o, e);
		break;
	case MDG_CS_PIN_FORM:
		fprintf(o, "%s\n",
			L(ui,
			  "公的個人認証サービスのパスワード(署名用電子証明書のパスワード)"
			  "は、英数字6文字以上16文字以下です。"
			  "入力されたパスワードはこの形式ではないため、ICカードには渡していません("
			  "間違えた回数には数えられません)。"
			  "正しいパスワードで、もう一度やり直してください。",
			  "The JPKI signing password is 6 to 16 letters and digits. The password entered is not of "
			  "that form, "
			  "so it was not given to the IC card (it does not count as a wrong try). "
			  "Please try again with the right password."));
		break;
	case MDG_CS_PIN_LOCKED:
		fprintf(o,
			L(ui,
			  "間違ったパスワードが続けて入力されたため、パスワードロックがかかっています。\n"
			  "パスワードロックがかかった状態で、オンラインによる電子証明書の%sを行うことはできません。\n"
			  "パスワードロックを解除するためには、電子証明書を発行した市区町村の窓口で、パスワードロック解"
			  "除の手続きを行ってください。"
			  "また、パスワードを忘れてしまった場合は、同時に窓口でパスワードを初期値に戻す手続きを行ってく"
			  "ださい。\n",
			  "The password is locked because wrong passwords were entered in a row.\n"
			  "While the password is locked, the online %s of your certificate is not possible.\n"
			  "To unlock it, go to the counter of the municipal office that issued your certificate. "
			  "If you have forgotten the password, ask there at the same time to have it reset.\n"),
			ACT(ui));
		break;
	case MDG_CS_IMPORT_ERROR:
		if (ui->card)
			fprintf(o,
				L(ui,
				  "%s及び電子証明書をICカードから取込むことができませんでした。"
				  "ICカードが正しく挿入されているか確認し、もう一度はじめからやり直してください。\n",
				  "%s and the certificate could not be read from the IC card. "
				  "Check that the IC card is inserted correctly and start again from the beginning.\n"),
				INFO_CAP(ui));
		else
			fprintf(o,
				L(ui,
				  "%s及び電子証明書をファイルから取込むことができませんでした。"
				  "ファイルの名前と中身を確認し、もう一度はじめからやり直してください。\n",
				  "%s and the certificate could not be read from the file. "
				  "Check the file's name and contents and start again from the beginning.\n"),
				INFO_CAP(ui));
		break;
	case MDG_CS_CERT_EXPIRED:
		if (f != NULL)
			fprintf(o, L(ui, "有効期限: %s\n", "Valid until: %s\n"), f->not_after);
		if (REV(ui))
			fprintf(o,
				L(ui,
				  "%sの電子証明書は有効期限が切れています。有効期限の切れた電子証明書について失効申請を"
				  "行う必要はありません。"
				  "オンライン窓口には何も送信していません。\n",
				  "The certificate in %s has expired. There is no need to request the revocation of "
				  "an expired certificate. Nothing has been sent to the online window.\n"),
				WHERE(ui));
		else
			fprintf(o,
				L(ui,
				  "%sの電子証明書は有効期限が切れています。有効期限の切れた電子証明書は有効ではありませ"
				  "ん。"
				  "新しい電子証明書が必要な場合は、お住まいの市区町村の窓口で発行を申請してください。"
				  "オンライン窓口には何も送信していません。\n",
				  "The certificate in %s has expired; an expired certificate is not valid. "
				  "If you need a new certificate, apply for one at the counter of your municipal "
				  "office. "
				  "Nothing has been sent to the online window.\n"),
				WHERE(ui));
		break;
	case MDG_CS_NETWORK:
		fprintf(o, "%s\n",
			L(ui,
			  "オンライン窓口に接続できませんでした。接続先のURLとネットワークを確認し、"
			  "しばらく経ってからもう一度はじめからやり直してください。",
			  "The online window could not be reached. Check the URL and the network and "
			  "start again from the beginning after a while."));
		if (ui->sent && REV(ui))
			fprintf(o, "%s\n",
				L(ui,
				  "送信した失効申請がオンライン窓口に届いたかどうかは分かりません。もう一度はじめからや"
				  "り直すと、"
				  "受理済みの場合はその受理番号が表示されます。",
				  "Whether the revocation request sent reached the online window is not known. If you "
				  "start again, "
				  "the window tells you the receipt number if it has already been accepted."));
		break;
	case MDG_CS_TLS:
		fprintf(o, "%s\n",
			L(ui,
			  "接続先のサーバ証明書を検証できなかったため、接続先がオンライン窓口であることを確認できません"
			  "でした。"
			  "オンライン窓口には何も送信していません。\n"
			  "接続先のURLが正しいか確認してください。URLが正しいのにこの画面が表示される場合は、"
			  "接続先がオンライン窓口ではないおそれがありますので、送信しないでください。",
			  "The server certificate could not be verified, so the server could not be confirmed as the "
			  "online window. "
			  "Nothing has been sent to it.\n"
			  "Check that the URL is right. If it is and this screen still appears, the server may not be "
			  "the "
			  "online window: do not send anything to it."));
		break;
	case MDG_CS_BAD_ANSWER:
		fprintf(o, "%s\n",
			L(ui,
			  "オンライン窓口からの応答を理解できませんでした。しばらく経ってから、もう一度はじめからやり直"
			  "してください。",
			  "The answer of the online window could not be understood. "
			  "Please start again from the beginning after a while."));
		break;
	}
}

/* The technical line: what exactly happened (the token's word, the file,
 * the URL), in the screen's language; prefix set to its label. */
static void state_cause(const struct mdg_ui *ui, enum mdg_cstate s, const struct mdg_cred_error *e,
			const struct mdg_msg *detail, char *out, size_t n, const char **prefix)
{
	const struct mdg_msg *m = detail;

	out[0] = '\0';
	*prefix = L(ui, "詳細: ", "Detail: ");
	/* a cancel says nothing about an earlier try; the wrong-PIN screen has
	 * the token's word in its body */
	if (s == MDG_CS_CANCELLED || (s == MDG_CS_PIN_INCORRECT && ui->card && e != NULL && e->ckr != 0))
		return;
	if (m == NULL || m->id == MDG_MSG_NONE)
		m = e != NULL ? &e->msg : NULL;
	if (m == NULL || m->id == MDG_MSG_NONE)
		return;
	if (m->id == MDG_MSG_CKR && ui->card)
		*prefix = L(ui, "ICカードの応答: ", "The token says: ");
	scr_msg_text(ui, m, out, n);
}

void mdg_screen_state(const struct mdg_ui *ui, enum mdg_cstate s, const struct mdg_cred_error *e,
		      const struct mdg_client_form *f, const struct mdg_msg *detail)
{
	char head[256], cause[1024];
	const char *prefix;

	if (s == MDG_CS_OK)
		return;
	state_title(ui, s, head, sizeof(head));
	scr_title(ui, head);
	if (s != MDG_CS_USAGE)
		scr_proc_line(ui);
	state_body(ui, s, e, f, ui->out);
	state_cause(ui, s, e, detail, cause, sizeof(cause), &prefix);
	if (cause[0])
		fprintf(ui->out, "%s%s\n", prefix, cause);
}

char *mdg_state_json(const struct mdg_ui *ui, enum mdg_cstate s, const struct mdg_cred_error *e,
		     const struct mdg_client_form *f, const struct mdg_msg *detail)
{
	char head[256], cause[1024], *body = NULL, *out = NULL;
	const char *prefix;
	size_t body_len = 0;
	FILE *o = open_memstream(&body, &body_len);
	json_t *j = json_object();

	if (o == NULL || j == NULL)
		goto done;
	state_title(ui, s, head, sizeof(head));
	state_body(ui, s, e, f, o);
	if (fclose(o) != 0) {
		o = NULL;
		goto done;
	}
	o = NULL;
	while (body_len > 0 && body[body_len - 1] == '\n')
		body[--body_len] = '\0';
	state_cause(ui, s, e, detail, cause, sizeof(cause), &prefix);
	json_object_set_new(j, "result", json_string("clientError"));
	json_object_set_new(j, "reason", json_string(mdg_cstate_name(s)));
	if (mdg_procedure_name(ui->proc) != NULL)
		json_object_set_new(j, "procedure", json_string(mdg_procedure_name(ui->proc)));
	json_object_set_new(j, "exitStatus", json_integer(mdg_exit_for_state(s)));
	json_object_set_new(j, "title", json_string(head));
	json_object_set_new(j, "detail", json_string(body));
	if (cause[0])
		json_object_set_new(j, "cause", json_string(cause));
	out = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
done:
	if (o != NULL)
		fclose(o);
	free(body);
	json_decref(j);
	return out;
}

void mdg_screen_warning(const struct mdg_ui *ui, const struct mdg_msg *m)
{
	char text[1024];

	scr_msg_text(ui, m, text, sizeof(text));
	if (text[0])
		fprintf(ui->out, "%s%s\n", L(ui, "注意: ", "Warning: "), text);
}
