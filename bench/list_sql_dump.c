/*
 * Prints task-svc's list statements (task-svc/list_sql.h) one per line as
 * "name<TAB>sql", so bench/pages_bench.py can EXPLAIN exactly what
 * task-svc prepares. Headers only: nothing to link.
 */
#include <stdio.h>

#include "list_sql.h"
#include "pg.h"

static const ta_pg_stmt stmts[] = {TASK_LIST_STMTS};

int
main(void)
{
	for (size_t i = 0; i < sizeof stmts / sizeof stmts[0]; i++)
		printf("%s\t%s\n", stmts[i].name, stmts[i].sql);
	return 0;
}
