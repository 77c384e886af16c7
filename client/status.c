/* The one table of exit statuses. Values are part of the interface:
 * never renumber. */
#include "status.h"

static const int result_exit[] = {
	[MDG_ACCEPTED] = 0,
	[MDG_VALID] = 0,
	[MDG_REVOKED] = 10,
	[MDG_REVOCATION_ACCEPTED] = 11,
	[MDG_EXPIRED] = 12,
	[MDG_NOT_YET_VALID] = 13,
	[MDG_ISSUER_MISMATCH] = 14,
	[MDG_BAD_CERTIFICATE_SIGNATURE] = 15,
	[MDG_BAD_REQUEST_SIGNATURE] = 16,
	[MDG_MALFORMED] = 17,
	[MDG_BAD_NONCE] = 18,
	[MDG_BUSY] = 19,
	[MDG_SERVICE_ERROR] = 20,
};

_Static_assert(sizeof(result_exit) / sizeof(result_exit[0]) == MDG_RESULT_COUNT, "one exit status per result");

static const struct {
	const char *name;
	int code;
} state_exit[] = {
	[MDG_CS_OK] = { "ok", 0 },
	[MDG_CS_USAGE] = { "usage", 2 },
	[MDG_CS_CANCELLED] = { "cancelled", 3 },
	[MDG_CS_CARD_NOT_READY] = { "cardNotReady", 30 },
	[MDG_CS_UNEXPECTED] = { "unexpectedError", 31 },
	[MDG_CS_PIN_INCORRECT] = { "pinIncorrect", 32 },
	[MDG_CS_PIN_LOCKED] = { "pinLocked", 33 },
	[MDG_CS_IMPORT_ERROR] = { "importError", 34 },
	[MDG_CS_CERT_EXPIRED] = { "certificateExpired", 35 },
	[MDG_CS_NETWORK] = { "networkError", 40 },
	[MDG_CS_BAD_ANSWER] = { "badAnswer", 41 },
	[MDG_CS_TLS] = { "serverCertificateNotVerified", 40 },
	[MDG_CS_PIN_FORM] = { "pinFormat", 36 },
};

_Static_assert(sizeof(state_exit) / sizeof(state_exit[0]) == MDG_CS_COUNT, "one exit status per state");

int mdg_exit_for_result(enum mdg_result r)
{
	if ((unsigned)r >= MDG_RESULT_COUNT)
		return state_exit[MDG_CS_BAD_ANSWER].code;
	return result_exit[r];
}

int mdg_exit_for_state(enum mdg_cstate s)
{
	if ((unsigned)s >= MDG_CS_COUNT)
		s = MDG_CS_BAD_ANSWER;
	return state_exit[s].code;
}

const char *mdg_cstate_name(enum mdg_cstate s)
{
	if ((unsigned)s >= MDG_CS_COUNT)
		s = MDG_CS_BAD_ANSWER;
	return state_exit[s].name;
}

static const struct {
	const char *name;
	int code;
} rv_exit[] = {
	[MDG_RV_OK] = { "receiptVerified", 0 },
	[MDG_RV_USAGE] = { "usage", 2 },
	[MDG_RV_UNREADABLE] = { "receiptUnreadable", 50 },
	[MDG_RV_BAD_SIGNATURE] = { "receiptSignatureInvalid", 51 },
	[MDG_RV_UNTRUSTED] = { "receiptSignerNotTrusted", 52 },
	[MDG_RV_NOT_IN_LOG] = { "receiptNotInLog", 53 },
	[MDG_RV_LEAF_MISMATCH] = { "logEntryMismatch", 54 },
	[MDG_RV_BAD_CHECKPOINT] = { "checkpointNotVerified", 55 },
	[MDG_RV_BAD_INCLUSION] = { "inclusionNotVerified", 56 },
	[MDG_RV_NETWORK] = { "networkError", 40 },
	[MDG_RV_TLS] = { "serverCertificateNotVerified", 40 },
	[MDG_RV_BAD_ANSWER] = { "badAnswer", 41 },
};

_Static_assert(sizeof(rv_exit) / sizeof(rv_exit[0]) == MDG_RV_COUNT, "one exit status per receipt outcome");

int mdg_exit_for_rv(enum mdg_rv v)
{
	if ((unsigned)v >= MDG_RV_COUNT)
		v = MDG_RV_BAD_ANSWER;
	return rv_exit[v].code;
}

const char *mdg_rv_name(enum mdg_rv v)
{
	if ((unsigned)v >= MDG_RV_COUNT)
		v = MDG_RV_BAD_ANSWER;
	return rv_exit[v].name;
}
