/*
 * Unit tests of common/transcode_text.c: path and query parameters set
 * into one field of a message.
 */
#include "transcode_fixture.h"

static void
test_set_text(void **state)
{
	Taskapi__V1__GetTaskRequest g = TASKAPI__V1__GET_TASK_REQUEST__INIT;
	Taskapi__V1__CreateTaskRequest *c =
	    (Taskapi__V1__CreateTaskRequest *)ta_message_new(
	        &taskapi__v1__create_task_request__descriptor);
	Taskapi__V1__ListTasksReply l = TASKAPI__V1__LIST_TASKS_REPLY__INIT;
	Taskapi__V1__ValidateTokenReply v =
	    TASKAPI__V1__VALIDATE_TOKEN_REPLY__INIT;
	ta_violations errs = {0};

	(void)state;
	assert_int_equal(
	    ta_message_set_text(&g.base, "id", "-1", &errs), TA_OK);
	assert_true(g.id == -1);
	assert_int_equal(
	    ta_message_set_text(&g.base, "id", "9223372036854775807", &errs),
	    TA_OK);
	assert_true(g.id == INT64_MAX);
	assert_int_equal(
	    ta_message_set_text(&g.base, "id", "42", &errs), TA_OK);
	assert_true(g.id == 42);
	set_text_fails(&g.base, "id", "abc", "id must be an integer");
	set_text_fails(&g.base, "id", "", "id must be an integer");
	set_text_fails(&g.base, "id", "12x", "id must be an integer");
	set_text_fails(&g.base, "id", " 12", "id must be an integer");
	set_text_fails(&g.base, "id", "+12", "id must be an integer");
	set_text_fails(&g.base, "id", "1.0", "id must be an integer");
	set_text_fails(
	    &g.base, "id", "99999999999999999999", "id is out of range");
	set_text_fails(
	    &g.base, "id", "-99999999999999999999", "id is out of range");
	assert_true(g.id == 42); /* unchanged by the failures */
	assert_int_equal(
	    ta_message_set_text(&g.base, "nope", "1", &errs), TA_NOT_FOUND);
	assert_int_equal(errs.n, 0);
	set_text_fails(&l.base, "count", "2147483648", "count is out of range");
	assert_int_equal(
	    ta_message_set_text(&l.base, "count", "-2147483648", &errs), TA_OK);
	assert_int_equal(l.count, INT32_MIN);
	assert_int_equal(
	    ta_message_set_text(&l.base, "tasks", "1", &errs), TA_NOT_FOUND);
	assert_int_equal(
	    ta_message_set_text(&v.base, "valid", "true", &errs), TA_OK);
	assert_true(v.valid);
	set_text_fails(&v.base, "valid", "yes", "valid must be a boolean");
	assert_int_equal(
	    ta_message_set_text(&v.base, "user", "x", &errs), TA_NOT_FOUND);
	/* Strings, enums, wrappers and timestamps, replacing old values. */
	assert_int_equal(
	    ta_message_set_text(&c->base, "title", "a", &errs), TA_OK);
	assert_int_equal(
	    ta_message_set_text(&c->base, "title", "b", &errs), TA_OK);
	assert_string_equal(c->title, "b");
	assert_int_equal(
	    ta_message_set_text(&c->base, "status", "completed", &errs), TA_OK);
	assert_int_equal(
	    c->status, TASKAPI__V1__TASK_STATUS__TASK_STATUS_COMPLETED);
	assert_int_equal(
	    ta_message_set_text(&c->base, "status", "done", &errs), TA_OK);
	assert_int_equal((int)c->status, TA_ENUM_UNRECOGNIZED);
	assert_int_equal(
	    ta_message_set_text(&c->base, "description", "d1", &errs), TA_OK);
	assert_int_equal(
	    ta_message_set_text(&c->base, "description", "d2", &errs), TA_OK);
	assert_string_equal(c->description->value, "d2");
	assert_int_equal(
	    ta_message_set_text(&c->base, "due_date", "2024-02-29", &errs),
	    TA_OK);
	assert_int_equal(c->due_date->seconds, 1709164800);
	set_text_fails(&c->base, "due_date", "2023-02-29",
	    "due_date must be an RFC 3339 date-time");
	assert_int_equal(c->due_date->seconds, 1709164800);
	assert_int_equal(errs.n, 0);
	protobuf_c_message_free_unpacked(&c->base, NULL);
}

static void
test_kitchen_set_text_unsigned(void **state)
{
	kitchen *k = (kitchen *)ta_message_new(&kitchen_descriptor);
	ta_violations errs = {0};

	(void)state;
	assert_int_equal(
	    ta_message_set_text(&k->base, "u32", "4294967295", &errs), TA_OK);
	assert_true(k->u32 == UINT32_MAX);
	set_text_fails(&k->base, "u32", "4294967296", "u32 is out of range");
	assert_int_equal(
	    ta_message_set_text(&k->base, "u64", "18446744073709551615", &errs),
	    TA_OK);
	assert_true(k->u64 == UINT64_MAX);
	assert_render(&k->base,
	    "{\"i32\":0,\"u32\":4294967295,"
	    "\"u64\":18446744073709551615,\"flag\":false,\"ratio\":0,"
	    "\"blob\":\"\",\"tags\":[],\"nums\":[],\"states\":[],"
	    "\"count\":null,\"on\":null,\"mask\":null,\"name\":null,"
	    "\"num\":null,\"children\":[]}");
	assert_int_equal(
	    ta_message_set_text(&k->base, "ratio", "2.5", &errs), TA_OK);
	assert_true(k->ratio == 2.5);
	set_text_fails(&k->base, "ratio", "inf", "ratio must be a number");
	assert_int_equal(
	    ta_message_set_text(&k->base, "count", "-3", &errs), TA_OK);
	assert_true(k->count->value == -3);
	assert_int_equal(
	    ta_message_set_text(&k->base, "mask", "a,b", &errs), TA_OK);
	assert_int_equal(k->mask->n_paths, 2);
	assert_int_equal(errs.n, 0);
	protobuf_c_message_free_unpacked(&k->base, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_set_text),
	    cmocka_unit_test(test_kitchen_set_text_unsigned),
	};

	return cmocka_run_group_tests_name("transcode_text", tests, NULL, NULL);
}
