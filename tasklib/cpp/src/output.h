#ifndef TASKLIB_OUTPUT_H
#define TASKLIB_OUTPUT_H

// A call's output to the files the governor named (`call.output`, issue 17): while an
// OutputRedirect lives, fd 1 and 2 point at them, so everything the task prints (stdio,
// iostreams, programs it starts) is its own output; the executor's descriptors come back after.

#include <nlohmann/json.hpp>

namespace tasklib {
namespace detail {

class OutputRedirect {
 public:
  /** `output`: the call's `output` field ({stdout, stderr} paths); null: nothing changes. */
  explicit OutputRedirect(const nlohmann::json &output);
  ~OutputRedirect();
  OutputRedirect(const OutputRedirect &) = delete;
  OutputRedirect &operator=(const OutputRedirect &) = delete;

 private:
  int saved_[2] = {-1, -1};
};

}  // namespace detail
}  // namespace tasklib

#endif
