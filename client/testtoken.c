/* A PKCS#11 module for the end-to-end tests only (never installed): it
 * forwards every call to a real module (MDG_TESTTOKEN_MODULE, e.g.
 * SoftHSM) and adds what the JPKI card does and SoftHSM does not: it counts
 * wrong PINs in a state file (MDG_TESTTOKEN_STATE) across processes, reports
 * CKF_USER_PIN_COUNT_LOW / FINAL_TRY / LOCKED in the token info, answers
 * CKR_PIN_LOCKED after five wrong PINs in a row, and with
 * MDG_TESTTOKEN_REMOVE=sign answers CKR_DEVICE_REMOVED when asked to sign
 * (the card pulled out mid-operation). */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/pkcs11.h>

#define TRIES 5

static CK_FUNCTION_LIST real_copy, shim;
static CK_FUNCTION_LIST_PTR real;
static void *lib;

static int wrong_count(void)
{
	const char *path = getenv("MDG_TESTTOKEN_STATE");
	FILE *f;
	int n = 0;

	if (path == NULL || (f = fopen(path, "r")) == NULL)
		return 0;
	if (fscanf(f, "%d", &n) != 1)
		n = 0;
	fclose(f);
	return n;
}

static void set_wrong_count(int n)
{
	const char *path = getenv("MDG_TESTTOKEN_STATE");
	FILE *f;

	if (path == NULL || (f = fopen(path, "w")) == NULL)
		return;
	fprintf(f, "%d\n", n);
	fclose(f);
}

static CK_RV shim_login(CK_SESSION_HANDLE s, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
	int wrong = wrong_count();
	CK_RV rv;

	if (user != CKU_USER)
		return real->C_Login(s, user, pin, len);
	if (wrong >= TRIES)
		return CKR_PIN_LOCKED;
	rv = real->C_Login(s, user, pin, len);
	if (rv == CKR_PIN_INCORRECT) {
		set_wrong_count(++wrong);
		return wrong >= TRIES ? CKR_PIN_LOCKED : CKR_PIN_INCORRECT;
	}
	if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN)
		set_wrong_count(0);
	return rv;
}

static CK_RV shim_token_info(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
	CK_RV rv = real->C_GetTokenInfo(slot, info);
	int wrong = wrong_count();

	if (rv != CKR_OK)
		return rv;
	info->flags &= ~(CK_FLAGS)(CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED);
	if (wrong >= TRIES)
		info->flags |= CKF_USER_PIN_LOCKED;
	else if (wrong == TRIES - 1)
		info->flags |= CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_COUNT_LOW;
	else if (wrong > 0)
		info->flags |= CKF_USER_PIN_COUNT_LOW;
	return CKR_OK;
}

static int removed_at_sign(void)
{
	const char *r = getenv("MDG_TESTTOKEN_REMOVE");

	return r != NULL && strcmp(r, "sign") == 0;
}

static CK_RV shim_sign_init(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
	return removed_at_sign() ? CKR_DEVICE_REMOVED : real->C_SignInit(s, m, k);
}

static CK_RV shim_sign(CK_SESSION_HANDLE s, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR sig, CK_ULONG_PTR sl)
{
	return removed_at_sign() ? CKR_DEVICE_REMOVED : real->C_Sign(s, d, dl, sig, sl);
}

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
	const char *path = getenv("MDG_TESTTOKEN_MODULE");
	CK_C_GetFunctionList get;

	if (list == NULL)
		return CKR_ARGUMENTS_BAD;
	if (real == NULL) {
		if (path == NULL || (lib = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL)
			return CKR_GENERAL_ERROR;
		*(void **)&get = dlsym(lib, "C_GetFunctionList");
		if (get == NULL || get(&real) != CKR_OK || real == NULL)
			return CKR_GENERAL_ERROR;
		real_copy = *real;
		real = &real_copy;
		shim = real_copy;
		shim.C_GetFunctionList = C_GetFunctionList;
		shim.C_Login = shim_login;
		shim.C_GetTokenInfo = shim_token_info;
		shim.C_SignInit = shim_sign_init;
		shim.C_Sign = shim_sign;
	}
	*list = &shim;
	return CKR_OK;
}
