/* The holder's receipts (DESIGN.md "Receipts and the log's Merkle tree",
 * docs/client.md "Receipts"): keeping the receipt of an acceptance
 * (--receipt-out) and `madoguchi-client receipt verify`, which checks its
 * CMS signature against the anchors and, with the window's URL and log key,
 * its inclusion in a checkpoint signed by that key. */
#ifndef MDG_CLIENT_RECEIPT_VERIFY_H
#define MDG_CLIENT_RECEIPT_VERIFY_H

#include "message.h"
#include "submit.h"

/* --receipt-out: the answer's "receipt" (base64) decoded and written as
 * DER to path, mode 0600. 0, or -1 with err (MDG_MSG_NO_RECEIPT when the
 * answer has none, MDG_MSG_RECEIPT_SAVE when it cannot be written). */
int mdg_receipt_save(const struct mdg_http_answer *a, const char *path, struct mdg_msg *err);

/* `madoguchi-client receipt ...`: argv[0] is "receipt". Returns the exit
 * status (status.h, enum mdg_rv). */
int mdg_receipt_command(int argc, char **argv);

#endif
