/* The client's outcomes and the one table of exit statuses: one per server
 * result and one per client-side state (docs/client.md lists them). */
#ifndef MDG_CLIENT_STATUS_H
#define MDG_CLIENT_STATUS_H

#include "result.h"

/* Client-side states; never renumber (scripts read the exit status). */
enum mdg_cstate {
	MDG_CS_OK = 0,         /* the server answered; see the result */
	MDG_CS_USAGE,          /* bad arguments, unreadable option file */
	MDG_CS_CANCELLED,      /* the holder declined a confirmation */
	MDG_CS_CARD_NOT_READY, /* ICカード準備エラー: no module, no token */
	MDG_CS_UNEXPECTED,     /* 予期しないエラー: token gone mid-operation */
	MDG_CS_PIN_INCORRECT,  /* wrong PIN (CKR_PIN_INCORRECT) */
	MDG_CS_PIN_LOCKED,     /* パスワードロック (CKR_PIN_LOCKED) */
	MDG_CS_IMPORT_ERROR,   /* 取込みエラー: certificate unreadable, key missing */
	MDG_CS_CERT_EXPIRED,   /* expired certificate: nothing is sent */
	MDG_CS_NETWORK,        /* the window could not be reached (DNS, refused, timeout, ...) */
	MDG_CS_BAD_ANSWER,     /* the window's answer is not one of the contract's */
	MDG_CS_TLS,            /* the server certificate did not verify (exit 40 too) */
	MDG_CS_PIN_FORM,       /* a PIN the card cannot have (not 6-16 letters/digits): never sent */
	MDG_CS_COUNT
};

/* Exit status of a server result for the command's procedure: 0 for the
 * command's success (accepted on revoke, valid on check). */
int mdg_exit_for_result(enum mdg_result r);

/* Exit status of a client-side state (MDG_CS_OK: 0). */
int mdg_exit_for_state(enum mdg_cstate s);

/* Machine name of a state, e.g. "pinLocked" (for docs and --json errors). */
const char *mdg_cstate_name(enum mdg_cstate s);

/* Outcomes of `receipt verify`; never renumber. */
enum mdg_rv {
	MDG_RV_OK = 0,         /* the receipt verified (and, online, its inclusion in the log) */
	MDG_RV_USAGE,          /* bad arguments, unreadable --cafile, malformed --log-key */
	MDG_RV_UNREADABLE,     /* the file is missing, unreadable, or not a receipt */
	MDG_RV_BAD_SIGNATURE,  /* the signature does not verify: the receipt was altered */
	MDG_RV_UNTRUSTED,      /* the signer does not chain to the --cafile anchors */
	MDG_RV_NOT_IN_LOG,     /* the log does not know the receipt (or not yet in a checkpoint) */
	MDG_RV_LEAF_MISMATCH,  /* the log's entry is not the receipt's content */
	MDG_RV_BAD_CHECKPOINT, /* the checkpoint is not signed by the log key */
	MDG_RV_BAD_INCLUSION,  /* the inclusion proof does not lead to the checkpoint's root */
	MDG_RV_NETWORK,        /* the window could not be reached */
	MDG_RV_TLS,            /* its server certificate did not verify */
	MDG_RV_BAD_ANSWER,     /* its answer is not the contract's */
	MDG_RV_COUNT
};

int mdg_exit_for_rv(enum mdg_rv v);
const char *mdg_rv_name(enum mdg_rv v);

#endif
