/*
 * The TaskService handler table: one slot per method of the service
 * descriptor, each a task_<method> handler of read_service.c or
 * write_service.c (the naming auth-svc's table uses too).
 */
#include "service.h"

#include "read_service.h"
#include "write_service.h"

static Taskapi__V1__TaskService_Service service =
    TASKAPI__V1__TASK_SERVICE__INIT(task_);

ProtobufCService *
task_service(void)
{
	return &service.base;
}
