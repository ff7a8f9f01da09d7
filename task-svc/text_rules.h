/*
 * The character rules of task titles and descriptions (docs/identifiers.md):
 * which controls, bidi overrides and invisible-only texts they refuse. Pure.
 */
#ifndef TA_TASK_TEXT_RULES_H
#define TA_TASK_TEXT_RULES_H

/*
 * The client-safe violation message for the first rule title breaks, NULL
 * when it passes: C0 and C1 controls and DEL, bidi embeddings, overrides
 * and isolates (U+202A..U+202E, U+2066..U+2069), and a title with no
 * visible character (only spaces, zero-width and other default-ignorable
 * or format characters). title is well-formed UTF-8 (checked before).
 */
const char *task_title_problem(const char *title);

/*
 * As task_title_problem for a description, which may hold tab, line feed
 * and carriage return and may be invisible.
 */
const char *task_description_problem(const char *description);

#endif
