/*
 * The ListTasks size budget (issue 9): task_json_size never under-counts
 * what the edge renders (cJSON through the transcoder), and
 * task_list_fit keeps the longest prefix that fits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "list_budget.h"
#include "transcode.h"

static char *
repeat(const char *unit, size_t n)
{
	size_t len = strlen(unit);
	char *s = malloc(len * n + 1);

	for (size_t i = 0; i < n; i++)
		memcpy(s + i * len, unit, len);
	s[len * n] = '\0';
	return s;
}

/* Bytes the edge writes for t inside a list: its JSON and a comma. */
static size_t
rendered(const Taskapi__V1__Task *t)
{
	cJSON *j = ta_message_to_json(&t->base);
	char *out = cJSON_PrintUnformatted(j);
	size_t n = strlen(out) + 1;

	free(out);
	cJSON_Delete(j);
	return n;
}

static void
test_size_is_an_upper_bound(void **state)
{
	static const char *const units[] = {"a", "\"", "\\", "\x01", "\n",
	    "\x7f", "\xc3\xa9", "\xf0\x9f\x98\x80"};
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	Google__Protobuf__StringValue d = GOOGLE__PROTOBUF__STRING_VALUE__INIT;
	Taskapi__V1__Task t = TASKAPI__V1__TASK__INIT;

	(void)state;
	ts.seconds = 253402300799LL;
	ts.nanos = 999999999;
	t.id = t.user_id = 2147483647;
	t.status = TASKAPI__V1__TASK_STATUS__TASK_STATUS_IN_PROGRESS;
	t.priority = TASKAPI__V1__TASK_PRIORITY__TASK_PRIORITY_MEDIUM;
	t.due_date = t.created_at = t.updated_at = &ts;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		char *title = repeat(units[i], 200);
		char *desc = repeat(units[i], 10000);

		t.title = title;
		t.description = NULL;
		assert_true(task_json_size(&t) >= rendered(&t));
		d.value = desc;
		t.description = &d;
		assert_true(task_json_size(&t) >= rendered(&t));
		/* And not wildly over: the fixed part is the only slack. */
		assert_true(
		    task_json_size(&t) - rendered(&t) < TASK_JSON_FIXED);
		free(title);
		free(desc);
	}
}

static void
test_fit_is_a_prefix(void **state)
{
	Taskapi__V1__Task a = TASKAPI__V1__TASK__INIT, b = a, c = a;
	Taskapi__V1__Task *list[] = {&a, &b, &c};
	size_t one;

	(void)state;
	a.title = "a";
	b.title = "bb";
	c.title = "c";
	one = task_json_size(&a);
	assert_int_equal(task_list_fit(list, 3, 0), 0);
	assert_int_equal(task_list_fit(list, 3, one - 1), 0);
	assert_int_equal(task_list_fit(list, 3, one), 1);
	/* b does not fit after a: c is not taken either (newest first). */
	assert_int_equal(task_list_fit(list, 3, 2 * one), 1);
	assert_int_equal(task_list_fit(list, 3, 3 * one + 1), 3);
	assert_int_equal(task_list_fit(list, 0, 100), 0);
	assert_int_equal(task_list_fit(list, 3, 1048576), 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_size_is_an_upper_bound),
	    cmocka_unit_test(test_fit_is_a_prefix),
	};

	return cmocka_run_group_tests_name(
	    "task_list_budget", tests, NULL, NULL);
}
