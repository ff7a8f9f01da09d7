/* The size budget of one ListTasks reply (see list_budget.h). */
#include "list_budget.h"

#include "json_strict.h"

size_t
task_json_size(const Taskapi__V1__Task *t)
{
	size_t n = TASK_JSON_FIXED + ta_json_string_size(t->title);

	/* Control characters print as \u00XX: six bytes for one stored. */
	if (t->description)
		n += ta_json_string_size(t->description->value);
	return n;
}

size_t
task_list_fit(Taskapi__V1__Task *const *tasks, size_t n, size_t budget)
{
	size_t used = 0, k = 0;

	for (; k < n; k++) {
		size_t one = task_json_size(tasks[k]);

		if (one > budget - used)
			break;
		used += one;
	}
	return k;
}
