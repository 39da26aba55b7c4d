#ifndef TASKLIB_CRASH_H
#define TASKLIB_CRASH_H

// When a task crashes the process (abort(), a segmentation fault…), the governor fails the
// task with the exit status and the tail of the executor's stderr, and starts a new executor
// for the next task. These handlers make that tail say which task crashed and how.

#include <string>

namespace tasklib {
namespace detail {

/** Installs the fatal-signal handlers (SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL). */
void install_crash_handlers();

/** What the handlers print when a crash happens from now on (e.g. the running task). */
void set_crash_note(const std::string &note);
void clear_crash_note();

/** "std::runtime_error: message" for the exception being handled (call inside a catch). */
std::string describe_current_exception();

/** Exits the process when its parent (the governor) is gone, checked every second. */
void start_parent_watchdog();

}  // namespace detail
}  // namespace tasklib

#endif
