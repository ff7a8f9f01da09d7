/*
 * Whether a configured HMAC secret is fit to sign tokens (RFC 8725 3.5:
 * human-chosen or placeholder secrets can be guessed offline from one
 * token). Checked once at start; the value is never written anywhere.
 */
#include "jwt.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* RFC 7518 3.2: an HS256 key at least as long as the hash. */
#define SECRET_MIN_BYTES 32
/* One or a few characters repeated is no secret, whatever its length. */
#define SECRET_MIN_DISTINCT 8

/*
 * Placeholders from examples and templates, compared with letters and
 * digits only, lowercased: "Your-Secret-Key" and "your_secret_key" match.
 */
static const char *const placeholders[] = {
    "yoursecretkey",
    "your256bitsecret",
    "yourjwtsecret",
    "changeme",
    "changethis",
    "replaceme",
    "supersecret",
    "secretkey",
    "mysecret",
    "placeholder",
    "xxxxxxxx",
};

/* Does the folded secret contain a placeholder? */
static bool
has_placeholder(const char *secret, size_t len)
{
	char folded[4097];
	size_t n = 0;

	for (size_t i = 0; i < len && n < sizeof folded - 1; i++) {
		unsigned char ch = (unsigned char)secret[i];

		if (isalnum(ch))
			folded[n++] = (char)tolower(ch);
	}
	folded[n] = '\0';
	for (size_t i = 0; i < sizeof placeholders / sizeof placeholders[0];
	     i++) {
		if (strstr(folded, placeholders[i]))
			return true;
	}
	return false;
}

static size_t
distinct_bytes(const char *secret, size_t len)
{
	bool seen[256] = {false};
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)secret[i];

		if (!seen[ch]) {
			seen[ch] = true;
			n++;
		}
	}
	return n;
}

ta_status
ta_jwt_secret_check(
    const char *name, const char *secret, size_t len, char *err, size_t errlen)
{
	const char *why = NULL;

	if (!secret || len < SECRET_MIN_BYTES)
		why = "is shorter than 32 bytes";
	else if (distinct_bytes(secret, len) < SECRET_MIN_DISTINCT)
		why = "repeats too few characters (fewer than 8 distinct)";
	else if (has_placeholder(secret, len))
		why = "contains a well-known placeholder";
	if (!why)
		return TA_OK;
	snprintf(err, errlen,
	    "%s %s: refusing a weak token secret; use at least 32 random "
	    "bytes (e.g. openssl rand -base64 48)",
	    name, why);
	return TA_INVALID_ARGUMENT;
}

ta_status
ta_jwt_cfg_check(const ta_jwt_cfg *cfg, char *err, size_t errlen)
{
	ta_status status = ta_jwt_secret_check(
	    "JWT_SECRET", cfg->secret, cfg->secret_len, err, errlen);

	if (status == TA_OK && cfg->previous)
		status = ta_jwt_secret_check("JWT_SECRET_PREVIOUS",
		    cfg->previous, cfg->previous_len, err, errlen);
	return status;
}
