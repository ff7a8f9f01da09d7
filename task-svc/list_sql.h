/*
 * The ListTasks statements: one per sort key, direction and page kind
 * (first page, or after a cursor), so that each is a plain keyset scan of
 * its index (db/migrations/0007_list_pages.sql) and the planner never sees
 * an "OR no cursor". Included once, by tasks.c, inside task_stmts[].
 *
 * Parameters: $1 user id; $2 statuses (text[] or NULL); $3 priorities;
 * $4 due_before, $5 due_after (timestamptz text or NULL); $6 ILIKE
 * pattern or NULL; $7 rows to read (limit + 1); $8 bytes a task adds to
 * its stored text in JSON (TASK_JSON_FIXED); $9 the page's byte budget;
 * after a cursor, $10 the last sort key (text) and $11 the last id.
 * Columns: TASK_COLS, then the sort key as text and the number of rows
 * read (task_rows.h); the text column is named sort_key so that the last
 * ORDER BY means the key k itself (an output column named k would win).
 * A row is returned while the rows before it take less than $9 by their
 * stored size plus $8 each, so the first always is.
 * octet_length reads a TOASTed value's size without fetching it.
 */
#ifndef TA_TASK_SVC_LIST_SQL_H
#define TA_TASK_SVC_LIST_SQL_H

#include "task_rows.h"

#define LIST_WHERE                                                             \
	"WHERE user_id = $1 "                                                  \
	"AND ($2::text[] IS NULL OR status = ANY ($2::text[])) "               \
	"AND ($3::text[] IS NULL OR priority = ANY ($3::text[])) "             \
	"AND ($4::timestamptz IS NULL OR "                                     \
	"due_date < ($4::timestamptz AT TIME ZONE 'UTC')) "                    \
	"AND ($5::timestamptz IS NULL OR "                                     \
	"due_date > ($5::timestamptz AT TIME ZONE 'UTC')) "                    \
	"AND ($6::text IS NULL OR title ILIKE $6::text "                       \
	"OR description ILIKE $6::text) "

/* K: the sort expression (as indexed); SEEK: "" or the cursor condition. */
#define LIST_SQL(K, SEEK, DIR)                                                 \
	"SELECT " TASK_COLS ", k::text AS sort_key, n FROM (SELECT s.*, "      \
	"count(*) OVER () AS n, coalesce(sum(octet_length(title) + "           \
	"coalesce(octet_length(description), 0) + $8::bigint) OVER (ORDER BY " \
	"k " DIR ", id " DIR " ROWS BETWEEN UNBOUNDED PRECEDING AND 1 "        \
	"PRECEDING), 0) AS before FROM (SELECT " TASK_COLS ", " K " AS k "     \
	"FROM tasks " LIST_WHERE SEEK "ORDER BY " K " " DIR ", id " DIR        \
	" LIMIT $7::int) s) t WHERE before < $9::bigint ORDER BY k " DIR       \
	", id " DIR

#define LIST_SEEK(K, T, CMP)                                                   \
	"AND (" K ", id) " CMP " ($10::" T ", $11::int) "

/* First page and next pages, ascending then descending, of one key. */
#define LIST_STMTS(NAME, K, KD, T)                                             \
	{"task_list_" NAME "_asc", LIST_SQL(K, "", "ASC"), true},              \
	    {"task_list_" NAME "_asc_next",                                    \
	        LIST_SQL(K, LIST_SEEK(K, T, ">"), "ASC"), true},               \
	    {"task_list_" NAME "_desc", LIST_SQL(KD, "", "DESC"), true},       \
	{                                                                      \
		"task_list_" NAME "_desc_next",                                \
		    LIST_SQL(KD, LIST_SEEK(KD, T, "<"), "DESC"), true          \
	}

#define LIST_PRIORITY_RANK                                                     \
	"(CASE priority WHEN 'high' THEN 3 WHEN 'medium' THEN 2 "              \
	"WHEN 'low' THEN 1 ELSE 0 END)"

/*
 * Four statements per task_list_sort, in its order: [sort * 4 + is_desc *
 * 2 + has_cursor]. due_date sorts nulls last both ways, as infinity
 * ascending and -infinity descending (a due date is never infinite: the
 * API reads RFC 3339 only). Titles sort by code point (COLLATE "C").
 */
#define TASK_LIST_STMTS                                                        \
	LIST_STMTS("created", "created_at", "created_at", "timestamp"),        \
	    LIST_STMTS("updated", "updated_at", "updated_at", "timestamp"),    \
	    LIST_STMTS("due", "coalesce(due_date, 'infinity'::timestamp)",     \
	        "coalesce(due_date, '-infinity'::timestamp)", "timestamp"),    \
	    LIST_STMTS("priority", LIST_PRIORITY_RANK, LIST_PRIORITY_RANK,     \
	        "int"),                                                        \
	    LIST_STMTS("title", "(title COLLATE \"C\")",                       \
	        "(title COLLATE \"C\")", "text")

#define TASK_LIST_NSTMTS (5 * 4)

#endif
