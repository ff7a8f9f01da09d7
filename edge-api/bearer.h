/*
 * The bearer token of an Authorization header ("Bearer <token>", scheme
 * case-insensitive). Parsing only; ta_jwt_verify checks the token.
 */
#ifndef EDGE_API_BEARER_H
#define EDGE_API_BEARER_H

#include "status.h"

/*
 * Extracts the token of header (the Authorization value, may be NULL).
 * On TA_OK *token is a copy the caller frees. TA_UNAUTHENTICATED otherwise,
 * with *reason the public message: "No authentication token provided" when
 * the header is absent, blank or "Bearer" without a token; "Invalid token"
 * for another scheme or a token containing spaces.
 */
ta_status edge_bearer_parse(
    const char *header, char **token, const char **reason);

#endif
