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

void scr_title(const struct mdg_ui *ui, const char *t)
{
	fprintf(ui->out, "\n" RULE "%s\n" RULE, t);
}

void scr_proc_line_to(const struct mdg_ui *ui, FILE *o)
{
	fprintf(o, "%s%s\n\n", L(ui, "手続名：", "Procedure: "), PROC_NAME(ui));
}

void scr_proc_line(const struct mdg_ui *ui)
{
	scr_proc_line_to(ui, ui->out);
}

/* ---------------------------------------------------------------- dates */

static const char *const month_en[12] = { "January", "February", "March",     "April",   "May",      "June",
					  "July",    "August",   "September", "October", "November", "December" };

/* A Gregorian date as a citizen reads it: 令和8年12月01日 / 1 December 2026. */
static void date_text(const struct mdg_ui *ui, int y, int m, int d, char *out, size_t n)
{
	if (ui->lang == MDG_LANG_EN) {
		if (m >= 1 && m <= 12)
			snprintf(out, n, "%d %s %d", d, month_en[m - 1], y);
		else
			snprintf(out, n, "%04d-%02d-%02d", y, m, d);
		return;
	}
	if (mdg_wareki_format(y, m, d, out, n) < 0)
		snprintf(out, n, "%04d年%02d月%02d日", y, m, d);
}

/* An RFC 3339 time of the window's answer in Japan time, as a citizen reads
 * it: 令和8年12月01日 17時45分12秒 / 1 December 2026, 17:45:12 (JST). The
 * text as received if it does not parse. */
void scr_datetime_text(const struct mdg_ui *ui, const char *rfc3339, char *out, size_t n)
{
	char day[64];
	struct tm tm;
	time_t t;

	if (mdg_rfc3339_parse(rfc3339, &t) != 0) {
		snprintf(out, n, "%s", rfc3339);
		return;
	}
	t += MDG_JST_OFFSET;
	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(out, n, "%s", rfc3339);
		return;
	}
	date_text(ui, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, day, sizeof(day));
	if (ui->lang == MDG_LANG_EN)
		snprintf(out, n, "%s, %02d:%02d:%02d (JST)", day, tm.tm_hour, tm.tm_min, tm.tm_sec);
	else
		snprintf(out, n, "%s %02d時%02d分%02d秒", day, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* "YYYY-MM-DD" as date_text; the text as received if it does not parse. */
void scr_iso_date_text(const struct mdg_ui *ui, const char *iso, char *out, size_t n)
{
	int y, m, d;
	char tail;

	if (iso == NULL || sscanf(iso, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || !mdg_date_is_valid(y, m, d)) {
		snprintf(out, n, "%s", iso ? iso : "");
		return;
	}
	date_text(ui, y, m, d, out, n);
}

/* ---------------------------------------------------------------- words */

static const char *gender_text(const struct mdg_ui *ui, const char *g)
{
	if (ui->lang != MDG_LANG_EN || g == NULL)
		return g;
	if (strcmp(g, "男") == 0)
		return "male";
	if (strcmp(g, "女") == 0)
		return "female";
	if (strcmp(g, "不明") == 0)
		return "unknown";
	return g;
}

/* DESIGN.md "reason", in the order of the prompt; the first is the default. */
static const struct {
	const char *name, *ja, *en;
} reasons[] = {
	{ "unspecified", "理由を特定しない", "no particular reason" },
	{ "keyCompromise", "秘密鍵が漏えいしたおそれがある(ICカードの紛失・盗難など)",
	  "the private key may have been disclosed (the IC card lost or stolen, ...)" },
	{ "affiliationChanged", "電子証明書の記載事項(氏名・住所など)が変わった",
	  "what the certificate says (name, address, ...) has changed" },
	{ "superseded", "新しい電子証明書に替わった", "the certificate has been replaced by a new one" },
	{ "cessationOfOperation", "電子証明書を使わなくなった", "the certificate is no longer used" },
};

#define N_REASONS (sizeof(reasons) / sizeof(reasons[0]))

const char *scr_reason_text(const struct mdg_ui *ui, const char *name)
{
	for (size_t i = 0; i < N_REASONS; i++)
		if (strcmp(reasons[i].name, name) == 0)
			return L(ui, reasons[i].ja, reasons[i].en);
	return name;
}

/* ---------------------------------------------------------------- messages */

static const char *op_text(const struct mdg_ui *ui, long op)
{
	switch ((enum mdg_p11_op)op) {
	case MDG_OP_LOGIN:
		return L(ui, "ログイン", "login");
	case MDG_OP_SLOTS:
		return L(ui, "ICカードリーダライタの一覧", "listing the card readers");
	case MDG_OP_KEYS:
		return L(ui, "鍵の読み込み", "reading the keys");
	case MDG_OP_CERTS:
		return L(ui, "電子証明書の読み込み", "reading the certificates");
	case MDG_OP_KEY:
		return L(ui, "秘密鍵の準備", "opening the private key");
	case MDG_OP_SIGN:
		return L(ui, "ICカードでの電子署名", "signing on the token");
	}
	return "?";
}

static const char *errno_text(const struct mdg_ui *ui, long num)
{
	const char *name = strerrorname_np((int)num);

	if (ui->lang == MDG_LANG_EN)
		return strerror((int)num);
	return name != NULL ? name : "?";
}

/* The message in the screen's language, into out. */
void scr_msg_text(const struct mdg_ui *ui, const struct mdg_msg *m, char *out, size_t n)
{
	const char *a = m->arg, *t = m->tech;

	out[0] = '\0';
	switch (m->id) {
	case MDG_MSG_NONE:
		break;
	case MDG_MSG_OOM:
		snprintf(out, n, "%s", L(ui, "メモリが足りません", "out of memory"));
		break;
	case MDG_MSG_URL_INVALID:
		snprintf(out, n, L(ui, "--url %s: URLではありません", "--url %s: not a URL"), a);
		break;
	case MDG_MSG_URL_NOT_HTTPS:
		snprintf(out, n,
			 L(ui,
			   "--url %s: オンライン窓口には https:// で接続します(http:// "
			   "はこのパソコン上の窓口にだけ使えます)",
			   "--url %s: the window is reached over https:// (http:// only to this machine)"),
			 a);
		break;
	case MDG_MSG_NO_TTY:
		snprintf(out, n,
			 L(ui, "パスワードを尋ねる端末がありません。--pin-file か環境変数 %s で渡してください",
			   "no terminal to ask for the PIN: use --pin-file or %s"),
			 a);
		break;
	case MDG_MSG_NO_PIN:
		snprintf(out, n, "%s", L(ui, "パスワードが入力されませんでした", "no PIN entered"));
		break;
	case MDG_MSG_PIN_FILE_EMPTY:
		snprintf(out, n, L(ui, "--pin-file %s: ファイルが空です", "--pin-file %s: empty"), a);
		break;
	case MDG_MSG_PIN_TOO_LONG:
		snprintf(out, n, L(ui, "%s: パスワードが長すぎます", "%s: the PIN is too long"), a);
		break;
	case MDG_MSG_PIN_FORM:
		if (m->num == 0)
			snprintf(out, n, "%s", L(ui, "パスワードが入力されていません", "no password was entered"));
		else if (t[0])
			snprintf(out, n, "%s",
				 L(ui, "英字と数字以外の文字が含まれています",
				   "it contains characters other than letters and digits"));
		else
			snprintf(out, n,
				 L(ui, "6文字以上16文字以下ではありません(%ld文字)",
				   "it is not 6 to 16 characters long (%ld)"),
				 m->num);
		break;
	case MDG_MSG_FILE_MISSING:
		snprintf(out, n, L(ui, "ファイルがありません: %s", "No such file: %s"), a);
		break;
	case MDG_MSG_FILE_UNREADABLE:
		if (m->num != 0)
			snprintf(out, n, L(ui, "ファイル %s を読み込めません(%s)", "cannot read %s: %s"), a,
				 errno_text(ui, m->num));
		else if (ui->lang == MDG_LANG_EN)
			snprintf(out, n, "%s", t[0] ? t : a);
		else
			snprintf(out, n, "ファイル %s を読み込めません(通常のファイルでないか、空か、大きすぎます)", a);
		break;
	case MDG_MSG_NOT_PKCS12:
		snprintf(out, n, L(ui, "%s はPKCS#12ファイルではありません", "%s is not a PKCS#12 file"), a);
		break;
	case MDG_MSG_FILE_PASSWORD:
		snprintf(out, n,
			 L(ui, "ファイル %s のパスワードが正しくありません", "the password of %s is not correct"), a);
		break;
	case MDG_MSG_FILE_BAD:
		snprintf(out, n, L(ui, "%s を読み込めません", "cannot read %s"), a);
		break;
	case MDG_MSG_P12_NO_CERT:
		snprintf(out, n, L(ui, "%s に電子証明書がありません", "%s holds no certificate"), a);
		break;
	case MDG_MSG_P12_NO_KEY:
		snprintf(out, n, L(ui, "%s に秘密鍵がありません", "%s holds no private key"), a);
		break;
	case MDG_MSG_PEM_NO_CERT:
		snprintf(out, n,
			 L(ui, "%s からPEM形式の電子証明書を読み込めません", "cannot read a PEM certificate from %s"),
			 a);
		break;
	case MDG_MSG_PEM_NO_KEY:
		snprintf(out, n,
			 L(ui, "%s からPEM形式の秘密鍵を読み込めません", "cannot read a PEM private key from %s"), a);
		break;
	case MDG_MSG_KEY_MISMATCH:
		snprintf(out, n,
			 L(ui, "%s の秘密鍵は電子証明書の鍵ではありません",
			   "the key in %s is not the certificate's key"),
			 a);
		break;
	case MDG_MSG_SIGN_FAILED:
		snprintf(out, n, "%s", L(ui, "電子署名を作成できませんでした", "the signature could not be made"));
		break;
	case MDG_MSG_MODULE_LOAD:
		snprintf(out, n, L(ui, "PKCS#11モジュール %s を読み込めません", "cannot load the PKCS#11 module %s"),
			 a);
		break;
	case MDG_MSG_NO_TOKEN:
		snprintf(out, n,
			 L(ui, "ラベルが \"%s\" のトークン(ICカード)が見つかりません",
			   "no token labelled \"%s\" in any slot"),
			 a);
		break;
	case MDG_MSG_TOKEN_LOCKED:
		snprintf(out, n, "%s",
			 L(ui, "ICカードはパスワードがロックされていると報告しています (CKF_USER_PIN_LOCKED)",
			   "the token says its PIN is locked (CKF_USER_PIN_LOCKED)"));
		break;
	case MDG_MSG_TOKEN_GONE:
		snprintf(out, n, "%s", L(ui, "ICカードが見つからなくなりました", "the token is no longer there"));
		break;
	case MDG_MSG_CKR:
		if (t[0])
			snprintf(out, n, "%s: %s", op_text(ui, m->num), t);
		else
			snprintf(out, n, L(ui, "%sに失敗しました", "%s failed"), op_text(ui, m->num));
		break;
	case MDG_MSG_NO_KEY:
		snprintf(out, n,
			 L(ui, "ラベルが \"%s\" の秘密鍵がICカードにありません",
			   "no private key labelled \"%s\" on the token"),
			 a);
		break;
	case MDG_MSG_NO_CERT:
		snprintf(out, n,
			 L(ui, "鍵 \"%s\" の電子証明書をICカードから読み込めません",
			   "no readable certificate for the key \"%s\" on the token"),
			 a);
		break;
	case MDG_MSG_NO_FACTS:
		if (ui->lang == MDG_LANG_EN)
			snprintf(out, n, "the certificate's four facts cannot be read: %s", t);
		else
			snprintf(out, n, "電子証明書から基本4情報(氏名・住所・生年月日・性別)を読み取れません");
		break;
	case MDG_MSG_CONNECT:
		if (ui->lang == MDG_LANG_EN)
			snprintf(out, n, "%s: %s", a, t);
		else
			snprintf(out, n, "%s に接続できませんでした(curlのエラー %ld)", a, m->num);
		break;
	case MDG_MSG_TLS:
		if (ui->lang == MDG_LANG_EN)
			snprintf(out, n, "%s: %s", a, t);
		else
			snprintf(out, n, "%s のサーバ証明書を検証できませんでした(curlのエラー %ld)", a, m->num);
		break;
	case MDG_MSG_TOO_LARGE:
		snprintf(out, n, L(ui, "%s: 応答が大きすぎます", "%s: the answer is too large"), a);
		break;
	case MDG_MSG_ANSWER:
		snprintf(out, n, L(ui, "%s: 想定していない応答です(HTTP %ld)", "%s: unexpected answer (HTTP %ld)"), a,
			 m->num);
		break;
	case MDG_MSG_NOTICE_SAVE:
		snprintf(out, n,
			 L(ui, "通知をファイル %s に保存できませんでした(%s)",
			   "the notice could not be saved to %s: %s"),
			 a, errno_text(ui, m->num));
		break;
	case MDG_MSG_RECEIPT_SAVE:
		snprintf(out, n,
			 L(ui, "受理証明書をファイル %s に保存できませんでした(%s)",
			   "the receipt could not be saved to %s: %s"),
			 a, errno_text(ui, m->num));
		break;
	case MDG_MSG_NO_RECEIPT:
		snprintf(out, n, "%s",
			 L(ui, "オンライン窓口の応答に受理証明書がありません(窓口で受理証明書が設定されていません)",
			   "the window's answer carries no receipt (receipts are not configured there)"));
		break;
	case MDG_MSG_RECEIPT_OPT:
		snprintf(out, n, L(ui, "%s は revoke でだけ使えます", "%s is for revoke only"), a);
		break;
	case MDG_MSG_CAFILE:
		if (ui->lang == MDG_LANG_EN)
			snprintf(out, n, "--cafile %s: no anchor certificates can be read%s%s", a, t[0] ? ": " : "", t);
		else
			snprintf(out, n, "--cafile %s: 信頼する認証局の証明書を読み込めません", a);
		break;
	case MDG_MSG_LOG_KEY:
		if (ui->lang == MDG_LANG_EN)
			snprintf(out, n, "--log-key %s: not a log verifier key%s%s", a, t[0] ? ": " : "", t);
		else
			snprintf(out, n, "--log-key %s: ログの検証鍵ではありません", a);
		break;
	case MDG_MSG_RECEIPT_CHECK:
		scr_receipt_check_text(ui, m, out, n);
		break;
	case MDG_MSG_LOG_KEY_URL:
		snprintf(out, n, "%s",
			 L(ui, "--url と --log-key は一緒に指定してください", "--url and --log-key go together"));
		break;
	}
}

/* ---------------------------------------------------------------- steps */

void mdg_screen_header(const struct mdg_ui *ui)
{
	scr_title(ui, L(ui, "公的個人認証サービス オンライン窓口", "JPKI Online Window"));
	scr_proc_line(ui);
}

void mdg_screen_import(const struct mdg_ui *ui, const char *source)
{
	char head[160];

	snprintf(head, sizeof(head), L(ui, "%sの取込み", "Reading %s"), INFO(ui));
	scr_title(ui, head);
	if (ui->card)
		fprintf(ui->out,
			L(ui,
			  "ICカードリーダライタの電源を確認し、%"
			  "sを行いたい電子証明書が格納されているICカードを挿入してください。\n",
			  "Check that the IC card reader is on and insert the IC card holding the certificate for the "
			  "%s.\n"),
			ACT(ui));
	else
		fprintf(ui->out,
			L(ui, "%sを行いたい電子証明書と秘密鍵を、次のファイルから取込みます。\n",
			  "The certificate for the %s and its private key will be read from this file.\n"),
			ACT(ui));
	fprintf(ui->out, L(ui, "取込み元: %s\n", "Reading from: %s\n"), source);
}

const char *mdg_screen_pin_prompt(const struct mdg_ui *ui)
{
	if (!ui->card)
		return L(ui, "ファイルのパスワード(入力は表示されません): ",
			 "Password of the file (not shown as you type): ");
	return L(ui, "公的個人認証サービスのパスワード(入力は表示されません): ",
		 "JPKI signing password (not shown as you type): ");
}

void mdg_screen_login(const struct mdg_ui *ui, const char *what)
{
	scr_title(ui, L(ui, "ログイン", "Log in"));
	if (!ui->card) {
		fprintf(ui->out,
			L(ui, "ファイル %s はパスワードで保護されています。ファイルのパスワードを入力してください。\n",
			  "The file %s is protected by a password. Enter the password of the file.\n"),
			what ? what : "-");
		return;
	}
	fprintf(ui->out,
		L(ui,
		  "公的個人認証サービスのパスワードを入力してください (トークン "
		  "\"%s\")。ICカードは取り出さずにお待ちください。\n"
		  "パスワードは英数字6文字以上16文字以下です。"
		  "続けて5回間違えるとICカードがロックされて使用できなくなりますので、ご注意ください。\n",
		  "Enter your JPKI signing password (token \"%s\"). Do not remove the IC card.\n"
		  "The password is 6 to 16 letters and digits. "
		  "Five wrong passwords in a row lock the IC card, and it can then no longer be used.\n"),
		what ? what : "-");
}

void mdg_screen_form(const struct mdg_ui *ui, const struct mdg_client_form *f, const char *reason)
{
	char birth[64];

	scr_title(ui, L(ui, "取込み情報の確認", "Confirm the information read"));
	scr_proc_line(ui);
	fprintf(ui->out,
		L(ui,
		  "%sを取込み、%sを作成しました。内容に誤りがなければ、%sの電子署名を作成します。\n"
		  "表示された文字に誤りがあり、もう一度%sを取込む場合は、「%sの取込み画面に戻る」(b)"
		  "を選んでください。\n"
		  "ここで%sをやめる場合は、「%s」(N)を選んでください。\n\n",
		  "%s has been read and the %s has been made. If it is correct, the %s will be signed next.\n"
		  "If anything shown is wrong, choose \"back to reading %s\" (b) to read %s again.\n"
		  "To stop the %s here, choose \"%s\" (N).\n\n"),
		INFO_CAP(ui), DOC(ui), DOC(ui), INFO(ui), INFO(ui), ACT(ui), STOP(ui));
	fprintf(ui->out, "  %s\n", L(ui, f->addressee_ja, f->addressee_en));
	fprintf(ui->out, "  %s\n\n",
		L(ui,
		  REV(ui) ? "自己の電子証明書の失効申請を依頼します。" : "自己の電子証明書の有効性確認を依頼します。",
		  REV(ui) ? "I request the revocation of my own certificate."
			  : "I request a validity check of my own certificate."));
	fprintf(ui->out, "  %s%s\n", L(ui, "申請者の氏名　　　: ", "Name:          "), f->facts.name);
	fprintf(ui->out, "  %s%s\n", L(ui, "申請者の住所　　　: ", "Address:       "), f->facts.address);
	fprintf(ui->out, "  %s%s\n", L(ui, "申請者の性別　　　: ", "Gender:        "),
		gender_text(ui, f->facts.gender));
	if (ui->lang == MDG_LANG_EN) {
		scr_iso_date_text(ui, f->facts.birth_date, birth, sizeof(birth));
		fprintf(ui->out, "  Date of birth: %s (%s)\n", birth, f->birth_wareki);
	} else {
		fprintf(ui->out, "  申請者の生年月日　: %s (%s)\n", f->birth_wareki, f->facts.birth_date);
	}
	if (reason != NULL)
		fprintf(ui->out, "  %s%s (%s)\n", L(ui, "失効の理由　　　　: ", "Reason:        "),
			scr_reason_text(ui, reason), reason);
}

void mdg_screen_sign_confirm(const struct mdg_ui *ui)
{
	scr_title(ui, L(ui, "署名確認", "Confirm the signature"));
	fprintf(ui->out, L(ui, "%sの電子署名を作成します。\n", "The %s will now be signed.\n"), DOC(ui));
}

void mdg_screen_send_confirm(const struct mdg_ui *ui)
{
	scr_title(ui, L(ui, "送信確認", "Confirm sending"));
	fprintf(ui->out,
		L(ui,
		  "%s、電子署名、電子証明書をオンライン窓口へ送信します。送信すると%sを取り消すことはできません。\n",
		  "The %s, the signature and the certificate will be sent to the online window. "
		  "Once sent, the %s cannot be withdrawn.\n"),
		DOC(ui), ACT(ui));
}

void mdg_screen_sending(const struct mdg_ui *ui)
{
	fprintf(ui->out, "%s\n", L(ui, "送信しています。しばらくお待ちください…", "Sending; please wait..."));
	fflush(ui->out);
}

/* The title of the window's answer in the screen's language (its i18n,
 * else its title), or the contract's. */
const char *scr_answer_title(const struct mdg_ui *ui, json_t *j, enum mdg_result r)
{
	json_t *lang = json_object_get(json_object_get(j, "i18n"), ui->lang == MDG_LANG_EN ? "en" : "ja");
	const char *t = json_string_value(json_object_get(lang, "title"));

	if (t == NULL && ui->lang == MDG_LANG_JA)
		t = json_string_value(json_object_get(j, "title"));
	return t != NULL ? t : mdg_result_title(r, ui->proc, ui->lang);
}

void mdg_screen_restart(const struct mdg_ui *ui, const struct mdg_http_answer *a)
{
	json_t *j = json_loadb(a->body, a->len, 0, NULL);

	scr_title(ui, scr_answer_title(ui, j, MDG_BAD_NONCE));
	scr_proc_line(ui);
	fprintf(ui->out,
		L(ui,
		  "%sを作成してから送信するまでに時間がかかったため、オンライン窓口はこの%sを受け付けませんでした。\n"
		  "新しい%sを作成して電子署名をし、もう一度送信します(自動で一度だけやり直します)。\n",
		  "The %s took too long between being made and being sent, so the online window did not accept it.\n"
		  "A new %s is being made, signed and sent again (the client does this once by itself).\n"),
		DOC(ui), DOC(ui), DOC(ui));
	fflush(ui->out);
	json_decref(j);
}

enum mdg_answer mdg_screen_confirm(const struct mdg_ui *ui, enum mdg_question q)
{
	char text[512], back[256];
	char line[64];
	int offers_back = q == MDG_Q_SIGN || q == MDG_Q_AGREE || q == MDG_Q_SEND;

	snprintf(back, sizeof(back),
		 L(ui, "y: %s / b: %sの取込み画面に戻る / N: %s", "y: %s / b: back to reading %s / N: %s"),
		 q == MDG_Q_SIGN ? L(ui, "電子署名", "sign") : L(ui, "了解", "OK"), INFO(ui),
		 q == MDG_Q_SEND ? L(ui, "送信中止", "do not send") : STOP(ui));
	switch (q) {
	case MDG_Q_CONTINUE:
		snprintf(text, sizeof(text), "%s", L(ui, "取込みを開始しますか? [y/N] ", "Start reading? [y/N] "));
		break;
	case MDG_Q_SIGN:
		snprintf(text, sizeof(text),
			 L(ui, "この内容で電子署名に進みますか? [%s] ", "Go on to the signature with this form? [%s] "),
			 back);
		break;
	case MDG_Q_AGREE:
		snprintf(text, sizeof(text),
			 L(ui, "電子署名を作成してよろしいですか? [%s] ", "Make the signature now? [%s] "), back);
		break;
	case MDG_Q_SEND:
		snprintf(text, sizeof(text), L(ui, "送信してよろしいですか? [%s] ", "Send it now? [%s] "), back);
		break;
	case MDG_Q_RETRY_PIN:
		snprintf(text, sizeof(text), "%s",
			 L(ui, "パスワードをもう一度入力しますか? [y/N] ", "Enter the password again? [y/N] "));
		break;
	}
	fputs(text, ui->out);
	fflush(ui->out);
	if (ui->in == NULL || fgets(line, sizeof(line), ui->in) == NULL) {
		fputc('\n', ui->out);
		return MDG_ANS_NO;
	}
	line[strcspn(line, "\r\n")] = '\0';
	if (strcasecmp(line, "y") == 0 || strcasecmp(line, "yes") == 0 || strcmp(line, "はい") == 0)
		return MDG_ANS_YES;
	if (offers_back && (strcasecmp(line, "b") == 0 || strcasecmp(line, "back") == 0 || strcmp(line, "戻る") == 0))
		return MDG_ANS_BACK;
	return MDG_ANS_NO;
}

const char *mdg_screen_reason(const struct mdg_ui *ui)
{
	char line[64], *end;

	scr_title(ui, L(ui, "失効の理由", "Reason for the revocation"));
	for (size_t i = 0; i < N_REASONS; i++)
		fprintf(ui->out, "  %zu  %s (%s)%s\n", i + 1, L(ui, reasons[i].ja, reasons[i].en), reasons[i].name,
			i == 0 ? L(ui, " [既定]", " [default]") : "");
	for (int tries = 0; tries < 3; tries++) {
		fputs(L(ui, "失効の理由を番号で選んでください [1]: ", "Choose the reason by its number [1]: "),
		      ui->out);
		fflush(ui->out);
		if (ui->in == NULL || fgets(line, sizeof(line), ui->in) == NULL) {
			fputc('\n', ui->out);
			return NULL;
		}
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0')
			return reasons[0].name;
		long k = strtol(line, &end, 10);
		if (*end == '\0' && k >= 1 && (size_t)k <= N_REASONS)
			return reasons[k - 1].name;
		for (size_t i = 0; i < N_REASONS; i++)
			if (strcmp(line, reasons[i].name) == 0)
				return reasons[i].name;
		fprintf(ui->out,
			L(ui, "1から%zuまでの番号で選んでください。\n", "Please answer with a number from 1 to %zu.\n"),
			N_REASONS);
	}
	return NULL;
}

/* ---------------------------------------------------------------- notice */

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void member(FILE *o, const struct mdg_ui *ui, const char *ja, const char *en, const char *v)
{
	if (v != NULL && v[0] != '\0')
		fprintf(o, "%s%s\n", L(ui, ja, en), v);
}

static void member_time(FILE *o, const struct mdg_ui *ui, const char *ja, const char *en, const char *rfc3339)
{
	char buf[128];

	if (rfc3339 == NULL)
		return;
	scr_datetime_text(ui, rfc3339, buf, sizeof(buf));
	member(o, ui, ja, en, buf);
}

/* The receipt number in groups of four for reading aloud over the phone:
 * "K7Q2 M4XA ...". */
void scr_grouped(const char *id, char *out, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; id[i] != '\0' && k + 2 < n; i++) {
		if (i > 0 && i % 4 == 0)
			out[k++] = ' ';
		out[k++] = id[i];
	}
	out[k] = '\0';
}

static void notice_body(const struct mdg_ui *ui, json_t *j, enum mdg_result r, const struct mdg_client_form *f,
			const struct mdg_http_answer *a, const char *d, FILE *o)
{
	json_t *cert, *exp, *crln;
	const char *name = str(j, "applicantName"), *receipt = str(j, "receiptId");
	char buf[256];

	scr_proc_line_to(ui, o);
	fprintf(o, "%s\n\n", d);
	if (name == NULL && f != NULL && f->facts.name[0] != '\0')
		name = f->facts.name;
	member(o, ui, "申請者名　　: ", "Applicant:      ", name);
	if (receipt != NULL) {
		scr_grouped(receipt, buf, sizeof(buf));
		member(o, ui, "受理番号　　: ", "Receipt:        ", buf);
		fprintf(o, "%s\n",
			L(ui, "              この受理番号を控えておいてください(お問い合わせの際に必要です)。",
			  "                Please note this receipt number down: you need it if you contact the "
			  "window."));
		if (ui->receipt_path != NULL)
			fprintf(o,
				L(ui,
				  "受理証明書　: %s に保存しました(madoguchi-client receipt verify で確認できます)。\n",
				  "Receipt file:   saved to %s (check it with madoguchi-client receipt verify).\n"),
				ui->receipt_path);
	}
	member_time(o, ui, "受理日時　　: ", "Accepted at:    ", str(j, "acceptedAt"));
	member_time(o, ui, "失効する日時: ", "Effective from: ", str(j, "effectiveFrom"));
	if (ui->lang == MDG_LANG_EN) {
		scr_iso_date_text(ui, str(json_object_get(j, "checkedOn"), "iso"), buf, sizeof(buf));
		member(o, ui, "", "Checked on:     ", buf);
	} else {
		member(o, ui, "確認年月日　: ", "", str(json_object_get(j, "checkedOn"), "wareki"));
	}
	member_time(o, ui, "確認日時　　: ", "Checked at:     ", str(j, "checkedAt"));
	crln = json_object_get(j, "crlNumber");
	if (json_is_integer(crln))
		fprintf(o, "%s%lld\n", L(ui, "CRL番号　　 : ", "CRL number:     "),
			(long long)json_integer_value(crln));
	else
		member(o, ui, "CRL番号　　 : ", "CRL number:     ", json_string_value(crln));
	if ((cert = json_object_get(j, "certificate")) != NULL) {
		member(o, ui, "シリアル番号: ", "Serial:         ", str(cert, "serial"));
		member(o, ui, "発行者名　　: ", "Issuer:         ", str(cert, "issuer"));
		member_time(o, ui, "有効期間開始: ", "Valid from:     ", str(cert, "notBefore"));
		member_time(o, ui, "有効期限　　: ", "Valid until:    ", str(cert, "notAfter"));
	}
	exp = json_object_get(j, "expectedIssuers");
	if (json_is_array(exp) && json_array_size(exp) > 0) {
		size_t i;
		json_t *v;
		fprintf(o, "%s\n",
			L(ui, "証明書内の発行者名が次のいずれかと一致することを確認してください:",
			  "Check that the issuer name in your certificate is one of:"));
		json_array_foreach(exp, i, v) if (json_is_string(v)) fprintf(o, "  %s\n", json_string_value(v));
	}
	member(o, ui, "要求ID　　　: ", "Request id:     ", str(j, "requestId"));
	if (r == MDG_BUSY || r == MDG_SERVICE_ERROR) {
		fprintf(o, "\n");
		if (!ui->sent)
			fprintf(o, "%s\n",
				L(ui, "オンライン窓口には何も送信していません。",
				  "Nothing has been sent to the online window."));
		if (a->retry_after > 0)
			fprintf(o,
				L(ui, "しばらく(%ld秒ほど)経ってから、もう一度はじめからやり直してください。\n",
				  "Please start again from the beginning in a while (about %ld seconds).\n"),
				a->retry_after);
		else
			fprintf(o, "%s\n",
				L(ui, "しばらく経ってから、もう一度はじめからやり直してください。",
				  "Please start again from the beginning after a while."));
	}
	if (ui->card)
		fprintf(o, "\n%s\n",
			L(ui, "ICカードをICカードリーダライタから抜いてください。",
			  "You may now remove the IC card from the reader."));
}

int mdg_screen_notice(const struct mdg_ui *ui, const struct mdg_http_answer *a, const struct mdg_client_form *f,
		      enum mdg_result *r, char **text)
{
	json_t *j = NULL, *lang;
	const char *t, *d;
	char *body = NULL;
	size_t body_len = 0;
	FILE *o = NULL;
	int rc = -1;

	if (text != NULL)
		*text = NULL;
	if (!mdg_answer_result(a, r) || (j = json_loadb(a->body, a->len, 0, NULL)) == NULL)
		goto out;
	lang = json_object_get(json_object_get(j, "i18n"), ui->lang == MDG_LANG_EN ? "en" : "ja");
	t = scr_answer_title(ui, j, *r);
	d = str(lang, "detail");
	if (d == NULL && ui->lang == MDG_LANG_JA)
		d = str(j, "detail");
	if (d == NULL)
		d = mdg_result_detail(*r, ui->proc, ui->lang);
	if ((o = open_memstream(&body, &body_len)) == NULL)
		goto out;
	fprintf(o, RULE "%s\n" RULE, t);
	notice_body(ui, j, *r, f, a, d, o);
	if (fclose(o) != 0) {
		o = NULL;
		goto out;
	}
	o = NULL;
	fprintf(ui->out, "\n%s", body);
	if (text != NULL) {
		*text = body;
		body = NULL;
	}
	rc = 0;
out:
	if (o != NULL)
		fclose(o);
	free(body);
	json_decref(j);
	return rc;
}
