#include "screens.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "form.h"
#include "timefmt.h"

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
#define INFO_CAP(ui) \
	L(ui, REV(ui) ? "申請に必要な情報" : "確認に必要な情報", \
	  REV(ui) ? "The information needed for the request" : "The information needed for the check")
#define STOP(ui) L(ui, REV(ui) ? "申請中止" : "確認中止", REV(ui) ? "Cancel the request" : "Cancel the check")
/* where the certificate is: the IC card, or a file (files are not cards) */
#define WHERE(ui) L(ui, (ui)->card ? "ICカード" : "ファイル", (ui)->card ? "the IC card" : "the file")

static void title(const struct mdg_ui *ui, const char *t)
{
	fprintf(ui->out, "\n" RULE "%s\n" RULE, t);
}

static void proc_line_to(const struct mdg_ui *ui, FILE *o)
{
	fprintf(o, "%s%s\n\n", L(ui, "手続名：", "Procedure: "), PROC_NAME(ui));
}

static void proc_line(const struct mdg_ui *ui)
{
	proc_line_to(ui, ui->out);
}

/* ---------------------------------------------------------------- dates */

static const char *const month_en[12] = {"January", "February", "March", "April", "May", "June", "July",
					  "August", "September", "October", "November", "December"};

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
static void datetime_text(const struct mdg_ui *ui, const char *rfc3339, char *out, size_t n)
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
static void iso_date_text(const struct mdg_ui *ui, const char *iso, char *out, size_t n)
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
	{"unspecified", "理由を特定しない", "no particular reason"},
	{"keyCompromise", "秘密鍵が漏えいしたおそれがある(ICカードの紛失・盗難など)",
	 "the private key may have been disclosed (the IC card lost or stolen, ...)"},
	{"affiliationChanged", "電子証明書の記載事項(氏名・住所など)が変わった",
	 "what the certificate says (name, address, ...) has changed"},
	{"superseded", "新しい電子証明書に替わった", "the certificate has been replaced by a new one"},
	{"cessationOfOperation", "電子証明書を使わなくなった", "the certificate is no longer used"},
};

#define N_REASONS (sizeof(reasons) / sizeof(reasons[0]))

static const char *reason_text(const struct mdg_ui *ui, const char *name)
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
	case MDG_OP_LOGIN: return L(ui, "ログイン", "login");
	case MDG_OP_SLOTS: return L(ui, "ICカードリーダライタの一覧", "listing the card readers");
	case MDG_OP_KEYS: return L(ui, "鍵の読み込み", "reading the keys");
	case MDG_OP_CERTS: return L(ui, "電子証明書の読み込み", "reading the certificates");
	case MDG_OP_KEY: return L(ui, "秘密鍵の準備", "opening the private key");
	case MDG_OP_SIGN: return L(ui, "ICカードでの電子署名", "signing on the token");
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
static void msg_text(const struct mdg_ui *ui, const struct mdg_msg *m, char *out, size_t n)
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
			 L(ui, "--url %s: オンライン窓口には https:// で接続します(http:// はこのパソコン上の窓口にだけ使えます)",
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
				 L(ui, "6文字以上16文字以下ではありません(%ld文字)", "it is not 6 to 16 characters long (%ld)"),
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
		snprintf(out, n, L(ui, "ファイル %s のパスワードが正しくありません", "the password of %s is not correct"), a);
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
		snprintf(out, n, L(ui, "%s からPEM形式の電子証明書を読み込めません", "cannot read a PEM certificate from %s"), a);
		break;
	case MDG_MSG_PEM_NO_KEY:
		snprintf(out, n, L(ui, "%s からPEM形式の秘密鍵を読み込めません", "cannot read a PEM private key from %s"), a);
		break;
	case MDG_MSG_KEY_MISMATCH:
		snprintf(out, n, L(ui, "%s の秘密鍵は電子証明書の鍵ではありません", "the key in %s is not the certificate's key"),
			 a);
		break;
	case MDG_MSG_SIGN_FAILED:
		snprintf(out, n, "%s", L(ui, "電子署名を作成できませんでした", "the signature could not be made"));
		break;
	case MDG_MSG_MODULE_LOAD:
		snprintf(out, n, L(ui, "PKCS#11モジュール %s を読み込めません", "cannot load the PKCS#11 module %s"), a);
		break;
	case MDG_MSG_NO_TOKEN:
		snprintf(out, n,
			 L(ui, "ラベルが \"%s\" のトークン(ICカード)が見つかりません", "no token labelled \"%s\" in any slot"), a);
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
			 L(ui, "ラベルが \"%s\" の秘密鍵がICカードにありません", "no private key labelled \"%s\" on the token"), a);
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
		snprintf(out, n, L(ui, "%s: 想定していない応答です(HTTP %ld)", "%s: unexpected answer (HTTP %ld)"), a, m->num);
		break;
	case MDG_MSG_NOTICE_SAVE:
		snprintf(out, n, L(ui, "通知をファイル %s に保存できませんでした(%s)", "the notice could not be saved to %s: %s"),
			 a, errno_text(ui, m->num));
		break;
	}
}

/* ---------------------------------------------------------------- steps */

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
	if (ui->card)
		fprintf(ui->out,
			L(ui, "ICカードリーダライタの電源を確認し、%sを行いたい電子証明書が格納されているICカードを挿入してください。\n",
			  "Check that the IC card reader is on and insert the IC card holding the certificate for the %s.\n"),
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
		return L(ui, "ファイルのパスワード(入力は表示されません): ", "Password of the file (not shown as you type): ");
	return L(ui, "公的個人認証サービスのパスワード(入力は表示されません): ",
		 "JPKI signing password (not shown as you type): ");
}

void mdg_screen_login(const struct mdg_ui *ui, const char *what)
{
	title(ui, L(ui, "ログイン", "Log in"));
	if (!ui->card) {
		fprintf(ui->out,
			L(ui, "ファイル %s はパスワードで保護されています。ファイルのパスワードを入力してください。\n",
			  "The file %s is protected by a password. Enter the password of the file.\n"),
			what ? what : "-");
		return;
	}
	fprintf(ui->out,
		L(ui, "公的個人認証サービスのパスワードを入力してください (トークン \"%s\")。ICカードは取り出さずにお待ちください。\n"
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

	title(ui, L(ui, "取込み情報の確認", "Confirm the information read"));
	proc_line(ui);
	fprintf(ui->out,
		L(ui, "%sを取込み、%sを作成しました。内容に誤りがなければ、%sの電子署名を作成します。\n"
		      "表示された文字に誤りがあり、もう一度%sを取込む場合は、「%sの取込み画面に戻る」(b)を選んでください。\n"
		      "ここで%sをやめる場合は、「%s」(N)を選んでください。\n\n",
		  "%s has been read and the %s has been made. If it is correct, the %s will be signed next.\n"
		  "If anything shown is wrong, choose \"back to reading %s\" (b) to read %s again.\n"
		  "To stop the %s here, choose \"%s\" (N).\n\n"),
		INFO_CAP(ui), DOC(ui), DOC(ui), INFO(ui), INFO(ui), ACT(ui), STOP(ui));
	fprintf(ui->out, "  %s\n", L(ui, f->addressee_ja, f->addressee_en));
	fprintf(ui->out, "  %s\n\n",
		L(ui, REV(ui) ? "自己の電子証明書の失効申請を依頼します。" : "自己の電子証明書の有効性確認を依頼します。",
		  REV(ui) ? "I request the revocation of my own certificate." : "I request a validity check of my own certificate."));
	fprintf(ui->out, "  %s%s\n", L(ui, "申請者の氏名　　　: ", "Name:          "), f->facts.name);
	fprintf(ui->out, "  %s%s\n", L(ui, "申請者の住所　　　: ", "Address:       "), f->facts.address);
	fprintf(ui->out, "  %s%s\n", L(ui, "申請者の性別　　　: ", "Gender:        "), gender_text(ui, f->facts.gender));
	if (ui->lang == MDG_LANG_EN) {
		iso_date_text(ui, f->facts.birth_date, birth, sizeof(birth));
		fprintf(ui->out, "  Date of birth: %s (%s)\n", birth, f->birth_wareki);
	} else {
		fprintf(ui->out, "  申請者の生年月日　: %s (%s)\n", f->birth_wareki, f->facts.birth_date);
	}
	if (reason != NULL)
		fprintf(ui->out, "  %s%s (%s)\n", L(ui, "失効の理由　　　　: ", "Reason:        "), reason_text(ui, reason),
			reason);
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

/* The title of the window's answer in the screen's language (its i18n,
 * else its title), or the contract's. */
static const char *answer_title(const struct mdg_ui *ui, json_t *j, enum mdg_result r)
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

	title(ui, answer_title(ui, j, MDG_BAD_NONCE));
	proc_line(ui);
	fprintf(ui->out,
		L(ui, "%sを作成してから送信するまでに時間がかかったため、オンライン窓口はこの%sを受け付けませんでした。\n"
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

	snprintf(back, sizeof(back), L(ui, "y: %s / b: %sの取込み画面に戻る / N: %s", "y: %s / b: back to reading %s / N: %s"),
		 q == MDG_Q_SIGN ? L(ui, "電子署名", "sign") : L(ui, "了解", "OK"), INFO(ui),
		 q == MDG_Q_SEND ? L(ui, "送信中止", "do not send") : STOP(ui));
	switch (q) {
	case MDG_Q_CONTINUE:
		snprintf(text, sizeof(text), "%s", L(ui, "取込みを開始しますか? [y/N] ", "Start reading? [y/N] "));
		break;
	case MDG_Q_SIGN:
		snprintf(text, sizeof(text), L(ui, "この内容で電子署名に進みますか? [%s] ", "Go on to the signature with this form? [%s] "),
			 back);
		break;
	case MDG_Q_AGREE:
		snprintf(text, sizeof(text), L(ui, "電子署名を作成してよろしいですか? [%s] ", "Make the signature now? [%s] "), back);
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

	title(ui, L(ui, "失効の理由", "Reason for the revocation"));
	for (size_t i = 0; i < N_REASONS; i++)
		fprintf(ui->out, "  %zu  %s (%s)%s\n", i + 1, L(ui, reasons[i].ja, reasons[i].en), reasons[i].name,
			i == 0 ? L(ui, " [既定]", " [default]") : "");
	for (int tries = 0; tries < 3; tries++) {
		fputs(L(ui, "失効の理由を番号で選んでください [1]: ", "Choose the reason by its number [1]: "), ui->out);
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
		fprintf(ui->out, L(ui, "1から%zuまでの番号で選んでください。\n", "Please answer with a number from 1 to %zu.\n"),
			N_REASONS);
	}
	return NULL;
}

/* ---------------------------------------------------------------- states */

static void state_title(const struct mdg_ui *ui, enum mdg_cstate s, char *out, size_t n)
{
	const char *t = "";

	switch (s) {
	case MDG_CS_OK:
	case MDG_CS_COUNT:
		break;
	case MDG_CS_USAGE: t = L(ui, "利用方法の誤り", "Usage error"); break;
	case MDG_CS_CANCELLED: t = STOP(ui); break;
	case MDG_CS_CARD_NOT_READY: t = L(ui, "ICカード準備エラー", "IC card not ready"); break;
	case MDG_CS_UNEXPECTED: t = L(ui, "予期しないエラー", "Unexpected error"); break;
	case MDG_CS_PIN_INCORRECT: t = L(ui, "パスワード確認失敗", "Wrong password"); break;
	case MDG_CS_PIN_LOCKED: t = L(ui, "パスワードロック", "Password locked"); break;
	case MDG_CS_PIN_FORM: t = L(ui, "パスワードの形式エラー", "Password not in the card's form"); break;
	case MDG_CS_IMPORT_ERROR:
		snprintf(out, n, L(ui, "%sの取込みエラー", "Error reading %s"), INFO(ui));
		return;
	case MDG_CS_CERT_EXPIRED:
		/* the manual's 2.2.9 / 3.2.9, the title the window's "expired" has */
		t = mdg_result_title(MDG_EXPIRED, ui->proc, ui->lang);
		break;
	case MDG_CS_NETWORK: t = L(ui, "オンライン窓口に接続できません", "Cannot reach the online window"); break;
	case MDG_CS_TLS:
		t = L(ui, "オンライン窓口のサーバ証明書を確認できません",
		      "The online window's server certificate could not be verified");
		break;
	case MDG_CS_BAD_ANSWER: t = L(ui, "オンライン窓口の応答エラー", "Unexpected answer from the online window"); break;
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
			L(ui, "ICカードは残り回数を報告していません。", "The IC card does not report how many tries are left."));
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
		fprintf(o, L(ui, "%sを中止しました。オンライン窓口には何も送信していません。\n",
			     "The %s has been cancelled. Nothing has been sent to the online window.\n"),
			ACT(ui));
		break;
	case MDG_CS_CARD_NOT_READY:
		fprintf(o,
			L(ui, "ICカードリーダライタ(PKCS#11モジュール)が見つからないか、%sを行いたい電子証明書が格納されたICカードが挿入されていません。\n"
			      "ICカードリーダライタをパソコンに接続して電源を確認し、ICカードを挿入してから、もう一度はじめからやり直してください。\n",
			  "The IC card reader (PKCS#11 module) was not found, or the IC card holding the certificate for the %s is not inserted.\n"
			  "Connect the IC card reader, check that it is on, insert the IC card and start again from the beginning.\n"),
			ACT(ui));
		break;
	case MDG_CS_UNEXPECTED:
		fprintf(o, "%s\n",
			L(ui, "ICカードにアクセスしている途中でエラーが発生しました(ICカードが抜かれた場合など)。"
			      "ICカードをICカードリーダライタに挿入し、もう一度はじめからやり直してください。",
			  "An error occurred while the IC card was being accessed (for example, the card was removed). "
			  "Insert the IC card into the reader and start again from the beginning."));
		break;
	case MDG_CS_PIN_INCORRECT:
		if (!ui->card) {
			fprintf(o, "%s\n",
				L(ui, "入力されたファイルのパスワードが正しくありません。パスワードを確かめて、もう一度はじめからやり直してください。",
				  "The password entered for the file is not correct. "
				  "Check the password and start again from the beginning."));
			break;
		}
		fprintf(o, "%s\n",
			L(ui, "入力されたパスワードが正しくありません。続けて5回間違えるとICカードがロックされて使用できなくなりますので、ご注意ください。",
			  "The password entered is not correct. Five wrong passwords in a row lock the IC card, "
			  "and it can then no longer be used."));
		if (e != NULL && e->ckr != 0) {
			char m[512];
			msg_text(ui, &e->msg, m, sizeof(m));
			fprintf(o, L(ui, "ICカードの応答: %s\n", "The token says: %s\n"), m);
		}
		tries_lines(ui, o, e);
		break;
	case MDG_CS_PIN_FORM:
		fprintf(o, "%s\n",
			L(ui, "公的個人認証サービスのパスワード(署名用電子証明書のパスワード)は、英数字6文字以上16文字以下です。"
			      "入力されたパスワードはこの形式ではないため、ICカードには渡していません(間違えた回数には数えられません)。"
			      "正しいパスワードで、もう一度やり直してください。",
			  "The JPKI signing password is 6 to 16 letters and digits. The password entered is not of that form, "
			  "so it was not given to the IC card (it does not count as a wrong try). "
			  "Please try again with the right password."));
		break;
	case MDG_CS_PIN_LOCKED:
		fprintf(o,
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
		if (ui->card)
			fprintf(o,
				L(ui, "%s及び電子証明書をICカードから取込むことができませんでした。"
				      "ICカードが正しく挿入されているか確認し、もう一度はじめからやり直してください。\n",
				  "%s and the certificate could not be read from the IC card. "
				  "Check that the IC card is inserted correctly and start again from the beginning.\n"),
				INFO_CAP(ui));
		else
			fprintf(o,
				L(ui, "%s及び電子証明書をファイルから取込むことができませんでした。"
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
				L(ui, "%sの電子証明書は有効期限が切れています。有効期限の切れた電子証明書について失効申請を行う必要はありません。"
				      "オンライン窓口には何も送信していません。\n",
				  "The certificate in %s has expired. There is no need to request the revocation of "
				  "an expired certificate. Nothing has been sent to the online window.\n"),
				WHERE(ui));
		else
			fprintf(o,
				L(ui, "%sの電子証明書は有効期限が切れています。有効期限の切れた電子証明書は有効ではありません。"
				      "新しい電子証明書が必要な場合は、お住まいの市区町村の窓口で発行を申請してください。"
				      "オンライン窓口には何も送信していません。\n",
				  "The certificate in %s has expired; an expired certificate is not valid. "
				  "If you need a new certificate, apply for one at the counter of your municipal office. "
				  "Nothing has been sent to the online window.\n"),
				WHERE(ui));
		break;
	case MDG_CS_NETWORK:
		fprintf(o, "%s\n",
			L(ui, "オンライン窓口に接続できませんでした。接続先のURLとネットワークを確認し、"
			      "しばらく経ってからもう一度はじめからやり直してください。",
			  "The online window could not be reached. Check the URL and the network and "
			  "start again from the beginning after a while."));
		if (ui->sent && REV(ui))
			fprintf(o, "%s\n",
				L(ui, "送信した失効申請がオンライン窓口に届いたかどうかは分かりません。もう一度はじめからやり直すと、"
				      "受理済みの場合はその受理番号が表示されます。",
				  "Whether the revocation request sent reached the online window is not known. If you start again, "
				  "the window tells you the receipt number if it has already been accepted."));
		break;
	case MDG_CS_TLS:
		fprintf(o, "%s\n",
			L(ui, "接続先のサーバ証明書を検証できなかったため、接続先がオンライン窓口であることを確認できませんでした。"
			      "オンライン窓口には何も送信していません。\n"
			      "接続先のURLが正しいか確認してください。URLが正しいのにこの画面が表示される場合は、"
			      "接続先がオンライン窓口ではないおそれがありますので、送信しないでください。",
			  "The server certificate could not be verified, so the server could not be confirmed as the online window. "
			  "Nothing has been sent to it.\n"
			  "Check that the URL is right. If it is and this screen still appears, the server may not be the "
			  "online window: do not send anything to it."));
		break;
	case MDG_CS_BAD_ANSWER:
		fprintf(o, "%s\n",
			L(ui, "オンライン窓口からの応答を理解できませんでした。しばらく経ってから、もう一度はじめからやり直してください。",
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
	msg_text(ui, m, out, n);
}

void mdg_screen_state(const struct mdg_ui *ui, enum mdg_cstate s, const struct mdg_cred_error *e,
		      const struct mdg_client_form *f, const struct mdg_msg *detail)
{
	char head[256], cause[1024];
	const char *prefix;

	if (s == MDG_CS_OK)
		return;
	state_title(ui, s, head, sizeof(head));
	title(ui, head);
	if (s != MDG_CS_USAGE)
		proc_line(ui);
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

	msg_text(ui, m, text, sizeof(text));
	if (text[0])
		fprintf(ui->out, "%s%s\n", L(ui, "注意: ", "Warning: "), text);
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
	datetime_text(ui, rfc3339, buf, sizeof(buf));
	member(o, ui, ja, en, buf);
}

/* The receipt number in groups of four for reading aloud over the phone:
 * "K7Q2 M4XA ...". */
static void grouped(const char *id, char *out, size_t n)
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

	proc_line_to(ui, o);
	fprintf(o, "%s\n\n", d);
	if (name == NULL && f != NULL && f->facts.name[0] != '\0')
		name = f->facts.name;
	member(o, ui, "申請者名　　: ", "Applicant:      ", name);
	if (receipt != NULL) {
		grouped(receipt, buf, sizeof(buf));
		member(o, ui, "受理番号　　: ", "Receipt:        ", buf);
		fprintf(o, "%s\n",
			L(ui, "              この受理番号を控えておいてください(お問い合わせの際に必要です)。",
			  "                Please note this receipt number down: you need it if you contact the window."));
	}
	member_time(o, ui, "受理日時　　: ", "Accepted at:    ", str(j, "acceptedAt"));
	member_time(o, ui, "失効する日時: ", "Effective from: ", str(j, "effectiveFrom"));
	if (ui->lang == MDG_LANG_EN) {
		iso_date_text(ui, str(json_object_get(j, "checkedOn"), "iso"), buf, sizeof(buf));
		member(o, ui, "", "Checked on:     ", buf);
	} else {
		member(o, ui, "確認年月日　: ", "", str(json_object_get(j, "checkedOn"), "wareki"));
	}
	member_time(o, ui, "確認日時　　: ", "Checked at:     ", str(j, "checkedAt"));
	crln = json_object_get(j, "crlNumber");
	if (json_is_integer(crln))
		fprintf(o, "%s%lld\n", L(ui, "CRL番号　　 : ", "CRL number:     "), (long long)json_integer_value(crln));
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
		json_array_foreach(exp, i, v)
			if (json_is_string(v))
				fprintf(o, "  %s\n", json_string_value(v));
	}
	member(o, ui, "要求ID　　　: ", "Request id:     ", str(j, "requestId"));
	if (r == MDG_BUSY || r == MDG_SERVICE_ERROR) {
		fprintf(o, "\n");
		if (!ui->sent)
			fprintf(o, "%s\n",
				L(ui, "オンライン窓口には何も送信していません。", "Nothing has been sent to the online window."));
		if (a->retry_after > 0)
			fprintf(o, L(ui, "しばらく(%ld秒ほど)経ってから、もう一度はじめからやり直してください。\n",
				     "Please start again from the beginning in a while (about %ld seconds).\n"),
				a->retry_after);
		else
			fprintf(o, "%s\n",
				L(ui, "しばらく経ってから、もう一度はじめからやり直してください。",
				  "Please start again from the beginning after a while."));
	}
	if (ui->card)
		fprintf(o, "\n%s\n",
			L(ui, "ICカードをICカードリーダライタから抜いてください。", "You may now remove the IC card from the reader."));
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
	t = answer_title(ui, j, *r);
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
