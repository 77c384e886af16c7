#include "screens.h"

#include <string.h>
#include <strings.h>

#include <jansson.h>

#define RULE "------------------------------------------------------------\n"

/* One text in both languages; the screen prints the chosen one. */
#define L(ui, ja, en) ((ui)->lang == MDG_LANG_EN ? (en) : (ja))
/* The words that differ between the two procedures (manual 2.x / 3.x). */
#define REV(ui) ((ui)->proc == MDG_PROC_REVOCATION)
#define PROC_NAME(ui) \
	L(ui, REV(ui) ? "自己の電子証明書の失効申請" : "自己の電子証明書の有効性確認", \
	  REV(ui) ? "Revocation of your own certificate" : "Validity check of your own certificate")
#define ACT(ui) L(ui, REV(ui) ? "失効申請" : "有効性確認", REV(ui) ? "revocation request" : "validity check")
#define DOC(ui) \
	L(ui, REV(ui) ? "失効申請書" : "有効性確認申請書", \
	  REV(ui) ? "revocation request form" : "validity check request form")
#define INFO(ui) \
	L(ui, REV(ui) ? "申請に必要な情報" : "確認に必要な情報", \
	  REV(ui) ? "the information needed for the request" : "the information needed for the check")
#define STOP(ui) L(ui, REV(ui) ? "申請中止" : "確認中止", REV(ui) ? "Cancel the request" : "Cancel the check")

static void title(const struct mdg_ui *ui, const char *t)
{
	fprintf(ui->out, "\n" RULE "%s\n" RULE, t);
}

static void proc_line(const struct mdg_ui *ui)
{
	fprintf(ui->out, "%s%s\n\n", L(ui, "手続名：", "Procedure: "), PROC_NAME(ui));
}

void mdg_screen_header(const struct mdg_ui *ui)
{
	title(ui, L(ui, "公的個人認証サービス オンライン窓口", "JPKI Online Window"));
	proc_line(ui);
}

void mdg_screen_import(const struct mdg_ui *ui, const char *source)
{
	char head[160];

	snprintf(head, sizeof(head), L(ui, "%sの取込み", "Reading %s"), INFO(ui));
	title(ui, head);
	fprintf(ui->out,
		L(ui, "ICカードリーダライタの電源を確認し、%sを行いたい電子証明書が格納されているICカードを挿入してください。\n"
		      "取込み元: %s\n",
		  "Check that the IC card reader is on and insert the IC card holding the certificate for the %s.\n"
		  "Reading from: %s\n"),
		ACT(ui), source);
}

const char *mdg_screen_pin_prompt(const struct mdg_ui *ui)
{
	return L(ui, "公的個人認証サービスのパスワード(入力は表示されません): ",
		 "JPKI signing password (not shown as you type): ");
}

void mdg_screen_login(const struct mdg_ui *ui, const char *token_label)
{
	title(ui, L(ui, "ログイン", "Log in"));
	fprintf(ui->out,
		L(ui, "公的個人認証サービスのパスワードを入力してください (トークン \"%s\")。ICカードは取り出さずにお待ちください。\n"
		      "続けて5回間違えるとICカードがロックされて使用できなくなりますので、ご注意ください。\n",
		  "Enter your JPKI signing password (token \"%s\"). Do not remove the IC card.\n"
		  "Five wrong passwords in a row lock the IC card, and it can then no longer be used.\n"),
		token_label ? token_label : "-");
}

void mdg_screen_form(const struct mdg_ui *ui, const struct mdg_client_form *f)
{
	title(ui, L(ui, "取込み情報の確認", "Confirm the information read"));
	proc_line(ui);
	fprintf(ui->out,
		L(ui, "%sを取込み、%sを作成しました。内容に誤りがなければ、%sの電子署名を作成します。\n"
		      "表示された文字に誤りがある場合は、ここで中止し、もう一度はじめからやり直してください。\n\n",
		  "%s has been read and the %s has been made. If it is correct, the %s will be signed next.\n"
		  "If anything shown is wrong, cancel here and start again from the beginning.\n\n"),
		ui->lang == MDG_LANG_EN ? (REV(ui) ? "The information needed for the request"
						    : "The information needed for the check")
					: INFO(ui),
		DOC(ui), DOC(ui));
	fprintf(ui->out, "  %s\n", L(ui, f->addressee_ja, f->addressee_en));
	fprintf(ui->out, "  %s\n\n",
		L(ui, REV(ui) ? "自己の電子証明書の失効申請を依頼します。" : "自己の電子証明書の有効性確認を依頼します。",
		  REV(ui) ? "I request the revocation of my own certificate." : "I request a validity check of my own certificate."));
	fprintf(ui->out, "  %-s%s\n", L(ui, "申請者の氏名　　　: ", "Name:          "), f->facts.name);
	fprintf(ui->out, "  %-s%s\n", L(ui, "申請者の住所　　　: ", "Address:       "), f->facts.address);
	fprintf(ui->out, "  %-s%s\n", L(ui, "申請者の性別　　　: ", "Gender:        "), f->facts.gender);
	fprintf(ui->out, "  %-s%s (%s)\n", L(ui, "申請者の生年月日　: ", "Date of birth: "), f->birth_wareki,
		f->facts.birth_date);
	fprintf(ui->out, "\n%s\n  %.*s\n",
		L(ui, "署名する申請書(このとおりの内容に電子署名します):", "The form exactly as it will be signed:"),
		(int)f->json_len, f->json);
}

void mdg_screen_sign_confirm(const struct mdg_ui *ui)
{
	title(ui, L(ui, "署名確認", "Confirm the signature"));
	fprintf(ui->out, L(ui, "%sの電子署名を作成します。\n", "The %s will now be signed.\n"), DOC(ui));
}

void mdg_screen_send_confirm(const struct mdg_ui *ui)
{
	title(ui, L(ui, "送信確認", "Confirm sending"));
	fprintf(ui->out,
		L(ui, "%s、電子署名、電子証明書をオンライン窓口へ送信します。送信すると%sを取り消すことはできません。\n",
		  "The %s, the signature and the certificate will be sent to the online window. "
		  "Once sent, the %s cannot be withdrawn.\n"),
		DOC(ui), ACT(ui));
}

void mdg_screen_sending(const struct mdg_ui *ui)
{
	fprintf(ui->out, "%s\n", L(ui, "送信しています。しばらくお待ちください…", "Sending; please wait..."));
	fflush(ui->out);
}

int mdg_screen_confirm(const struct mdg_ui *ui, enum mdg_question q)
{
	const char *text = "";
	char line[64];

	switch (q) {
	case MDG_Q_CONTINUE:
		text = L(ui, "取込みを開始しますか? [y/N] ", "Start reading? [y/N] ");
		break;
	case MDG_Q_SIGN:
		text = L(ui, "この内容で電子署名に進みますか? [y/N] ", "Go on to the signature with this form? [y/N] ");
		break;
	case MDG_Q_AGREE:
		text = L(ui, "電子署名を作成してよろしいですか? [y/N] ", "Make the signature now? [y/N] ");
		break;
	case MDG_Q_SEND:
		text = L(ui, "送信してよろしいですか? [y/N] ", "Send it now? [y/N] ");
		break;
	case MDG_Q_RETRY_PIN:
		text = L(ui, "パスワードをもう一度入力しますか? [y/N] ", "Enter the password again? [y/N] ");
		break;
	}
	fputs(text, ui->out);
	fflush(ui->out);
	if (ui->in == NULL || fgets(line, sizeof(line), ui->in) == NULL) {
		fputc('\n', ui->out);
		return 0;
	}
	line[strcspn(line, "\r\n")] = '\0';
	return strcasecmp(line, "y") == 0 || strcasecmp(line, "yes") == 0 || strcmp(line, "はい") == 0;
}

static void tries_lines(const struct mdg_ui *ui, const struct mdg_cred_error *e)
{
	if (e == NULL)
		return;
	if (e->ckr != 0)
		fprintf(ui->out, L(ui, "ICカードの応答: %s\n", "The token says: %s\n"), e->msg);
	if (e->tries_left == 1)
		fprintf(ui->out, "%s\n",
			L(ui, "残り回数: あと1回です。次に間違えるとICカードがロックされます。",
			  "Tries left: 1. One more wrong password locks the IC card."));
	else if (e->count_low)
		fprintf(ui->out, "%s\n",
			L(ui, "ICカードは残り回数が少なくなっていると報告しています。",
			  "The IC card reports that few tries are left."));
	else
		fprintf(ui->out, "%s\n",
			L(ui, "ICカードは残り回数を報告していません。", "The IC card does not report how many tries are left."));
}

void mdg_screen_state(const struct mdg_ui *ui, enum mdg_cstate s, const struct mdg_cred_error *e,
		      const struct mdg_client_form *f, const char *detail)
{
	char head[200];

	switch (s) {
	case MDG_CS_OK:
		return;
	case MDG_CS_USAGE:
		title(ui, L(ui, "利用方法の誤り", "Usage error"));
		break;
	case MDG_CS_CANCELLED:
		title(ui, STOP(ui));
		fprintf(ui->out, L(ui, "%sを中止しました。オンライン窓口には何も送信していません。\n",
				   "The %s has been cancelled. Nothing has been sent to the online window.\n"),
			ACT(ui));
		break;
	case MDG_CS_CARD_NOT_READY:
		title(ui, L(ui, "ICカード準備エラー", "IC card not ready"));
		fprintf(ui->out,
			L(ui, "ICカードリーダライタ(PKCS#11モジュール)が見つからないか、%sを行いたい電子証明書が格納されたICカードが挿入されていません。\n"
			      "ICカードリーダライタをパソコンに接続して電源を確認し、ICカードを挿入してから、もう一度はじめからやり直してください。\n",
			  "The IC card reader (PKCS#11 module) was not found, or the IC card holding the certificate for the %s is not inserted.\n"
			  "Connect the IC card reader, check that it is on, insert the IC card and start again from the beginning.\n"),
			ACT(ui));
		break;
	case MDG_CS_UNEXPECTED:
		title(ui, L(ui, "予期しないエラー", "Unexpected error"));
		fprintf(ui->out, "%s\n",
			L(ui, "ICカードにアクセスしている途中でエラーが発生しました(ICカードが抜かれた場合など)。"
			      "ICカードをICカードリーダライタに挿入し、もう一度はじめからやり直してください。",
			  "An error occurred while the IC card was being accessed (for example, the card was removed). "
			  "Insert the IC card into the reader and start again from the beginning."));
		break;
	case MDG_CS_PIN_INCORRECT:
		title(ui, L(ui, "パスワード確認失敗", "Wrong password"));
		fprintf(ui->out, "%s\n",
			L(ui, "入力されたパスワードが正しくありません。続けて5回間違えるとICカードがロックされて使用できなくなりますので、ご注意ください。",
			  "The password entered is not correct. Five wrong passwords in a row lock the IC card, "
			  "and it can then no longer be used."));
		tries_lines(ui, e);
		e = NULL;
		break;
	case MDG_CS_PIN_LOCKED:
		title(ui, L(ui, "パスワードロック", "Password locked"));
		proc_line(ui);
		fprintf(ui->out,
			L(ui, "間違ったパスワードが続けて入力されたため、パスワードロックがかかっています。\n"
			      "パスワードロックがかかった状態で、オンラインによる電子証明書の%sを行うことはできません。\n"
			      "パスワードロックを解除するためには、電子証明書を発行した市区町村の窓口で、パスワードロック解除の手続きを行ってください。"
			      "また、パスワードを忘れてしまった場合は、同時に窓口でパスワードを初期値に戻す手続きを行ってください。\n",
			  "The password is locked because wrong passwords were entered in a row.\n"
			  "While the password is locked, the online %s of your certificate is not possible.\n"
			  "To unlock it, go to the counter of the municipal office that issued your certificate. "
			  "If you have forgotten the password, ask there at the same time to have it reset.\n"),
			ACT(ui));
		break;
	case MDG_CS_IMPORT_ERROR:
		snprintf(head, sizeof(head), L(ui, "%sの取込みエラー", "Error reading %s"), INFO(ui));
		title(ui, head);
		proc_line(ui);
		fprintf(ui->out,
			L(ui, "%s及び電子証明書をICカードから取込むことができませんでした。"
			      "ICカードが正しく挿入されているか確認し、もう一度はじめからやり直してください。\n",
			  "%s and the certificate could not be read from the IC card. "
			  "Check that the IC card is inserted correctly and start again from the beginning.\n"),
			ui->lang == MDG_LANG_EN ? (REV(ui) ? "The information needed for the request"
							    : "The information needed for the check")
						: INFO(ui));
		break;
	case MDG_CS_CERT_EXPIRED:
		title(ui, L(ui, "有効期限切れの電子証明書", "Expired certificate"));
		proc_line(ui);
		if (f != NULL)
			fprintf(ui->out, L(ui, "有効期限: %s\n", "Valid until: %s\n"), f->not_after);
		fprintf(ui->out, "%s\n",
			REV(ui) ? L(ui, "ICカードの電子証明書は有効期限が切れています。有効期限の切れた電子証明書について失効申請を行う必要はありません。"
					"オンライン窓口には何も送信していません。",
				    "The certificate on the IC card has expired. There is no need to request the revocation of "
				    "an expired certificate. Nothing has been sent to the online window.")
				: L(ui, "ICカードの電子証明書は有効期限が切れています。有効期限の切れた電子証明書は有効ではありません。"
					"新しい電子証明書が必要な場合は、お住まいの市区町村の窓口で発行を申請してください。"
					"オンライン窓口には何も送信していません。",
				    "The certificate on the IC card has expired; an expired certificate is not valid. "
				    "If you need a new certificate, apply for one at the counter of your municipal office. "
				    "Nothing has been sent to the online window."));
		break;
	case MDG_CS_NETWORK:
		title(ui, L(ui, "オンライン窓口に接続できません", "Cannot reach the online window"));
		fprintf(ui->out, "%s\n",
			L(ui, "オンライン窓口に接続できないか、接続先のサーバ証明書を確認できませんでした。"
			      "接続先のURLとネットワークを確認し、しばらく経ってからもう一度はじめからやり直してください。"
			      "サーバ証明書がオンライン窓口のものであることを確認できない場合は、送信しないでください。",
			  "The online window could not be reached, or its server certificate could not be verified. "
			  "Check the URL and the network and start again from the beginning after a while. "
			  "Do not send anything to a server whose certificate is not the online window's."));
		break;
	case MDG_CS_BAD_ANSWER:
		title(ui, L(ui, "オンライン窓口の応答エラー", "Unexpected answer from the online window"));
		fprintf(ui->out, "%s\n",
			L(ui, "オンライン窓口からの応答を理解できませんでした。しばらく経ってから、もう一度はじめからやり直してください。",
			  "The answer of the online window could not be understood. "
			  "Please start again from the beginning after a while."));
		break;
	case MDG_CS_COUNT:
		break;
	}
	if (e != NULL && e->ckr != 0)
		fprintf(ui->out, L(ui, "ICカードの応答: %s\n", "The token says: %s\n"), e->msg);
	else if (e != NULL && e->msg[0] && detail == NULL)
		detail = e->msg;
	if (detail != NULL && detail[0])
		fprintf(ui->out, L(ui, "詳細: %s\n", "Detail: %s\n"), detail);
}

/* ---------------------------------------------------------------- notice */

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void member(const struct mdg_ui *ui, const char *ja, const char *en, const char *v)
{
	if (v != NULL)
		fprintf(ui->out, "%s%s\n", L(ui, ja, en), v);
}

int mdg_screen_notice(const struct mdg_ui *ui, const struct mdg_http_answer *a, enum mdg_result *r)
{
	json_t *j = json_loadb(a->body, a->len, 0, NULL);
	json_t *lang, *cert;
	const char *name, *t, *d;
	int rc = -1;

	if (j == NULL || (name = str(j, "result")) == NULL)
		goto out;
	for (*r = 0; *r < MDG_RESULT_COUNT; (*r)++)
		if (strcmp(mdg_result_name(*r), name) == 0)
			break;
	if (*r == MDG_RESULT_COUNT)
		goto out;
	lang = json_object_get(json_object_get(j, "i18n"), ui->lang == MDG_LANG_EN ? "en" : "ja");
	t = str(lang, "title");
	d = str(lang, "detail");
	if (t == NULL)
		t = str(j, "title");
	if (d == NULL)
		d = str(j, "detail");
	if (t == NULL || d == NULL)
		goto out;
	title(ui, t);
	proc_line(ui);
	fprintf(ui->out, "%s\n\n", d);
	member(ui, "受理番号　　: ", "Receipt:       ", str(j, "receiptId"));
	member(ui, "受理日時　　: ", "Accepted at:   ", str(j, "acceptedAt"));
	member(ui, "失効する日時: ", "Effective from:", str(j, "effectiveFrom"));
	member(ui, "申請者名　　: ", "Applicant:     ", str(j, "applicantName"));
	member(ui, "確認年月日　: ", "Checked on:    ",
	       str(json_object_get(j, "checkedOn"), ui->lang == MDG_LANG_EN ? "iso" : "wareki"));
	member(ui, "確認日時　　: ", "Checked at:    ", str(j, "checkedAt"));
	json_t *crln = json_object_get(j, "crlNumber");
	if (json_is_integer(crln))
		fprintf(ui->out, "%s%lld\n", L(ui, "CRL番号　　 : ", "CRL number:    "),
			(long long)json_integer_value(crln));
	else
		member(ui, "CRL番号　　 : ", "CRL number:    ", json_string_value(crln));
	if ((cert = json_object_get(j, "certificate")) != NULL) {
		member(ui, "シリアル番号: ", "Serial:        ", str(cert, "serial"));
		member(ui, "発行者名　　: ", "Issuer:        ", str(cert, "issuer"));
		member(ui, "有効期間開始: ", "Valid from:    ", str(cert, "notBefore"));
		member(ui, "有効期限　　: ", "Valid until:   ", str(cert, "notAfter"));
	}
	json_t *exp = json_object_get(j, "expectedIssuers");
	if (json_is_array(exp) && json_array_size(exp) > 0) {
		size_t i;
		json_t *v;
		fprintf(ui->out, "%s\n",
			L(ui, "証明書内の発行者名が次のいずれかと一致することを確認してください:",
			  "Check that the issuer name in your certificate is one of:"));
		json_array_foreach(exp, i, v)
			if (json_is_string(v))
				fprintf(ui->out, "  %s\n", json_string_value(v));
	}
	member(ui, "要求ID　　　: ", "Request id:    ", str(j, "requestId"));
	fprintf(ui->out, "\n%s\n",
		L(ui, "ICカードをICカードリーダライタから抜いてください。", "You may now remove the IC card from the reader."));
	rc = 0;
out:
	json_decref(j);
	return rc;
}
