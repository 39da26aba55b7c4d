#include "crash.h"

#include <cxxabi.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <thread>
#include <typeinfo>

namespace tasklib {
namespace detail {

namespace {

// Filled outside the handler, only read inside it (a handler may call write() and little else).
char crash_note[1024];
volatile sig_atomic_t crash_note_length = 0;

const char *signal_name(int sig) {
  switch (sig) {
    case SIGABRT: return "SIGABRT (abort)";
    case SIGSEGV: return "SIGSEGV (segmentation fault)";
    case SIGBUS: return "SIGBUS (bus error)";
    case SIGFPE: return "SIGFPE (arithmetic error)";
    case SIGILL: return "SIGILL (illegal instruction)";
    default: return "a fatal signal";
  }
}

void write_text(const char *text, size_t length) {
  while (length > 0) {
    ssize_t n = ::write(STDERR_FILENO, text, length);
    if (n <= 0) return;
    text += n;
    length -= size_t(n);
  }
}

void on_fatal_signal(int sig) {
  static const char prefix[] = "tasklib: ";
  write_text(prefix, sizeof(prefix) - 1);
  if (crash_note_length > 0) {
    write_text(crash_note, size_t(crash_note_length));
  } else {
    static const char idle[] = "the executor";
    write_text(idle, sizeof(idle) - 1);
  }
  static const char middle[] = " crashed: ";
  write_text(middle, sizeof(middle) - 1);
  const char *name = signal_name(sig);
  write_text(name, std::strlen(name));
  write_text("\n", 1);
  // SA_RESETHAND restored the default action; deliver the signal again so that the process
  // ends with it (the governor reports "killed by signal ...").
  ::raise(sig);
}

std::string demangle(const char *name) {
  int status = 0;
  char *readable = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  std::string result = status == 0 && readable != nullptr ? readable : name;
  std::free(readable);
  return result;
}

}  // namespace

void install_crash_handlers() {
  struct sigaction action {};
  action.sa_handler = on_fatal_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND | SA_NODEFER;
  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) ::sigaction(sig, &action, nullptr);
  // A closed governor socket must show up as a write error, not kill us silently.
  ::signal(SIGPIPE, SIG_IGN);
}

void set_crash_note(const std::string &note) {
  crash_note_length = 0;
  size_t n = std::min(note.size(), sizeof(crash_note));
  std::memcpy(crash_note, note.data(), n);
  crash_note_length = sig_atomic_t(n);
}

void clear_crash_note() { crash_note_length = 0; }

std::string describe_current_exception() {
  std::type_info *type = abi::__cxa_current_exception_type();
  std::string name = type != nullptr ? demangle(type->name()) : "an unknown exception";
  try {
    throw;
  } catch (const std::exception &e) {
    return name + ": " + e.what();
  } catch (const std::string &s) {
    return name + ": " + s;
  } catch (const char *s) {
    return name + ": " + s;
  } catch (...) {
    return name;
  }
}

void start_parent_watchdog() {
  pid_t parent = ::getppid();
  std::thread([parent] {
    for (;;) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      if (::getppid() != parent) ::_exit(1);
    }
  }).detach();
}

}  // namespace detail
}  // namespace tasklib
