#include "toppage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "result.h"

/* Shared look: two columns, Japanese left, English right; one column on
 * narrow screens. No scripts, no external resources. */
static const char style[] =
	"body{font-family:sans-serif;line-height:1.6;margin:0 auto;max-width:72rem;padding:1rem 1.5rem;"
	"color:#1a1a1a;background:#fff}"
	"header{border-bottom:4px solid #00468b;margin-bottom:1rem}"
	"h1{color:#00468b;font-size:1.7rem;margin:.5rem 0}"
	"h2{border-left:6px solid #00468b;padding-left:.5rem;margin-top:2rem}"
	".pair{display:grid;grid-template-columns:1fr 1fr;gap:1.5rem}"
	"@media (max-width:48rem){.pair{grid-template-columns:1fr}}"
	".en{color:#333}"
	"table{border-collapse:collapse;width:100%}"
	"th,td{border:1px solid #999;padding:.35rem .5rem;text-align:left;vertical-align:top}"
	"th{background:#e8eef6}"
	"code,pre{background:#f3f3f3;font-family:monospace}"
	"pre{padding:.5rem;overflow-x:auto;white-space:pre-wrap}"
	"a{color:#0645ad}"
	".note{background:#fff8e1;border:1px solid #e0c060;padding:.5rem 1rem}"
	"footer{margin-top:2rem;border-top:1px solid #999;font-size:.9rem}";

static void esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

static void head(FILE *f, const char *title_ja, const char *title_en)
{
	fputs("<!DOCTYPE html>\n<html lang=\"ja\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
	      f);
	esc(f, title_ja);
	fputs(" / ", f);
	esc(f, title_en);
	fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n", style);
	fputs("<header>\n<p><a href=\"/\">公的個人認証サービス オンライン窓口</a> / "
	      "<a href=\"/\" lang=\"en\">JPKI Online Window</a></p>\n<h1>",
	      f);
	esc(f, title_ja);
	fputs("<br><span lang=\"en\" class=\"en\">", f);
	esc(f, title_en);
	fputs("</span></h1>\n</header>\n<main>\n", f);
}

static void tail(FILE *f)
{
	fputs("</main>\n<footer>\n<p>このページは JavaScript を使用しません。"
	      "<span lang=\"en\">This page needs no JavaScript.</span></p>\n"
	      "<p><a href=\"/\">トップページ / Top page</a> · <a href=\"/results/\">結果の一覧 / All results</a></p>\n"
	      "</footer>\n</body>\n</html>\n",
	      f);
}

/* buf and size are open_memstream's: valid only after fclose. */
static char *finish(FILE *f, char **buf, size_t *size, size_t *len)
{
	if (fclose(f) != 0) {
		free(*buf);
		return NULL;
	}
	*len = *size;
	return *buf;
}

static const enum mdg_procedure procs[] = { MDG_PROC_REVOCATION, MDG_PROC_VALIDITY };

static const char *proc_ja(enum mdg_procedure p)
{
	return p == MDG_PROC_REVOCATION ? "自己の電子証明書の失効申請" : "自己の電子証明書の有効性確認";
}

static const char *proc_en(enum mdg_procedure p)
{
	return p == MDG_PROC_REVOCATION ? "Revocation of your own certificate"
					: "Validity check of your own certificate";
}

static const char *proc_short_ja(enum mdg_procedure p)
{
	return p == MDG_PROC_REVOCATION ? "失効申請" : "有効性確認";
}

static const char *proc_short_en(enum mdg_procedure p)
{
	return p == MDG_PROC_REVOCATION ? "Revocation" : "Validity check";
}

/* One row per procedure and result, keyed by the Japanese title of the
 * screen the holder sees; the result's name (the API's) comes last. */
static void results_table(FILE *f)
{
	fputs("<table>\n<caption>結果と意味 / Results and what they mean</caption>\n"
	      "<thead><tr><th scope=\"col\">画面の題名</th><th scope=\"col\">手続 / <span "
	      "lang=\"en\">Procedure</span></th>"
	      "<th scope=\"col\" lang=\"en\">Title</th><th scope=\"col\">結果の名前 / <span "
	      "lang=\"en\">result</span></th>"
	      "</tr></thead>\n",
	      f);
	for (size_t i = 0; i < 2; i++) {
		enum mdg_procedure p = procs[i];
		fputs("<tbody>\n", f);
		for (int r = 0; r < MDG_RESULT_COUNT; r++) {
			if (!mdg_result_occurs((enum mdg_result)r, p))
				continue;
			const char *n = mdg_result_name((enum mdg_result)r);
			fprintf(f, "<tr><th scope=\"row\"><a href=\"/results/%s#%s\">", n, mdg_procedure_name(p));
			esc(f, mdg_result_title((enum mdg_result)r, p, MDG_LANG_JA));
			fputs("</a></th><td>", f);
			esc(f, proc_short_ja(p));
			fputs(" / <span lang=\"en\">", f);
			esc(f, proc_short_en(p));
			fputs("</span></td><td lang=\"en\">", f);
			esc(f, mdg_result_title((enum mdg_result)r, p, MDG_LANG_EN));
			fprintf(f, "</td><td><code>%s</code></td></tr>\n", n);
		}
		fputs("</tbody>\n", f);
	}
	fputs("</table>\n", f);
}

static void pair_open(FILE *f)
{
	fputs("<div class=\"pair\">\n<div lang=\"ja\">\n", f);
}

static void pair_mid(FILE *f)
{
	fputs("</div>\n<div lang=\"en\" class=\"en\">\n", f);
}

static void pair_close(FILE *f)
{
	fputs("</div>\n</div>\n", f);
}

/* The window's address in a command: the configured or requested one, else
 * a placeholder in the page's language. */
static void window_url(FILE *f, const struct mdg_toppage_site *site, enum mdg_lang lang)
{
	if (site->window_url != NULL && site->window_url[0] != '\0')
		esc(f, site->window_url);
	else
		fputs(lang == MDG_LANG_EN ? "https://(this window's address)/" : "https://(この窓口のアドレス)/", f);
}

static int host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

int mdg_toppage_origin(const char *scheme, const char *host, char *out, size_t outlen)
{
	const char *p = host;

	if (host == NULL || (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
		return -1;
	if (*p == '[') {
		/* an IPv6 literal: hex digits, colons and dots (an embedded IPv4) */
		for (p++; (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F') ||
			  *p == ':' || *p == '.';
		     p++)
			;
		if (*p != ']' || p == host + 1)
			return -1;
		p++;
	} else {
		while (host_char(*p))
			p++;
		if (p == host || host[0] == '.' || host[0] == '-')
			return -1;
	}
	if (*p == ':') {
		const char *port = ++p;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p == port || p - port > 5)
			return -1;
	}
	if (*p != '\0' || p - host > 255)
		return -1;
	int n = snprintf(out, outlen, "%s://%s/", scheme, host);
	if (n < 0 || (size_t)n >= outlen) {
		if (outlen > 0)
			out[0] = '\0';
		return -1;
	}
	return 0;
}

/* The commands that build the client alone on Debian 12 (meson option
 * client_only: only OpenSSL, jansson, libcurl, libp11; nothing of the
 * server). tests/e2e/test_toppage_build.py runs them as written. */
static const char client_build[] = "sudo apt-get install build-essential meson ninja-build pkg-config scdoc \\\n"
				   "  libssl-dev libjansson-dev libcurl4-openssl-dev libp11-dev\n"
				   "meson setup build-client -Dclient_only=true --buildtype=release\n"
				   "ninja -C build-client\n"
				   "sudo ninja -C build-client install\n";

static void client_section(FILE *f, const struct mdg_toppage_site *site)
{
	int have_url = site->client_url != NULL && site->client_url[0] != '\0';

	fputs("<section id=\"client\">\n<h2>利用者クライアントソフト / The client software</h2>\n", f);
	fputs("<h3 id=\"get-client\">入手 / <span lang=\"en\">Getting it</span></h3>\n", f);
	pair_open(f);
	fputs("<p>手続には利用者クライアントソフト <code>madoguchi-client</code> を使用します。"
	      "madoguchi のソースに含まれています(<code>client/</code>)。</p>\n",
	      f);
	if (have_url) {
		fputs("<p>この窓口の入手先: <a class=\"client-url\" href=\"", f);
		esc(f, site->client_url);
		fputs("\">", f);
		esc(f, site->client_url);
		fputs("</a></p>\n", f);
	} else {
		fputs("<p>この窓口では入手先が案内されていません。ソースの入手先は窓口の運用者にお問い合わせください。<"
		      "/p>\n",
		      f);
	}
	pair_mid(f);
	fputs("<p>The procedures use the client software <code>madoguchi-client</code>. It is part of the madoguchi "
	      "sources (<code>client/</code>).</p>\n",
	      f);
	if (have_url) {
		fputs("<p>This window offers it at: <a class=\"client-url\" href=\"", f);
		esc(f, site->client_url);
		fputs("\">", f);
		esc(f, site->client_url);
		fputs("</a></p>\n", f);
	} else {
		fputs("<p>This window names no place to get it; ask the window's operator where to get the "
		      "sources.</p>\n",
		      f);
	}
	pair_close(f);

	fputs("<h3 id=\"build-client\">作成と導入(Debian 12) / <span lang=\"en\">Building and installing it (Debian "
	      "12)</span></h3>\n",
	      f);
	pair_open(f);
	fputs("<p>"
	      "展開したソースのディレクトリで、次のコマンドを実行します。作成されるのは利用者クライアントソフトだけで、"
	      "必要なのはコンパイラ、meson、ninja、pkg-config と、OpenSSL、jansson、libcurl、libp11 のライブラリです。"
	      "導入されるのは <code>madoguchi-client</code> とその説明書(<code>man madoguchi-client</code>)だけで、"
	      "オンライン窓口のサーバやその systemd ユニットはパソコンに導入されません。</p>\n",
	      f);
	pair_mid(f);
	fputs("<p>In the directory of the unpacked sources, run the commands below. They build the client alone and "
	      "need only the compiler, meson, ninja, pkg-config and the OpenSSL, jansson, libcurl and libp11 "
	      "libraries. "
	      "They install <code>madoguchi-client</code> and its manual (<code>man madoguchi-client</code>) only: "
	      "nothing of the window's server or its systemd units goes on your PC.</p>\n",
	      f);
	pair_close(f);
	fputs("<pre id=\"client-build\">", f);
	esc(f, client_build);
	fputs("</pre>\n", f);

	fputs("<h3 id=\"use-card\">ICカードで使う / <span lang=\"en\">Using it with an IC card</span></h3>\n", f);
	pair_open(f);
	fputs("<p>ICカードリーダライタには OpenSC(PKCS#11 モジュール <code>opensc-pkcs11.so</code>)と pcscd を使います"
	      "(<code>sudo apt-get install opensc pcscd</code>)。例えば有効性確認は:</p>\n<pre>madoguchi-client check "
	      "--url ",
	      f);
	window_url(f, site, MDG_LANG_JA);
	fputs(" \\\n  --pkcs11-module /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so</pre>\n"
	      "<p>トークン名は既定で <code>JPKI</code>、鍵は <code>Digital Signature Key</code> です。"
	      "パスワードは画面に表示されずに入力できます。"
	      "各確認画面で内容を確認し、<kbd>y</kbd> で次に進みます。"
	      "結果は日本語(<code>--lang ja</code>、既定)または英語(<code>--lang en</code>)で表示され、"
	      "終了ステータスで結果が分かります(<code>man madoguchi-client</code>)。</p>\n",
	      f);
	pair_mid(f);
	fputs("<p>The IC card reader is used through OpenSC (the PKCS#11 module <code>opensc-pkcs11.so</code>) and "
	      "pcscd (<code>sudo apt-get install opensc pcscd</code>). A validity check, for example:</p>\n"
	      "<pre>madoguchi-client check --url ",
	      f);
	window_url(f, site, MDG_LANG_EN);
	fputs(" \\\n  --pkcs11-module /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so</pre>\n"
	      "<p>The token label defaults to <code>JPKI</code> and the key to <code>Digital Signature Key</code>. "
	      "The password is typed without being shown. Check each confirmation screen and answer "
	      "<kbd>y</kbd> to go on. The result is shown in Japanese (<code>--lang ja</code>, the default) or "
	      "English (<code>--lang en</code>), and the exit status tells the result "
	      "(<code>man madoguchi-client</code>).</p>\n",
	      f);
	pair_close(f);
	fputs("</section>\n", f);
}

/* The screens madoguchi-client shows by itself (manual 2.2.4-2.2.8 and
 * 3.2.4-3.2.8, and what a client on a network meets): nothing is sent. */
static void client_errors_section(FILE *f, const struct mdg_toppage_site *site)
{
	fputs("<section id=\"client-errors\">\n<h2>ICカードと接続のエラー / IC card and connection errors</h2>\n", f);
	pair_open(f);
	fputs("<p>次の画面は利用者クライアントソフトが表示します(オンライン窓口には何も送信されません)。</p>\n<dl>\n"
	      "<dt>利用者クライアントソフトの確認</dt><dd><code>madoguchi-client</code> "
	      "が見つからない(起動できない)場合は、"
	      "<a href=\"#build-client\">作成と導入</a>の手順で導入してください。</dd>\n"
	      "<dt>ICカード準備エラー</dt><dd>ICカードリーダライタの接続と電源、ICカードの挿入を確認してください。</"
	      "dd>\n"
	      "<dt>予期しないエラー</"
	      "dt><dd>処理の途中でICカードが抜かれた場合などです。ICカードを挿入し、はじめからやり直してください。</"
	      "dd>\n"
	      "<dt>パスワード確認失敗</"
	      "dt><dd>入力したパスワードが正しくありません。続けて5回間違えるとICカードがロックされます。"
	      "残りの回数に注意して入力し直すか、手続を中止してください。</dd>\n"
	      "<dt>パスワードロック</"
	      "dt><dd>"
	      "パスワードを続けて5回間違えるとロックされます。電子証明書を発行した市区町村の窓口で解除の手続きを行って"
	      "ください。</dd>\n"
	      "<dt>申請(確認)に必要な情報の取込みエラー</"
	      "dt><dd>"
	      "ICカードから電子証明書または鍵を読み取れませんでした。ICカードが正しく挿入されているか確認し、もう一度取"
	      "込んでください。</dd>\n"
	      "<dt>有効期限切れの電子証明書</dt><dd>失効申請も有効性確認も送信する必要はありません。</dd>\n"
	      "<dt>オンライン窓口に接続できません</dt><dd>ネットワークと、接続先(<code>",
	      f);
	window_url(f, site, MDG_LANG_JA);
	fputs("</code>)を確認し、しばらく経ってからはじめからやり直してください。"
	      "接続先のサーバ証明書を確認できない場合、利用者クライアントソフトは何も送信しません。</dd>\n</dl>\n",
	      f);
	pair_mid(f);
	fputs("<p>The client software shows these screens itself (nothing is sent to the window).</p>\n<dl>\n"
	      "<dt>Client software check</dt><dd>If <code>madoguchi-client</code> is not found (or does not start), "
	      "install it as in <a href=\"#build-client\">Building and installing it</a>.</dd>\n"
	      "<dt>IC card not ready</dt><dd>Check the reader's connection and power, and that the card is "
	      "inserted.</dd>\n"
	      "<dt>Unexpected error</dt><dd>For example the card was removed during the operation. Insert it and start "
	      "again.</dd>\n"
	      "<dt>Wrong password</dt><dd>The password entered is not correct. Five wrong passwords in a row lock the "
	      "card: "
	      "mind the tries left and enter it again, or cancel the procedure.</dd>\n"
	      "<dt>Password locked</dt><dd>Five wrong passwords in a row lock the card. Have it unlocked at the "
	      "municipal "
	      "office that issued your certificate.</dd>\n"
	      "<dt>Error reading the information</dt><dd>The certificate or the key could not be read from the card. "
	      "Check that the card is inserted properly and read it again.</dd>\n"
	      "<dt>Expired certificate</dt><dd>There is no need to send a revocation or a validity check.</dd>\n"
	      "<dt>Cannot reach the online window</dt><dd>Check the network and the address (<code>",
	      f);
	window_url(f, site, MDG_LANG_EN);
	fputs("</code>), wait a while and start again from the beginning. The client software sends nothing to a "
	      "server whose certificate it cannot verify.</dd>\n</dl>\n",
	      f);
	pair_close(f);
	fputs("</section>\n", f);
}

char *mdg_toppage_html(const struct mdg_toppage_site *site, size_t *len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (f == NULL)
		return NULL;
	head(f, "公的個人認証サービス オンライン窓口", "JPKI Online Window");

	fputs("<nav aria-label=\"目次 / Contents\"><ul>\n"
	      "<li><a href=\"#check-server\">サーバ証明書の確認 / Check the server certificate</a></li>\n"
	      "<li><a href=\"#procedures\">手続 / Procedures</a></li>\n"
	      "<li><a href=\"#client\">利用者クライアントソフト / The client software</a></li>\n"
	      "<li><a href=\"#results\">結果の意味 / What each result means</a></li>\n"
	      "<li><a href=\"#client-errors\">ICカードと接続のエラー / IC card and connection errors</a></li>\n"
	      "</ul></nav>\n",
	      f);

	fputs("<section id=\"check-server\">\n<h2>サーバ証明書の確認 / Check the server certificate</h2>\n", f);
	pair_open(f);
	fputs("<p "
	      "class=\"note\">"
	      "オンライン窓口とは重要な情報をやりとりします。ブラウザのアドレスバーに鍵マークが表示され、"
	      "通信が暗号化されていること(<code>https://</code>)を確認してください。"
	      "鍵マークから証明書を表示し、接続先が公的個人認証サービス "
	      "オンライン窓口のサーバであることを確認してください。"
	      "確認できない場合は、申請を送信しないでください。</p>\n"
	      "<p>利用者クライアントソフトは、接続先のサーバ証明書を必ず検証します。"
	      "検証できないサーバには何も送信しません(<code>--cacert</code> で信頼する認証局を指定できます)。</p>\n",
	      f);
	pair_mid(f);
	fputs("<p class=\"note\">You exchange important information with the online window. Check that the browser's "
	      "address bar shows the lock icon and that the connection is encrypted (<code>https://</code>). "
	      "Open the certificate from the lock icon and check that the server is the JPKI online window's. "
	      "If you cannot confirm it, do not send a request.</p>\n"
	      "<p>The client software always verifies the server certificate and sends nothing to a server it "
	      "cannot verify (<code>--cacert</code> names the certification authority to trust).</p>\n",
	      f);
	pair_close(f);
	fputs("</section>\n", f);

	fputs("<section id=\"procedures\">\n<h2>手続 / Procedures</h2>\n", f);
	for (size_t i = 0; i < 2; i++) {
		enum mdg_procedure p = procs[i];
		int rev = p == MDG_PROC_REVOCATION;
		fprintf(f, "<h3 id=\"%s\">", rev ? "revocation" : "validity-check");
		esc(f, proc_ja(p));
		fputs(" / <span lang=\"en\">", f);
		esc(f, proc_en(p));
		fputs("</span></h3>\n", f);
		pair_open(f);
		fprintf(f,
			"<p>%s</p>\n<ol>\n"
			"<li>%sの取込み: ICカードをICカードリーダライタに挿入します。</li>\n"
			"<li>ログイン: "
			"署名用電子証明書のパスワードを入力します(続けて5回間違えるとロックされます)。</li>\n"
			"<li>取込み情報の確認: %s(宛先、氏名、住所、性別、生年月日)を確認します。</li>\n"
			"<li>署名確認: %sに電子署名します。</li>\n"
			"<li>送信確認: 送信すると取り消すことはできません。</li>\n"
			"<li>結果の通知が表示されます。</li>\n</ol>\n"
			"<p>コマンド: <code>madoguchi-client %s --url ",
			rev ? "ICカードに格納された自己の署名用電子証明書の失効を申請します。受理された失効は、翌日のCR"
			      "L(証明書失効リスト)の発行から有効になります。"
			    : "ICカードに格納された自己の署名用電子証明書が現在有効であるかを確認します。",
			rev ? "申請に必要な情報" : "確認に必要な情報", rev ? "失効申請書" : "有効性確認申請書",
			rev ? "失効申請書" : "有効性確認申請書", rev ? "revoke" : "check");
		window_url(f, site, MDG_LANG_JA);
		fputs("</code></p>\n", f);
		pair_mid(f);
		fprintf(f,
			"<p>%s</p>\n<ol>\n"
			"<li>Reading the card: insert the IC card into the reader.</li>\n"
			"<li>Log in: enter the password of your signing certificate (five wrong passwords in a row "
			"lock it).</li>\n"
			"<li>Confirm the information read: check the %s (addressee, name, address, gender, date of "
			"birth).</li>\n"
			"<li>Confirm the signature: the form is signed.</li>\n"
			"<li>Confirm sending: once sent, it cannot be withdrawn.</li>\n"
			"<li>The result notice is shown.</li>\n</ol>\n"
			"<p>Command: <code>madoguchi-client %s --url ",
			rev ? "Ask for the revocation of your own signing certificate on your IC card. An accepted "
			      "revocation "
			      "takes effect when the next day's CRL (certificate revocation list) is issued."
			    : "Check that your own signing certificate on your IC card is valid now.",
			rev ? "revocation request form" : "validity check request form", rev ? "revoke" : "check");
		window_url(f, site, MDG_LANG_EN);
		fputs("</code></p>\n", f);
		pair_close(f);
	}
	fputs("</section>\n", f);

	client_section(f, site);

	fputs("<section id=\"results\">\n<h2>結果の意味 / What each result means</h2>\n", f);
	pair_open(f);
	fputs("<p>オンライン窓口は、申請ごとに次のいずれかの結果を通知します。画面の題名は手続ごとに異なります。"
	      "題名を選ぶと、その手続での意味と次にすべきことを表示します。</p>\n",
	      f);
	pair_mid(f);
	fputs("<p>The window answers each request with one of these results; a result's title depends on the "
	      "procedure. Follow a title for what it means on that procedure and what to do next.</p>\n",
	      f);
	pair_close(f);
	results_table(f);
	fputs("</section>\n", f);

	client_errors_section(f, site);
	tail(f);
	return finish(f, &buf, &size, len);
}

static int result_by_name(const char *name)
{
	for (int r = 0; r < MDG_RESULT_COUNT; r++)
		if (strcmp(mdg_result_name((enum mdg_result)r), name) == 0)
			return r;
	return -1;
}

static void title_detail(FILE *f, enum mdg_result r, enum mdg_procedure p, enum mdg_lang lang)
{
	fputs("<h3>", f);
	esc(f, mdg_result_title(r, p, lang));
	fputs("</h3>\n<p>", f);
	esc(f, mdg_result_detail(r, p, lang));
	fputs("</p>\n", f);
}

static void one_result(FILE *f, enum mdg_result r)
{
	for (size_t i = 0; i < 2; i++) {
		enum mdg_procedure p = procs[i];
		if (!mdg_result_occurs(r, p))
			continue;
		fprintf(f, "<section id=\"%s\">\n<h2>", mdg_procedure_name(p));
		esc(f, proc_ja(p));
		fputs(" / <span lang=\"en\">", f);
		esc(f, proc_en(p));
		if (mdg_result_statuses(r) != NULL)
			fprintf(f, "</span></h2>\n<p>HTTP %s</p>\n", mdg_result_statuses(r));
		else
			fprintf(f, "</span></h2>\n<p>HTTP %u</p>\n", mdg_result_status(r, p));
		pair_open(f);
		title_detail(f, r, p, MDG_LANG_JA);
		pair_mid(f);
		title_detail(f, r, p, MDG_LANG_EN);
		pair_close(f);
		fputs("</section>\n", f);
	}
}

char *mdg_result_page_html(const char *name, size_t *len, int *not_found)
{
	char *buf = NULL;
	size_t size = 0;
	int r = -1;
	FILE *f;

	*not_found = 0;
	if (name[0] != '\0' && (r = result_by_name(name)) < 0) {
		*not_found = 1;
		return NULL;
	}
	if ((f = open_memstream(&buf, &size)) == NULL)
		return NULL;
	if (r < 0) {
		head(f, "結果の一覧", "All results");
		pair_open(f);
		fputs("<p>"
		      "オンライン窓口が通知する結果の一覧です。結果の名前を選ぶと、手続ごとの意味と次にすべきことを表示"
		      "します。</p>\n",
		      f);
		pair_mid(f);
		fputs("<p>Every result the online window gives. Follow a result's name for what it means on each "
		      "procedure and what to do next.</p>\n",
		      f);
		pair_close(f);
		results_table(f);
	} else {
		char ja[512], en[512];
		/* the heading: the title of the procedure where it occurs first */
		enum mdg_procedure p = mdg_result_occurs((enum mdg_result)r, MDG_PROC_REVOCATION) ? MDG_PROC_REVOCATION
												  : MDG_PROC_VALIDITY;
		snprintf(ja, sizeof(ja), "%s", mdg_result_title((enum mdg_result)r, p, MDG_LANG_JA));
		snprintf(en, sizeof(en), "%s", mdg_result_title((enum mdg_result)r, p, MDG_LANG_EN));
		head(f, ja, en);
		fprintf(f, "<p>結果 / result: <code>%s</code></p>\n", mdg_result_name((enum mdg_result)r));
		one_result(f, (enum mdg_result)r);
	}
	tail(f);
	return finish(f, &buf, &size, len);
}
