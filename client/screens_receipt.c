/* The screens of `receipt verify` (docs/client.md "Receipts"): the receipt
 * as the manual's acceptance notice shows it, and one screen per failure,
 * in Japanese and English. */
#include "screens.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "screens_int.h"

static void line(const struct mdg_ui *ui, const char *ja, const char *en, const char *v)
{
	if (v != NULL && v[0] != '\0')
		fprintf(ui->out, "%s%s\n", L(ui, ja, en), v);
}

static void line_time(const struct mdg_ui *ui, const char *ja, const char *en, const char *rfc3339)
{
	char buf[128];

	if (rfc3339 == NULL)
		return;
	scr_datetime_text(ui, rfc3339, buf, sizeof(buf));
	line(ui, ja, en, buf);
}

void mdg_screen_receipt(const struct mdg_ui *ui, const struct mdg_receipt_view *v)
{
	char buf[512];

	scr_title(ui, L(ui, "受理証明書の確認結果:正当", "Receipt check: genuine"));
	scr_proc_line(ui);
	fprintf(ui->out, "%s\n",
		L(ui,
		  "この受理証明書は、オンライン窓口が次の失効申請を受理したことを示すものです。"
		  "署名を検証しました(内容は改ざんされていません)。",
		  "This receipt shows that the online window accepted the revocation request below. "
		  "Its signature has been verified (the content has not been altered)."));
	if (v->online)
		fprintf(ui->out, "%s\n",
			L(ui, "オンライン窓口の受理記録(ログ)に記録されていることも確認しました。",
			  "It has also been found in the window's acceptance log."));
	fprintf(ui->out, "\n");
	if (v->receipt_id != NULL) {
		scr_grouped(v->receipt_id, buf, sizeof(buf));
		line(ui, "受理番号　　: ", "Receipt:        ", buf);
	}
	line_time(ui, "受理日時　　: ", "Accepted at:    ", v->accepted_at);
	line_time(ui, "失効する日時: ", "Effective from: ", v->effective_from);
	line(ui, "シリアル番号: ", "Serial:         ", v->serial);
	line(ui, "発行者名　　: ", "Issuer:         ", v->issuer);
	if (v->reason != NULL) {
		snprintf(buf, sizeof(buf), "%s (%s)", scr_reason_text(ui, v->reason), v->reason);
		line(ui, "失効の理由　: ", "Reason:         ", buf);
	}
	line(ui, "申請書のSHA-256: ", "Request SHA-256: ", v->request_sha256);
	snprintf(buf, sizeof(buf), "%lld", v->log_index);
	line(ui, "ログ上の位置: ", "Log index:      ", buf);
	line(ui, "署名者　　　: ", "Signed by:      ", v->signer);
	if (v->online) {
		snprintf(buf, sizeof(buf),
			 L(ui, "記録済み(%s、%llu件のチェックポイントで確認)",
			   "included (%s, checkpoint of %llu entries)"),
			 v->log_name, v->tree_size);
		line(ui, "受理記録　　: ", "Log:            ", buf);
	} else {
		line(ui, "受理記録　　: ", "Log:            ",
		     L(ui, "確認していません(--url と --log-key を指定すると確認します)",
		       "not checked (give --url and --log-key to check it)"));
	}
	fprintf(ui->out, "\n%s\n",
		L(ui,
		  "受理証明書は失効申請を受理したことの証明です。失効したことは、認証局が発行する失効リスト(CRL)で確"
		  "認してください。",
		  "A receipt proves the request was accepted; that the certificate is revoked is shown by the CA's "
		  "CRL."));
}

static const char *failure_title(const struct mdg_ui *ui, enum mdg_rv v)
{
	switch (v) {
	case MDG_RV_OK:
	case MDG_RV_COUNT:
		break;
	case MDG_RV_USAGE:
		return L(ui, "利用方法の誤り", "Usage error");
	case MDG_RV_UNREADABLE:
		return L(ui, "受理証明書を読み込めません", "The receipt cannot be read");
	case MDG_RV_BAD_SIGNATURE:
		return L(ui, "受理証明書の署名が正しくありません", "The receipt's signature is not valid");
	case MDG_RV_UNTRUSTED:
		return L(ui, "受理証明書の署名者を信頼できません", "The receipt's signer is not trusted");
	case MDG_RV_NOT_IN_LOG:
		return L(ui, "受理記録(ログ)にありません", "Not in the acceptance log");
	case MDG_RV_LEAF_MISMATCH:
		return L(ui, "受理記録(ログ)の内容が受理証明書と異なります",
			 "The log's entry differs from the receipt");
	case MDG_RV_BAD_CHECKPOINT:
		return L(ui, "チェックポイントの署名を確認できません", "The checkpoint's signature does not verify");
	case MDG_RV_BAD_INCLUSION:
		return L(ui, "受理記録(ログ)に含まれることを確認できません", "Inclusion in the log does not verify");
	case MDG_RV_NETWORK:
		return L(ui, "通信エラー", "Network error");
	case MDG_RV_TLS:
		return L(ui, "サーバ証明書を検証できません", "Server certificate not verified");
	case MDG_RV_BAD_ANSWER:
		return L(ui, "オンライン窓口からの応答が正しくありません", "Unexpected answer from the window");
	}
	return "";
}

static const char *failure_body(const struct mdg_ui *ui, enum mdg_rv v)
{
	switch (v) {
	case MDG_RV_OK:
	case MDG_RV_COUNT:
	case MDG_RV_USAGE:
		break;
	case MDG_RV_UNREADABLE:
		return L(ui, "ファイルがないか、受理証明書(CMS署名データ)ではありません。",
			 "The file is missing, or it is not a receipt (CMS signed data).");
	case MDG_RV_BAD_SIGNATURE:
		return L(ui,
			 "受理証明書の内容または署名が書き換えられています。この受理証明書は受理の証明になりま"
			 "せん。",
			 "The receipt's content or signature has been altered: it proves nothing.");
	case MDG_RV_UNTRUSTED:
		return L(ui,
			 "署名は内容と一致しますが、署名者の証明書が指定された認証局(--cafile)につながりません。"
			 "認証局の証明書ファイルを確かめてください。",
			 "The signature matches the content, but the signer's certificate does not chain to the "
			 "anchors given (--cafile). Check the anchor file.");
	case MDG_RV_NOT_IN_LOG:
		return L(ui,
			 "オンライン窓口の受理記録(ログ)に、この受理番号の記録がまだないか、ありません。"
			 "しばらく経ってからもう一度確かめ、それでもなければ窓口にお問い合わせください。",
			 "The window's acceptance log has no (or not yet an) entry of this receipt number. "
			 "Check again in a while; if it is still missing, contact the window.");
	case MDG_RV_LEAF_MISMATCH:
		return L(ui,
			 "オンライン窓口が受理記録(ログ)として示した内容が、受理証明書の内容と一致しません。"
			 "窓口にお問い合わせください。",
			 "What the window shows as the log's entry is not the receipt's content. Contact the "
			 "window.");
	case MDG_RV_BAD_CHECKPOINT:
		return L(ui,
			 "受理記録(ログ)のチェックポイントが、指定された検証鍵(--log-key)で署名されていません。"
			 "検証鍵を確かめてください。",
			 "The log's checkpoint is not signed by the verifier key given (--log-key). Check the "
			 "key.");
	case MDG_RV_BAD_INCLUSION:
		return L(ui,
			 "包含証明がチェックポイントの根ハッシュに一致しません。受理証明書がこのログに含まれる"
			 "ことを確認できません。",
			 "The inclusion proof does not lead to the checkpoint's root hash: the receipt is not "
			 "shown to be in this log.");
	case MDG_RV_NETWORK:
		return L(ui, "オンライン窓口に接続できませんでした。受理証明書の署名は確認済みです。",
			 "The online window could not be reached. The receipt's signature was verified.");
	case MDG_RV_TLS:
		return L(ui, "オンライン窓口のサーバ証明書を検証できませんでした。",
			 "The online window's server certificate could not be verified.");
	case MDG_RV_BAD_ANSWER:
		return L(ui, "オンライン窓口の包含証明の応答を理解できませんでした。",
			 "The window's answer with the inclusion proof could not be understood.");
	}
	return NULL;
}

/* a literal pair, so the compiler checks both formats */
#define TEXT(ja, en) snprintf(base, sizeof(base), L(ui, ja, en), a)

void scr_receipt_check_text(const struct mdg_ui *ui, const struct mdg_msg *m, char *out, size_t n)
{
	const char *a = m->arg, *t = m->tech;
	char base[512] = "";

	switch ((enum mdg_receipt_check)m->num) {
	case MDG_RC_NOT_CMS:
		TEXT("%s はDER形式またはbase64形式のCMS署名データではありません",
		     "%s is not CMS signed data in DER or base64");
		break;
	case MDG_RC_NOT_RECEIPT:
		TEXT("%s の内容は受理証明書の内容ではありません", "the content of %s is not a receipt content");
		break;
	case MDG_RC_SIGNATURE:
		TEXT("%s の署名を検証できません", "the signature of %s does not verify");
		break;
	case MDG_RC_CHAIN:
		TEXT("署名者の証明書が %s の認証局の証明書で検証できません",
		     "the signer's certificate does not verify with the anchors in %s");
		break;
	case MDG_RC_UNKNOWN_ID:
		TEXT("受理番号 %s はログにありません", "the receipt number %s is not in the log");
		break;
	case MDG_RC_NOT_COVERED:
		TEXT("受理番号 %s はまだチェックポイントに含まれていません",
		     "the receipt number %s is not yet covered by a checkpoint");
		break;
	case MDG_RC_ID_DIFFERS:
		TEXT("ログが示した受理番号 %s が受理証明書と異なります", "the log gave the receipt number %s");
		break;
	case MDG_RC_INDEX_DIFFERS:
		TEXT("ログが示した位置 %s が受理証明書と異なります", "the log gave the index %s");
		break;
	case MDG_RC_LEAF_DIFFERS:
		TEXT("ログの記録(leaf)が受理証明書の内容とバイト単位で一致しません%s",
		     "the log's leaf is not the receipt's content byte for byte%s");
		break;
	case MDG_RC_CHECKPOINT:
		TEXT("チェックポイントに検証鍵 %s の正しい署名がありません",
		     "the checkpoint has no valid signature of the key %s");
		break;
	case MDG_RC_SIZE_DIFFERS:
		TEXT("包含証明のログの大きさがチェックポイントと異なります%s",
		     "the proof's tree size is not the checkpoint's%s");
		break;
	case MDG_RC_PROOF:
		TEXT("包含証明から計算した根ハッシュがチェックポイントと異なります%s",
		     "the root computed from the inclusion proof is not the checkpoint's%s");
		break;
	case MDG_RC_PROOF_FORM:
		TEXT("包含証明の応答の形式が正しくありません%s", "the proof answer is malformed%s");
		break;
	}
	if (t[0] != '\0')
		snprintf(out, n, "%s (%s)", base, t);
	else
		snprintf(out, n, "%s", base);
}

#undef TEXT

void mdg_screen_receipt_failure(const struct mdg_ui *ui, enum mdg_rv v, const struct mdg_msg *detail)
{
	const char *body = failure_body(ui, v);
	char cause[1024] = "";

	scr_title(ui, failure_title(ui, v));
	if (v != MDG_RV_USAGE)
		scr_proc_line(ui);
	if (body != NULL)
		fprintf(ui->out, "%s\n", body);
	if (detail != NULL)
		scr_msg_text(ui, detail, cause, sizeof(cause));
	if (cause[0])
		fprintf(ui->out, "%s%s\n", L(ui, "詳細: ", "Detail: "), cause);
}

char *mdg_receipt_failure_json(const struct mdg_ui *ui, enum mdg_rv v, const struct mdg_msg *detail)
{
	const char *body = failure_body(ui, v);
	char cause[1024] = "", *out;
	json_t *j = json_object();

	if (j == NULL)
		return NULL;
	if (detail != NULL)
		scr_msg_text(ui, detail, cause, sizeof(cause));
	json_object_set_new(j, "result", json_string("receiptNotVerified"));
	json_object_set_new(j, "reason", json_string(mdg_rv_name(v)));
	json_object_set_new(j, "exitStatus", json_integer(mdg_exit_for_rv(v)));
	json_object_set_new(j, "title", json_string(failure_title(ui, v)));
	json_object_set_new(j, "detail", json_string(body != NULL ? body : ""));
	if (cause[0])
		json_object_set_new(j, "cause", json_string(cause));
	out = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	return out;
}
