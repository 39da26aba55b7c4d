#ifndef TASKLIB_EXECUTOR_H
#define TASKLIB_EXECUTOR_H

// The C++ tasklib of Rain: write an executor (a program a governor starts to run tasks of type
// `<executor>/<method>`) as a set of task functions.
//
//   tasklib::Executor executor("example1");
//   executor.add_task("hello", [](tasklib::Context &ctx, auto &inputs, auto &outputs) {
//     if (!ctx.check_n_args(1)) return;
//     outputs.push_back(std::make_unique<tasklib::MemDataInstance>(
//         "Hello " + inputs[0]->read_as_string() + "!"));
//   });
//   executor.start();
//
// Register the program in the governor's config (`[executors.example1] command = "..."`).
// See docs/guide/executors-cpp.md; the wire protocol is docs/executors.md.

#include <functional>
#include <map>
#include <string>

#include "context.h"
#include "datainstance.h"

namespace tasklib {

/** A task function: reads `inputs`, appends one entry per output to `outputs`. */
using TaskFunction = std::function<void(Context &ctx, DataVector &inputs, DataVector &outputs)>;

class Executor {
 public:
  /** `name`: the executor's name (the governor's `[executors.NAME]` name is used if it differs). */
  explicit Executor(const std::string &name);
  ~Executor();
  Executor(const Executor &) = delete;
  Executor &operator=(const Executor &) = delete;

  /** Registers the task function of task type `<executor>/<method>`. */
  Executor &add_task(const std::string &method, TaskFunction function);

  /**
   * Connects to the governor that started this program (from the environment), registers, and
   * serves calls one at a time until the governor closes the connection; then returns. Exits
   * the program with a message if it was not started by a governor, and exits when the
   * governor dies.
   */
  void start();

  const std::string &name() const { return name_; }

 private:
  std::string name_;
  std::map<std::string, TaskFunction> tasks_;
};

}  // namespace tasklib

#endif
