/* The failure sentences of auth-svc's handlers (see handler_fail.h). */
#include "handler_fail.h"

void
auth_fail_db(ta_rpc_ctx *ctx, ta_status status)
{
	ta_rpc_fail(ctx, status,
	    status == TA_UNAVAILABLE         ? "Service temporarily unavailable"
	    : status == TA_DEADLINE_EXCEEDED ? "Deadline exceeded"
	    : status == TA_ABORTED
	        ? "The request conflicted with another one; retry it"
	        : "Internal server error");
}

void
auth_fail_check(ta_rpc_ctx *ctx, ta_status status, const char *message)
{
	if (message)
		ta_rpc_fail(ctx, status, message);
	else
		auth_fail_db(ctx, status);
}
