/* The one table of results: name, HTTP status per procedure, titles and
 * details in Japanese and English.  The Japanese titles are the manual's
 * screen titles as DESIGN.md fixes them, byte for byte; docs/protocol.md
 * carries the same texts. */
#include <stddef.h>

#include "result.h"

struct text {
	const char *ja;
	const char *en;
};

struct variant {
	unsigned status;
	struct text title;
	struct text detail;
};

/* [MDG_PROC_NONE] may be left empty (status 0, NULL texts): it then takes
 * the revocation variant.  Only results that can occur without a procedure
 * (404/405, busy, faults, nonce endpoint) have their own neutral one. */
struct row {
	const char *name;
	struct variant v[3]; /* by enum mdg_procedure */
};

#define V(status, tja, ten, dja, den)                                                                                  \
	{                                                                                                              \
		(status), { (tja), (ten) },                                                                            \
		{                                                                                                      \
			(dja), (den)                                                                                   \
		}                                                                                                      \
	}

static const struct row results[] = {
	[MDG_ACCEPTED] = { "accepted",
			   {
				   [MDG_PROC_REVOCATION] = V(
					   201, "オンライン失効申請の受理通知",
					   "Notice of acceptance of the online revocation request",
					   "オンライン失効申請を受理しました。"
					   "この電子証明書が実際に失効状態になるのは、翌日のCRL(証明書失効リスト)"
					   "が発行された時からです"
					   "(受付が発行時刻の直前の場合は、その次に発行されるCRLからになります。失効す"
					   "る日時はこの通知に記載しています)。"
					   "失効申請は受理しましたが、ICカード内には秘密鍵と電子証明書が残っています。"
					   "公的個人認証サービス利用者規約に従い、電子証明書の発行を受けた市区町村の窓"
					   "口で、"
					   "秘密鍵及び電子証明書の消去を申請してください。",
					   "Your online revocation request has been accepted. "
					   "The certificate becomes revoked when the next day's CRL (certificate "
					   "revocation list) is issued "
					   "(if the request arrived shortly before the issue time, from the CRL issued "
					   "after that one; "
					   "this notice states when the revocation takes effect). "
					   "Although the request has been accepted, the private key and the "
					   "certificate remain on your IC card. "
					   "As the JPKI terms of use require, please apply at the counter of the "
					   "municipal office that issued "
					   "the certificate to have the private key and the certificate erased."),
				   [MDG_PROC_VALIDITY] = V(
					   201, "オンライン失効申請の受理通知",
					   "Notice of acceptance of the online revocation request",
					   "オンライン失効申請を受理しました。"
					   "この電子証明書が実際に失効状態になるのは、翌日のCRL(証明書失効リスト)"
					   "が発行された時からです"
					   "(受付が発行時刻の直前の場合は、その次に発行されるCRLからになります。失効す"
					   "る日時はこの通知に記載しています)。"
					   "失効申請は受理しましたが、ICカード内には秘密鍵と電子証明書が残っています。"
					   "公的個人認証サービス利用者規約に従い、電子証明書の発行を受けた市区町村の窓"
					   "口で、"
					   "秘密鍵及び電子証明書の消去を申請してください。",
					   "Your online revocation request has been accepted. "
					   "The certificate becomes revoked when the next day's CRL (certificate "
					   "revocation list) is issued "
					   "(if the request arrived shortly before the issue time, from the CRL issued "
					   "after that one; "
					   "this notice states when the revocation takes effect). "
					   "Although the request has been accepted, the private key and the "
					   "certificate remain on your IC card. "
					   "As the JPKI terms of use require, please apply at the counter of the "
					   "municipal office that issued "
					   "the certificate to have the private key and the certificate erased."),
			   } },
	[MDG_VALID] = { "valid",
			{
				[MDG_PROC_REVOCATION] =
					V(200, "オンライン有効性確認結果通知:有効",
					  "Result of the online validity check: valid",
					  "有効性確認を実施しました。"
					  "添付された電子証明書は、現時点において失効情報(CRL)"
					  "に記載されておらず、有効です。"
					  "確認年月日はこの通知に記載しています。",
					  "The validity check has been carried out. "
					  "The attached certificate is not listed in the revocation information (CRL) "
					  "at this time, "
					  "and is valid. The date of the check is stated in this notice."),
				[MDG_PROC_VALIDITY] = V(200, "オンライン有効性確認結果通知:有効",
							"Result of the online validity check: valid",
							"有効性確認を実施しました。"
							"有効性確認申請書に添付された電子証明書は、現時点において失効情"
							"報(CRL)に記載されておらず、有効です。"
							"確認年月日はこの通知に記載しています。",
							"The validity check has been carried out. "
							"The certificate attached to your validity check request is "
							"not listed in the revocation "
							"information (CRL) at this time, and is valid. The date of the "
							"check is stated in this notice."),
			} },
	[MDG_REVOKED] = { "revoked",
			  {
				  [MDG_PROC_REVOCATION] =
					  V(409, "失効済電子証明書に対する失効申請",
					    "Revocation request for an already revoked certificate",
					    "失効申請書に添付された電子証明書は、既に失効しています。"
					    "既に失効した電子証明書について失効申請を行う必要はありません。",
					    "The certificate attached to your revocation request has already been "
					    "revoked. "
					    "There is no need to request the revocation of a certificate that is "
					    "already revoked."),
				  [MDG_PROC_VALIDITY] = V(200, "オンライン有効性確認結果通知:失効済み",
							  "Result of the online validity check: revoked",
							  "有効性確認を実施しました。"
							  "有効性確認申請書に添付された電子証明書は既に失効しており、有"
							  "効ではありません。"
							  "新しい電子証明書が必要な場合は、お住まいの市区町村の窓口で発"
							  "行を申請してください。",
							  "The validity check has been carried out. "
							  "The certificate attached to your validity check request has "
							  "been revoked and is not valid. "
							  "If you need a new certificate, please apply for one at the "
							  "counter of your municipal office."),
			  } },
	[MDG_REVOCATION_ACCEPTED] = { "revocationAccepted",
				      {
					      [MDG_PROC_REVOCATION] =
						      V(409, "同一の電子証明書に対する二重の失効申請",
							"Duplicate revocation request for the same certificate",
							"この電子証明書に対するオンライン失効申請は既に受理しています。"
							"先に受理した失効申請の内容で失効処理を行いますので、再度失効申"
							"請をする必要はありません。"
							"先の申請の受理番号と失効する日時はこの通知に記載しています。",
							"An online revocation request for this certificate has already "
							"been accepted. "
							"The certificate will be revoked as set out in that earlier "
							"request, so there is no need to apply again. "
							"The receipt number of the earlier request and the time the "
							"revocation takes effect are stated "
							"in this notice."),
					      [MDG_PROC_VALIDITY] =
						      V(200, "オンライン有効性確認結果通知:オンライン失効受理済み",
							"Result of the online validity check: online revocation "
							"already accepted",
							"有効性確認を実施しました。"
							"有効性確認申請書に添付された電子証明書に対するオンライン失効申"
							"請を既に受理しており、"
							"受理した失効申請の内容で失効処理が行われます。再度失効申請をす"
							"る必要はありません。",
							"The validity check has been carried out. "
							"An online revocation request for the certificate attached to "
							"your validity check request has "
							"already been accepted, and the certificate will be revoked as "
							"set out in that request. "
							"There is no need to request its revocation again."),
				      } },
	[MDG_EXPIRED] = { "expired",
			  {
				  [MDG_PROC_REVOCATION] =
					  V(422, "有効期限切れの電子証明書に対する失効申請",
					    "Revocation request for an expired certificate",
					    "失効申請書に添付された電子証明書は、有効期限が切れています。"
					    "有効期限の切れた電子証明書について失効申請を行う必要はありません。",
					    "The certificate attached to your revocation request has expired. "
					    "There is no need to request the revocation of an expired certificate."),
				  [MDG_PROC_VALIDITY] =
					  V(200, "有効期限切れの電子証明書に対する有効性確認",
					    "Validity check of an expired certificate",
					    "有効性確認申請書に添付された電子証明書は、有効期限が切れています。"
					    "有効期限の切れた電子証明書は有効ではありません。"
					    "新しい電子証明書が必要な場合は、お住まいの市区町村の窓口で発行を申請してく"
					    "ださい。",
					    "The certificate attached to your validity check request has expired. "
					    "An expired certificate is not valid. "
					    "If you need a new certificate, please apply for one at the counter of "
					    "your municipal office."),
			  } },
	[MDG_NOT_YET_VALID] = { "notYetValid",
				{
					/* A revocation of a not-yet-valid certificate proceeds; this
		 * variant exists only so that the table is total. */
					[MDG_PROC_REVOCATION] =
						V(200, "有効期間開始前の電子証明書に対する有効性確認",
						  "Validity check of a certificate whose validity period has not yet "
						  "begun",
						  "添付された電子証明書は、有効期間がまだ始まっていないため、現時点では"
						  "有効ではありません。"
						  "電子証明書に記載された有効期間の開始日時を過ぎてから、もう一度はじめ"
						  "から手続をやり直してください。",
						  "The validity period of the attached certificate has not yet begun, "
						  "so the certificate is not valid at this time. "
						  "Please start the procedure again from the beginning after the start "
						  "of the validity period "
						  "shown in the certificate."),
					[MDG_PROC_VALIDITY] = V(200, "有効期間開始前の電子証明書に対する有効性確認",
								"Validity check of a certificate whose validity period "
								"has not yet begun",
								"有効性確認申請書に添付された電子証明書は、有効期間がま"
								"だ始まっていないため、現時点では有効ではありません。"
								"電子証明書に記載された有効期間の開始日時を過ぎてから、"
								"もう一度はじめから有効性確認をやり直してください。",
								"The validity period of the certificate attached to "
								"your validity check request has not yet begun, "
								"so the certificate is not valid at this time. "
								"Please check again from the beginning after the start "
								"of the validity period shown in "
								"the certificate."),
				} },
	[MDG_ISSUER_MISMATCH] = { "issuerMismatch",
				  {
					  [MDG_PROC_REVOCATION] =
						  V(422, "電子証明書の有効性確認のエラー",
						    "Certificate validity check error",
						    "受信した電子証明書の発行者名が、公的個人認証サービスの認証局の自己"
						    "署名証明書の名前と一致しません。"
						    "この電子証明書は公的個人認証サービスの認証局で発行されたものではな"
						    "いと考えられます。"
						    "公的個人認証サービスの認証局で発行された電子証明書を使用して、もう"
						    "一度はじめから失効申請をやり直してください。"
						    "再度このエラーになる場合は、利用者クライアントソフトの証明書表示ツ"
						    "ールで電子証明書の詳細を表示し、"
						    "証明書内の発行者名がこの通知に記載した発行者名のいずれかと一致する"
						    "ことを確認してください。",
						    "The issuer name in the certificate received does not match the "
						    "name in the self-signed "
						    "certificate of any JPKI certification authority, so the "
						    "certificate was apparently not issued "
						    "by a JPKI certification authority. "
						    "Please start the revocation request again from the beginning with "
						    "a certificate issued by "
						    "a JPKI certification authority. "
						    "If this error appears again, display the details of your "
						    "certificate with the client software's "
						    "certificate viewer and check that its issuer name matches one of "
						    "the issuer names listed in this notice."),
					  [MDG_PROC_VALIDITY] =
						  V(422, "オンライン有効性確認結果通知:有効性確認のエラー",
						    "Result of the online validity check: validity check error",
						    "受信した電子証明書の発行者名が、公的個人認証サービスの認証局の自己"
						    "署名証明書の名前と一致しません。"
						    "この電子証明書は公的個人認証サービスの認証局で発行されたものではな"
						    "いと考えられます。"
						    "公的個人認証サービスの認証局で発行された電子証明書を使用して、もう"
						    "一度はじめから有効性確認をやり直してください。"
						    "再度このエラーになる場合は、利用者クライアントソフトの証明書表示ツ"
						    "ールで電子証明書の詳細を表示し、"
						    "証明書内の発行者名がこの通知に記載した発行者名のいずれかと一致する"
						    "ことを確認してください。",
						    "The issuer name in the certificate received does not match the "
						    "name in the self-signed "
						    "certificate of any JPKI certification authority, so the "
						    "certificate was apparently not issued "
						    "by a JPKI certification authority. "
						    "Please start the validity check again from the beginning with a "
						    "certificate issued by "
						    "a JPKI certification authority. "
						    "If this error appears again, display the details of your "
						    "certificate with the client software's "
						    "certificate viewer and check that its issuer name matches one of "
						    "the issuer names listed in this notice."),
				  } },
	[MDG_BAD_CERTIFICATE_SIGNATURE] = { "badCertificateSignature",
					    {
						    [MDG_PROC_REVOCATION] =
							    V(422, "電子証明書の検証エラー",
							      "Certificate verification error",
							      "受信した電子証明書に付与された認証局の電子署名を、正しく"
							      "検証できませんでした。"
							      "ICカードから申請に必要な情報をもう一度取り込み、手順をは"
							      "じめからやり直してください。"
							      "再度このエラーになる場合は、利用者クライアントソフトの証"
							      "明書表示ツールで電子証明書を表示し、"
							      "証明書の内容が正しく表示されることを確認してください。",
							      "The certification authority's signature on the "
							      "certificate received could not be verified. "
							      "Please read the information needed for the request from "
							      "your IC card again and repeat the "
							      "procedure from the beginning. "
							      "If this error appears again, display your certificate "
							      "with the client software's certificate "
							      "viewer and check that its contents are displayed "
							      "correctly."),
						    [MDG_PROC_VALIDITY] =
							    V(422, "電子証明書の検証エラー",
							      "Certificate verification error",
							      "受信した電子証明書に付与された認証局の電子署名を、正しく"
							      "検証できませんでした。"
							      "ICカードから確認に必要な情報をもう一度取り込み、手順をは"
							      "じめからやり直してください。"
							      "再度このエラーになる場合は、利用者クライアントソフトの証"
							      "明書表示ツールで電子証明書を表示し、"
							      "証明書の内容が正しく表示されることを確認してください。",
							      "The certification authority's signature on the "
							      "certificate received could not be verified. "
							      "Please read the information needed for the check from "
							      "your IC card again and repeat the "
							      "procedure from the beginning. "
							      "If this error appears again, display your certificate "
							      "with the client software's certificate "
							      "viewer and check that its contents are displayed "
							      "correctly."),
					    } },
	[MDG_BAD_REQUEST_SIGNATURE] = { "badRequestSignature",
					{
						[MDG_PROC_REVOCATION] =
							V(422, "失効申請書の検証エラー",
							  "Revocation request form verification error",
							  "受信した失効申請書に付与された申請者の電子署名を、正しく検証"
							  "できませんでした"
							  "(失効申請書の内容が電子証明書の記載と一致しない場合を含みま"
							  "す)。"
							  "もう一度申請に必要な情報を取り込み、手順をはじめからやり直し"
							  "てください。"
							  "再度このエラーになる場合は、電子署名の前に表示される失効申請"
							  "書の内容"
							  "(氏名、住所、生年月日、性別)を確認してください。",
							  "The applicant's signature on the revocation request form "
							  "received could not be verified "
							  "(this includes a form whose contents differ from those of "
							  "the certificate). "
							  "Please read the information needed for the request again "
							  "and repeat the procedure from the beginning. "
							  "If this error appears again, check the contents of the "
							  "revocation request form "
							  "(name, address, date of birth, gender) shown before you "
							  "sign it."),
						[MDG_PROC_VALIDITY] =
							V(422, "有効性確認申請書の検証エラー",
							  "Validity check request form verification error",
							  "受信した有効性確認申請書に付与された申請者の電子署名を、正し"
							  "く検証できませんでした"
							  "(有効性確認申請書の内容が電子証明書の記載と一致しない場合を"
							  "含みます)。"
							  "もう一度確認に必要な情報を取り込み、手順をはじめからやり直し"
							  "てください。"
							  "再度このエラーになる場合は、電子署名の前に表示される有効性確"
							  "認申請書の内容"
							  "(氏名、住所、生年月日、性別)を確認してください。",
							  "The applicant's signature on the validity check request "
							  "form received could not be verified "
							  "(this includes a form whose contents differ from those of "
							  "the certificate). "
							  "Please read the information needed for the check again and "
							  "repeat the procedure from the beginning. "
							  "If this error appears again, check the contents of the "
							  "validity check request form "
							  "(name, address, date of birth, gender) shown before you "
							  "sign it."),
					} },
	[MDG_MALFORMED] = { "malformed",
			    {
				    [MDG_PROC_NONE] =
					    V(400, "受信データの形式エラー", "Format error in the received data",
					      "オンライン窓口が受信した要求は、宛先、方法または形式が規定に合っていませ"
					      "ん。"
					      "オンライン窓口のトップ画面から、手続をはじめからやり直してください。",
					      "The request received by the online window does not match the required "
					      "address, method or format. "
					      "Please start the procedure again from the beginning at the online "
					      "window's top page."),
				    [MDG_PROC_REVOCATION] = V(
					    400, "受信データの形式エラー", "Format error in the received data",
					    "オンライン窓口が受信した失効申請書、電子署名、電子証明書のデータ形式が、規"
					    "定の形式に合っていません。"
					    "もう一度申請に必要な情報を取り込み、手続をはじめからやり直してください。",
					    "The data received by the online window (revocation request form, "
					    "signature and certificate) "
					    "is not in the required format. "
					    "Please read the information needed for the request again and start the "
					    "procedure again "
					    "from the beginning."),
				    [MDG_PROC_VALIDITY] = V(
					    400, "受信データの形式エラー", "Format error in the received data",
					    "オンライン窓口が受信した有効性確認申請書、電子署名、電子証明書のデータ形式"
					    "が、規定の形式に合っていません。"
					    "もう一度確認に必要な情報を取り込み、手続をはじめからやり直してください。",
					    "The data received by the online window (validity check request form, "
					    "signature and certificate) "
					    "is not in the required format. "
					    "Please read the information needed for the check again and start the "
					    "procedure again "
					    "from the beginning."),
			    } },
	[MDG_BAD_NONCE] = { "badNonce",
			    {
				    [MDG_PROC_NONE] =
					    V(400, "申請の受付期限切れ", "The time limit for the request has passed",
					      "申請書の受付期限が過ぎているか、申請書に記載された受付用の番号(ナンス)"
					      "が正しくありません。"
					      "オンライン窓口から新しい受付用の番号を取得し、もう一度電子署名を作成して"
					      "から申請してください。",
					      "The time limit for accepting the request form has passed, or the "
					      "one-time number (nonce) "
					      "in the form is not valid. "
					      "Please obtain a new nonce from the online window, sign the form again "
					      "and resubmit it."),
				    [MDG_PROC_REVOCATION] =
					    V(400, "申請の受付期限切れ", "The time limit for the request has passed",
					      "失効申請書の受付期限が過ぎているか、失効申請書に記載された受付用の番号("
					      "ナンス)が正しくありません。"
					      "オンライン窓口から新しい受付用の番号を取得し、もう一度電子署名を作成して"
					      "から失効申請をしてください。",
					      "The time limit for accepting your revocation request form has passed, "
					      "or the one-time number "
					      "(nonce) in the form is not valid. "
					      "Please obtain a new nonce from the online window, sign the form again "
					      "and resubmit your "
					      "revocation request."),
				    [MDG_PROC_VALIDITY] =
					    V(400, "申請の受付期限切れ", "The time limit for the request has passed",
					      "有効性確認申請書の受付期限が過ぎているか、有効性確認申請書に記載された受"
					      "付用の番号(ナンス)が正しくありません。"
					      "オンライン窓口から新しい受付用の番号を取得し、もう一度電子署名を作成して"
					      "から有効性確認をしてください。",
					      "The time limit for accepting your validity check request form has "
					      "passed, or the one-time number "
					      "(nonce) in the form is not valid. "
					      "Please obtain a new nonce from the online window, sign the form again "
					      "and resubmit your "
					      "validity check request."),
			    } },
	[MDG_BUSY] = { "busy",
		       {
			       [MDG_PROC_NONE] =
				       V(503, "オンライン窓口サービスの混雑", "The online window service is busy",
					 "オンライン窓口のサービスが混雑しています。"
					 "しばらく経ってから、もう一度アクセスしてください。",
					 "The online window service is busy. "
					 "Please wait a while and then try again."),
			       [MDG_PROC_REVOCATION] = V(
				       503, "オンライン窓口サービスの混雑", "The online window service is busy",
				       "オンライン窓口のサービスが混雑しているため、失効申請を受け付けることができませ"
				       "んでした。"
				       "もう一度申請する場合は、しばらく経ってからアクセスし直してください。",
				       "The online window service is busy and could not take your revocation request. "
				       "To apply again, please wait a while and then access the window again."),
			       [MDG_PROC_VALIDITY] =
				       V(503, "オンライン窓口サービスの混雑", "The online window service is busy",
					 "オンライン窓口のサービスが混雑しているため、有効性確認を受け付けることができ"
					 "ませんでした。"
					 "もう一度確認する場合は、しばらく経ってからアクセスし直してください。",
					 "The online window service is busy and could not take your validity check "
					 "request. "
					 "To check again, please wait a while and then access the window again."),
		       } },
	[MDG_SERVICE_ERROR] = { "serviceError",
				{
					[MDG_PROC_NONE] =
						V(500, "オンライン窓口サービスのエラー", "Online window service error",
						  "オンライン窓口のサービス中に不具合が発生し、処理を継続することができ"
						  "ませんでした。"
						  "しばらく経ってから、手続をはじめからやり直してください。",
						  "A fault occurred in the online window service and the processing "
						  "could not continue. "
						  "Please wait a while and then start the procedure again from the "
						  "beginning."),
					[MDG_PROC_REVOCATION] =
						V(500, "オンライン窓口サービスのエラー", "Online window service error",
						  "オンライン窓口のサービス中に不具合が発生し、処理を継続することができ"
						  "ませんでした。"
						  "しばらく経ってから、失効申請をはじめからやり直してください。",
						  "A fault occurred in the online window service and the processing "
						  "could not continue. "
						  "Please wait a while and then start the revocation request again "
						  "from the beginning."),
					[MDG_PROC_VALIDITY] =
						V(500, "オンライン窓口サービスのエラー", "Online window service error",
						  "オンライン窓口のサービス中に不具合が発生し、処理を継続することができ"
						  "ませんでした。"
						  "しばらく経ってから、有効性確認をはじめからやり直してください。",
						  "A fault occurred in the online window service and the processing "
						  "could not continue. "
						  "Please wait a while and then start the validity check again from "
						  "the beginning."),
				} },
};

_Static_assert(sizeof(results) / sizeof(results[0]) == MDG_RESULT_COUNT, "one row per enum mdg_result");

static const char *const procedure_names[] = {
	[MDG_PROC_NONE] = NULL,
	[MDG_PROC_REVOCATION] = "revocation",
	[MDG_PROC_VALIDITY] = "validity-check",
};

_Static_assert(sizeof(procedure_names) / sizeof(procedure_names[0]) == MDG_PROC_VALIDITY + 1,
	       "one name per enum mdg_procedure");

const char *mdg_procedure_name(enum mdg_procedure proc)
{
	if ((unsigned)proc > MDG_PROC_VALIDITY)
		return NULL;
	return procedure_names[proc];
}

/* An out-of-range result is a caller's bug; answer serviceError rather than
 * read past the table. */
static const struct row *row_of(enum mdg_result r)
{
	if ((unsigned)r >= MDG_RESULT_COUNT)
		r = MDG_SERVICE_ERROR;
	return &results[r];
}

static const struct variant *variant_of(enum mdg_result r, enum mdg_procedure proc)
{
	const struct row *row = row_of(r);

	if ((unsigned)proc > MDG_PROC_VALIDITY || row->v[proc].title.ja == NULL)
		proc = MDG_PROC_REVOCATION;
	return &row->v[proc];
}

const char *mdg_result_name(enum mdg_result r)
{
	return row_of(r)->name;
}

/* Results answered with more than one status whatever the procedure: every
 * one of them, for the pages (the table above gives the usual one). */
static const char *const all_statuses[MDG_RESULT_COUNT] = {
	[MDG_MALFORMED] = "400, 404, 405, 413 (too large), 415 (wrong media type)",
	[MDG_SERVICE_ERROR] = "500, 503 (with Retry-After: the revocation data is stale or "
			      "the database cannot be reached)",
};

const char *mdg_result_statuses(enum mdg_result r)
{
	if ((unsigned)r >= MDG_RESULT_COUNT)
		r = MDG_SERVICE_ERROR;
	return all_statuses[r];
}

unsigned mdg_result_status(enum mdg_result r, enum mdg_procedure proc)
{
	return variant_of(r, proc)->status;
}

const char *mdg_result_title(enum mdg_result r, enum mdg_procedure proc, enum mdg_lang lang)
{
	const struct variant *v = variant_of(r, proc);

	return lang == MDG_LANG_EN ? v->title.en : v->title.ja;
}

const char *mdg_result_detail(enum mdg_result r, enum mdg_procedure proc, enum mdg_lang lang)
{
	const struct variant *v = variant_of(r, proc);

	return lang == MDG_LANG_EN ? v->detail.en : v->detail.ja;
}

/* ------------------------------------------------------------ the reasons */

#define P_NONE (1u << MDG_PROC_NONE)
#define P_REV (1u << MDG_PROC_REVOCATION)
#define P_VAL (1u << MDG_PROC_VALIDITY)
#define P_PROC (P_REV | P_VAL)
#define P_ANY (P_NONE | P_REV | P_VAL)

/* One row per way a request ends.  status[proc] 0: the result's status
 * on that procedure (the table above); an ending without an answer has no
 * result and status 0.  procs: where the reason can occur. */
struct reason_row {
	const char *name;
	int has_result;
	enum mdg_result result;
	unsigned status[3];   /* by enum mdg_procedure */
	unsigned retry_after; /* seconds, 0: none */
	enum mdg_blame blame;
	unsigned procs; /* P_* */
};

#define R(name, result, s, retry, blame, procs)                                                                        \
	{                                                                                                              \
		(name), 1, (result), { (s), (s), (s) }, (retry), (blame), (procs)                                      \
	}
#define NO_RESULT(name, s, blame, procs)                                                                               \
	{                                                                                                              \
		(name), 0, MDG_SERVICE_ERROR, { (s), (s), (s) }, 0, (blame), (procs)                                   \
	}

static const struct reason_row reasons[] = {
	[MDG_REASON_BUSY] = R("busy", MDG_BUSY, 0, 5, MDG_BLAME_NONE, P_PROC),
	[MDG_REASON_BAD_FRAMING] = R("badFraming", MDG_MALFORMED, 400, 0, MDG_BLAME_THEIRS, P_ANY),
	[MDG_REASON_BODY_TOO_LARGE] = R("bodyTooLarge", MDG_MALFORMED, 413, 0, MDG_BLAME_THEIRS, P_PROC),
	[MDG_REASON_WRONG_MEDIA_TYPE] = R("wrongMediaType", MDG_MALFORMED, 415, 0, MDG_BLAME_THEIRS, P_PROC),
	[MDG_REASON_NOT_DER] = R("notDer", MDG_MALFORMED, 400, 0, MDG_BLAME_THEIRS, P_PROC),
	[MDG_REASON_BAD_CMS] = R("badCms", MDG_MALFORMED, 400, 0, MDG_BLAME_THEIRS, P_PROC),
	[MDG_REASON_BAD_CERT] = R("badCertificate", MDG_MALFORMED, 400, 0, MDG_BLAME_THEIRS, P_PROC),
	[MDG_REASON_BAD_FORM] = R("badForm", MDG_MALFORMED, 400, 0, MDG_BLAME_THEIRS, P_PROC),
	[MDG_REASON_ISSUER_MISMATCH] = R("issuerMismatch", MDG_ISSUER_MISMATCH, 0, 0, MDG_BLAME_THEIRS, P_PROC),
	[MDG_REASON_CERT_SIGNATURE] =
		R("certificateSignature", MDG_BAD_CERTIFICATE_SIGNATURE, 0, 0, MDG_BLAME_THEIRS, P_PROC),
	[MDG_REASON_CERT_PROFILE] =
		R("certificateProfile", MDG_BAD_CERTIFICATE_SIGNATURE, 0, 0, MDG_BLAME_THEIRS, P_PROC),
	[MDG_REASON_REQUEST_SIGNATURE] =
		R("requestSignature", MDG_BAD_REQUEST_SIGNATURE, 0, 0, MDG_BLAME_THEIRS, P_PROC),
	[MDG_REASON_APPLICANT_MISMATCH] =
		R("applicantMismatch", MDG_BAD_REQUEST_SIGNATURE, 0, 0, MDG_BLAME_THEIRS, P_PROC),
	[MDG_REASON_BAD_NONCE] = R("badNonce", MDG_BAD_NONCE, 0, 0, MDG_BLAME_THEIRS, P_PROC),
	[MDG_REASON_EXPIRED] = R("expired", MDG_EXPIRED, 0, 0, MDG_BLAME_NONE, P_PROC),
	[MDG_REASON_NOT_YET_VALID] = R("notYetValid", MDG_NOT_YET_VALID, 0, 0, MDG_BLAME_NONE, P_VAL),
	[MDG_REASON_REVOKED] = R("revoked", MDG_REVOKED, 0, 0, MDG_BLAME_NONE, P_PROC),
	[MDG_REASON_REVOCATION_ACCEPTED] =
		R("revocationAccepted", MDG_REVOCATION_ACCEPTED, 0, 0, MDG_BLAME_NONE, P_PROC),
	[MDG_REASON_ACCEPTED] = R("accepted", MDG_ACCEPTED, 0, 0, MDG_BLAME_NONE, P_REV),
	[MDG_REASON_VALID] = R("valid", MDG_VALID, 0, 0, MDG_BLAME_NONE, P_VAL),
	/* never valid on stale data (DESIGN.md check 11); a revocation goes on */
	[MDG_REASON_CRL_STALE] = R("crlStale", MDG_SERVICE_ERROR, 503, 300, MDG_BLAME_OURS, P_VAL),
	[MDG_REASON_NO_CRL] = R("noCrl", MDG_SERVICE_ERROR, 503, 300, MDG_BLAME_OURS, P_VAL),
	[MDG_REASON_STORE_FAILED] = R("storeFailed", MDG_SERVICE_ERROR, 500, 0, MDG_BLAME_STORE, P_ANY),
	/* the database cannot be reached (no connection opens): try again
	 * shortly (DESIGN.md "Backends") */
	[MDG_REASON_NO_STORE] = R("noStore", MDG_SERVICE_ERROR, 503, 5, MDG_BLAME_STORE, P_ANY),
	[MDG_REASON_NO_RANDOMNESS] = R("noRandomness", MDG_SERVICE_ERROR, 500, 0, MDG_BLAME_OURS, P_ANY),
	[MDG_REASON_OUT_OF_MEMORY] = R("outOfMemory", MDG_SERVICE_ERROR, 500, 0, MDG_BLAME_OURS, P_ANY),
	[MDG_REASON_DP_UNENCODABLE] =
		R("distributionPointUnencodable", MDG_SERVICE_ERROR, 500, 0, MDG_BLAME_OURS, P_VAL),
	[MDG_REASON_UNKNOWN_PATH] = R("unknownPath", MDG_MALFORMED, 404, 0, MDG_BLAME_THEIRS, P_NONE),
	[MDG_REASON_WRONG_METHOD] = R("wrongMethod", MDG_MALFORMED, 405, 0, MDG_BLAME_THEIRS, P_ANY),
	[MDG_REASON_SERVED] = NO_RESULT("served", 200, MDG_BLAME_NONE, P_NONE),
	[MDG_REASON_NOT_READY] = NO_RESULT("notReady", 503, MDG_BLAME_NONE, P_NONE),
	[MDG_REASON_REQUEST_TIMEOUT] = NO_RESULT("requestTimeout", 0, MDG_BLAME_THEIRS, P_ANY),
	[MDG_REASON_CLOSED] = NO_RESULT("closed", 0, MDG_BLAME_THEIRS, P_ANY),
	[MDG_REASON_MHD_ANSWERED] = NO_RESULT("answeredByLibmicrohttpd", 0, MDG_BLAME_THEIRS, P_ANY),
	[MDG_REASON_LOG_UNKNOWN_RECEIPT] = R("unknownReceipt", MDG_MALFORMED, 404, 0, MDG_BLAME_THEIRS, P_NONE),
	/* a commit is covered at most checkpoint_interval later */
	[MDG_REASON_LOG_NOT_COVERED] = R("notYetCovered", MDG_BUSY, 503, 1, MDG_BLAME_NONE, P_NONE),
	[MDG_REASON_LOG_BAD_RANGE] = R("badRange", MDG_MALFORMED, 400, 0, MDG_BLAME_THEIRS, P_NONE),
};

#undef R
#undef NO_RESULT

_Static_assert(sizeof(reasons) / sizeof(reasons[0]) == MDG_REASON_COUNT, "one row per enum mdg_reason");

/* An out-of-range reason is a caller's bug: a fault of ours, answered
 * serviceError. */
static const struct reason_row *reason_of(enum mdg_reason why)
{
	if ((unsigned)why >= MDG_REASON_COUNT)
		why = MDG_REASON_OUT_OF_MEMORY;
	return &reasons[why];
}

const char *mdg_reason_name(enum mdg_reason why)
{
	if ((unsigned)why >= MDG_REASON_COUNT)
		return "unknown";
	return reasons[why].name;
}

int mdg_reason_has_result(enum mdg_reason why)
{
	return reason_of(why)->has_result;
}

enum mdg_result mdg_reason_result(enum mdg_reason why)
{
	return reason_of(why)->result;
}

unsigned mdg_reason_status(enum mdg_reason why, enum mdg_procedure proc)
{
	const struct reason_row *row = reason_of(why);

	if ((unsigned)proc > MDG_PROC_VALIDITY)
		proc = MDG_PROC_NONE;
	if (row->status[proc] != 0 || !row->has_result)
		return row->status[proc];
	return mdg_result_status(row->result, proc);
}

unsigned mdg_reason_retry_after(enum mdg_reason why)
{
	return reason_of(why)->retry_after;
}

enum mdg_blame mdg_reason_blame(enum mdg_reason why)
{
	return reason_of(why)->blame;
}

const char *mdg_reason_log_level(enum mdg_reason why)
{
	enum mdg_blame b = mdg_reason_blame(why);

	return b == MDG_BLAME_OURS || b == MDG_BLAME_STORE ? "error" : "info";
}

int mdg_reason_occurs(enum mdg_reason why, enum mdg_procedure proc)
{
	if ((unsigned)proc > MDG_PROC_VALIDITY)
		return 0;
	return (reason_of(why)->procs & (1u << proc)) != 0;
}

int mdg_result_occurs(enum mdg_result r, enum mdg_procedure proc)
{
	for (size_t i = 0; i < MDG_REASON_COUNT; i++)
		if (reasons[i].has_result && reasons[i].result == r && mdg_reason_occurs((enum mdg_reason)i, proc))
			return 1;
	return 0;
}
