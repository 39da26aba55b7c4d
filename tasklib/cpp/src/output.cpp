#include "output.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace tasklib {
namespace detail {

namespace {

void flush_all() {
  std::cout.flush();
  std::cerr.flush();
  std::fflush(stdout);
  std::fflush(stderr);
}

}  // namespace

OutputRedirect::OutputRedirect(const nlohmann::json &output) {
  if (!output.is_object()) return;
  const char *keys[2] = {"stdout", "stderr"};
  flush_all();
  for (int i = 0; i < 2; i++) {
    auto path = output.find(keys[i]);
    if (path == output.end() || !path->is_string()) continue;
    // Appending: the governor may empty the file while the call runs (a past-limit output).
    int target = ::open(path->get<std::string>().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                        0600);
    if (target < 0) continue;  // the output stays the executor's own
    saved_[i] = ::dup(i + 1);
    ::dup2(target, i + 1);
    ::close(target);
  }
}

OutputRedirect::~OutputRedirect() {
  flush_all();
  for (int i = 0; i < 2; i++) {
    if (saved_[i] < 0) continue;
    ::dup2(saved_[i], i + 1);
    ::close(saved_[i]);
  }
}

}  // namespace detail
}  // namespace tasklib
