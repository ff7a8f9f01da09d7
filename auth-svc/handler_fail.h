/*
 * How auth-svc's handlers end a call that failed below them (the
 * database, a token check) with a sentence a client may read.
 */
#ifndef TA_AUTH_SVC_HANDLER_FAIL_H
#define TA_AUTH_SVC_HANDLER_FAIL_H

#include "rpc.h"
#include "status.h"

/* A failure of the store: UNAVAILABLE, DEADLINE_EXCEEDED and ABORTED say
 * so (the client may retry), anything else is "Internal server error". */
void auth_fail_db(ta_rpc_ctx *ctx, ta_status status);

/* A token check's failure (token_user.h): its public sentence when it has
 * one (message), else the store's failure (auth_fail_db). */
void auth_fail_check(ta_rpc_ctx *ctx, ta_status status, const char *message);

#endif
