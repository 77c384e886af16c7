/* Internal to the client's screens (screens.c, screens_state.c): the
 * texts in both languages and the helpers the two files share. */
#ifndef MDG_SCREENS_INT_H
#define MDG_SCREENS_INT_H

#include <stdio.h>

#include <jansson.h>

#include "screens.h"

#define RULE "------------------------------------------------------------\n"

/* One text in both languages; the screen prints the chosen one. */
#define L(ui, ja, en) ((ui)->lang == MDG_LANG_EN ? (en) : (ja))
/* The words that differ between the two procedures (manual 2.x / 3.x). */
#define REV(ui) ((ui)->proc == MDG_PROC_REVOCATION)
#define PROC_NAME(ui)                                                                                                  \
	L(ui, REV(ui) ? "自己の電子証明書の失効申請" : "自己の電子証明書の有効性確認",                                 \
	  REV(ui) ? "Revocation of your own certificate" : "Validity check of your own certificate")
#define ACT(ui) L(ui, REV(ui) ? "失効申請" : "有効性確認", REV(ui) ? "revocation request" : "validity check")
#define DOC(ui)                                                                                                        \
	L(ui, REV(ui) ? "失効申請書" : "有効性確認申請書",                                                             \
	  REV(ui) ? "revocation request form" : "validity check request form")
#define INFO(ui)                                                                                                       \
	L(ui, REV(ui) ? "申請に必要な情報" : "確認に必要な情報",                                                       \
	  REV(ui) ? "the information needed for the request" : "the information needed for the check")
#define INFO_CAP(ui)                                                                                                   \
	L(ui, REV(ui) ? "申請に必要な情報" : "確認に必要な情報",                                                       \
	  REV(ui) ? "The information needed for the request" : "The information needed for the check")
#define STOP(ui) L(ui, REV(ui) ? "申請中止" : "確認中止", REV(ui) ? "Cancel the request" : "Cancel the check")
/* where the certificate is: the IC card, or a file (files are not cards) */
#define WHERE(ui) L(ui, (ui)->card ? "ICカード" : "ファイル", (ui)->card ? "the IC card" : "the file")

void scr_proc_line_to(const struct mdg_ui *ui, FILE *o);
void scr_proc_line(const struct mdg_ui *ui);
void scr_msg_text(const struct mdg_ui *ui, const struct mdg_msg *m, char *out, size_t n);
void scr_datetime_text(const struct mdg_ui *ui, const char *rfc3339, char *out, size_t n);
void scr_iso_date_text(const struct mdg_ui *ui, const char *iso, char *out, size_t n);
const char *scr_answer_title(const struct mdg_ui *ui, json_t *j, enum mdg_result r);
void scr_title(const struct mdg_ui *ui, const char *t);
/* A revocation reason's words in the screen's language (the name if unknown). */
const char *scr_reason_text(const struct mdg_ui *ui, const char *name);
/* The receipt number in groups of four, for reading aloud. */
void scr_grouped(const char *id, char *out, size_t n);
/* MDG_MSG_RECEIPT_CHECK in the screen's language (screens_receipt.c). */
void scr_receipt_check_text(const struct mdg_ui *ui, const struct mdg_msg *m, char *out, size_t n);

#endif
