/* What the client has to say about a failure, as a value: an identifier and
 * its arguments (a path, a URL, a label, a number), never a sentence.
 * screens.c renders it in the screen's language (Japanese or English), so
 * the 詳細 line of a Japanese screen is Japanese. No personal data. */
#ifndef MDG_CLIENT_MESSAGE_H
#define MDG_CLIENT_MESSAGE_H

#include <stdio.h>

enum mdg_msg_id {
	MDG_MSG_NONE = 0,
	MDG_MSG_OOM,
	/* usage */
	MDG_MSG_URL_INVALID,    /* arg: the URL */
	MDG_MSG_URL_NOT_HTTPS,  /* arg: the URL */
	MDG_MSG_NO_TTY,         /* no PIN source and no terminal */
	MDG_MSG_NO_PIN,         /* end of input at the PIN prompt */
	MDG_MSG_PIN_FILE_EMPTY, /* arg: the file */
	MDG_MSG_PIN_TOO_LONG,   /* arg: where it came from */
	MDG_MSG_PIN_FORM,       /* num: its length (never the PIN itself); tech: "chars" if the characters are wrong */
	/* files */
	MDG_MSG_FILE_MISSING,    /* arg: the path */
	MDG_MSG_FILE_UNREADABLE, /* arg: the path; num: errno (0: see tech) */
	MDG_MSG_NOT_PKCS12,      /* arg: the path */
	MDG_MSG_FILE_PASSWORD,   /* arg: the path */
	MDG_MSG_FILE_BAD,        /* arg: the path: it does not open as PKCS#12 */
	MDG_MSG_P12_NO_CERT,     /* arg: the path */
	MDG_MSG_P12_NO_KEY,      /* arg: the path */
	MDG_MSG_PEM_NO_CERT,     /* arg: the path */
	MDG_MSG_PEM_NO_KEY,      /* arg: the path */
	MDG_MSG_KEY_MISMATCH,    /* arg: the key file */
	MDG_MSG_SIGN_FAILED,
	/* tokens */
	MDG_MSG_MODULE_LOAD,  /* arg: the module */
	MDG_MSG_NO_TOKEN,     /* arg: the token label */
	MDG_MSG_TOKEN_LOCKED, /* CKF_USER_PIN_LOCKED */
	MDG_MSG_TOKEN_GONE,   /* the token vanished between two looks */
	MDG_MSG_CKR,          /* num: enum mdg_p11_op; tech: the CKR name, or empty */
	MDG_MSG_NO_KEY,       /* arg: the key label */
	MDG_MSG_NO_CERT,      /* arg: the key label */
	/* the certificate */
	MDG_MSG_NO_FACTS, /* tech: the profile's reason (English) */
	/* the window */
	MDG_MSG_CONNECT,     /* arg: the URL; num: curl's code; tech: curl's text */
	MDG_MSG_TLS,         /* arg: the URL; num: curl's code; tech: curl's text */
	MDG_MSG_TOO_LARGE,   /* arg: the URL */
	MDG_MSG_ANSWER,      /* arg: the path; num: the HTTP status */
	MDG_MSG_NOTICE_SAVE, /* arg: the path; num: errno */
	/* receipts */
	MDG_MSG_RECEIPT_SAVE,  /* arg: the path; num: errno */
	MDG_MSG_NO_RECEIPT,    /* the window's answer carries no receipt */
	MDG_MSG_RECEIPT_OPT,   /* arg: the option ("--receipt-out"): revoke only */
	MDG_MSG_CAFILE,        /* arg: the anchors file; tech: OpenSSL's text */
	MDG_MSG_LOG_KEY,       /* arg: the key as given; tech: why */
	MDG_MSG_LOG_KEY_URL,   /* --url and --log-key go together */
	MDG_MSG_RECEIPT_CHECK, /* num: enum mdg_receipt_check; arg: a value; tech: OpenSSL's or the parser's text */
};

/* What exactly `receipt verify` found wrong (MDG_MSG_RECEIPT_CHECK). */
enum mdg_receipt_check {
	MDG_RC_NOT_CMS,       /* not a DER (or base64) CMS SignedData */
	MDG_RC_NOT_RECEIPT,   /* the content is not a receipt content */
	MDG_RC_SIGNATURE,     /* the signature over the content does not verify */
	MDG_RC_CHAIN,         /* the signer's certificate does not chain to the anchors */
	MDG_RC_UNKNOWN_ID,    /* arg: the receipt id; the log does not know it */
	MDG_RC_NOT_COVERED,   /* arg: the receipt id; not yet in a checkpoint */
	MDG_RC_ID_DIFFERS,    /* arg: the id the log gave */
	MDG_RC_INDEX_DIFFERS, /* arg: the index the log gave */
	MDG_RC_LEAF_DIFFERS,  /* the log's leaf is other bytes than the content */
	MDG_RC_CHECKPOINT,    /* arg: the key name; tech: why the note does not open */
	MDG_RC_SIZE_DIFFERS,  /* the proof's tree size is not the checkpoint's */
	MDG_RC_PROOF,         /* the inclusion proof does not give the root */
	MDG_RC_PROOF_FORM,    /* tech: which member of the proof answer is wrong */
};

/* The PKCS#11 operation a CKR_* value came from. */
enum mdg_p11_op { MDG_OP_LOGIN, MDG_OP_SLOTS, MDG_OP_KEYS, MDG_OP_CERTS, MDG_OP_KEY, MDG_OP_SIGN };

struct mdg_msg {
	enum mdg_msg_id id;
	long num;
	char arg[512];  /* a path, URL or label */
	char tech[256]; /* a technical word: a CKR name, curl's or the profile's text (English) */
};

static inline void mdg_msg_set(struct mdg_msg *m, enum mdg_msg_id id, long num, const char *arg, const char *tech)
{
	m->id = id;
	m->num = num;
	snprintf(m->arg, sizeof(m->arg), "%s", arg ? arg : "");
	snprintf(m->tech, sizeof(m->tech), "%s", tech ? tech : "");
}

#endif
