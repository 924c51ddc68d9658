/* PLACEHOLDER — this file's contents were lost.
 *
 * At 00:41 the core-API test writer created a file by this name without seeing that an
 * (untracked, uncommitted) tests/test_task_compact.c already existed, and overwrote it. That
 * test writer's own compact-task tests now live in tests/test_compact_task_semantics.c.
 *
 * What could be recovered of the lost file from its compiled object before it was rebuilt:
 *   suite task_compact, 6 tests: cancel_while_sleeping, deep_frames_are_copied_whole,
 *   frames_survive_interleaved_switches, hundred_thousand_sleepers,
 *   loop_close_unwinds_pending_compact_tasks, pointers_into_own_frames_stay_valid;
 *   helpers deep_task, walk_and_sleep; assertions such as
 *   corio_task_cancel(t, "stop") == 1, corio_await(corio_task_future(t), NULL) == -ECANCELED,
 *   corio_future_cancelled(corio_task_future(t)),
 *   corio_future_result(corio_task_future(waiter), NULL) == 0, message "task %d came back with %d".
 *
 * Please re-create it from your copy (its author has the text) and replace this placeholder.
 */
#include <criterion/criterion.h>

Test(task_compact, placeholder_lost_file, .timeout = 10)
{
    cr_skip_test("tests/test_task_compact.c was overwritten by mistake; see the comment at the top");
}
