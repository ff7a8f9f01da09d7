/*
 * The session methods of AuthService (docs/sessions.md): RefreshSession,
 * Logout, GetMe, ChangePassword and ListRevocations, plus the refresh token
 * Login hands out. Handlers of the table in service.c; same contract.
 */
#ifndef TA_AUTH_SESSION_SERVICE_H
#define TA_AUTH_SESSION_SERVICE_H

#include "refresh_token.h"
#include "rpc.h"
#include "taskapi/v1/auth.pb-c.h"
#include "users.h"

/*
 * Starts a session for u (just logged in): a new family and a first
 * refresh token, written to out (the only clear copy; the table keeps its
 * digest). TA_UNAVAILABLE / TA_INTERNAL from the database (logged).
 */
ta_status auth_session_start(
    const ta_rpc_ctx *ctx, const auth_user *u, char out[AUTH_REFRESH_MAX]);

void auth_refresh_session(Taskapi__V1__AuthService_Service *service,
    const Taskapi__V1__RefreshSessionRequest *input,
    Taskapi__V1__RefreshSessionReply_Closure closure, void *closure_data);
void auth_logout(Taskapi__V1__AuthService_Service *service,
    const Taskapi__V1__LogoutRequest *input,
    Taskapi__V1__LogoutReply_Closure closure, void *closure_data);
void auth_get_me(Taskapi__V1__AuthService_Service *service,
    const Taskapi__V1__GetMeRequest *input,
    Taskapi__V1__GetMeReply_Closure closure, void *closure_data);
void auth_change_password(Taskapi__V1__AuthService_Service *service,
    const Taskapi__V1__ChangePasswordRequest *input,
    Taskapi__V1__ChangePasswordReply_Closure closure, void *closure_data);
void auth_list_revocations(Taskapi__V1__AuthService_Service *service,
    const Taskapi__V1__ListRevocationsRequest *input,
    Taskapi__V1__ListRevocationsReply_Closure closure, void *closure_data);

#endif
