#ifndef TASKLIB_CONTEXT_H
#define TASKLIB_CONTEXT_H

// What a task function gets besides its inputs and outputs: the task's spec and config, a way
// to fail it with a message, and its debug text and user attributes (the task's info).

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace tasklib {

class Context {
 public:
  /** Made by the executor for each call (`call` is the governor's call message). */
  Context(const nlohmann::json &call, const std::string &work_dir, const std::string &governor_id);

  /**
   * True when the task has exactly `n` inputs; otherwise sets an error naming both counts and
   * returns false (the task function should return then).
   */
  bool check_n_args(size_t n);
  /** The same for the outputs the task was declared with. */
  bool check_n_outputs(size_t n);

  /** Fails the task with `message` (when the task function returns; outputs are ignored). */
  void set_error(const std::string &message);
  bool has_error() const { return has_error_; }
  const std::string &error() const { return error_; }

  /** Adds a line to the task's debug text (`info.debug`, also shown when the task fails). */
  void debug(const std::string &line);
  const std::vector<std::string> &debug_lines() const { return debug_; }

  /** The task's `info.user` attributes (a JSON object), reported to the client. */
  nlohmann::json &user_info() { return user_info_; }
  const nlohmann::json &user_info() const { return user_info_; }
  void set_user_info(const std::string &key, nlohmann::json value);

  /** The task spec as submitted (id, task_type, config, inputs, outputs, resources, user…). */
  const nlohmann::json &spec() const { return spec_; }
  /** spec().config (null when the task has none). */
  const nlohmann::json &config() const;
  /** spec().user (a JSON object, maybe empty). */
  const nlohmann::json &user_spec() const;
  /** The task id: (session, id). */
  std::pair<int64_t, int64_t> task_id() const;
  /** `<executor>/<method>`. */
  const std::string &task_type() const { return task_type_; }
  const std::string &method() const { return method_; }

  size_t n_inputs() const { return n_inputs_; }
  size_t n_outputs() const { return outputs_.size(); }
  /** Spec of output i (label, data_type, content_type), as the client declared it. */
  const nlohmann::json &output_spec(size_t i) const { return outputs_.at(i); }

  /** The task's working directory (empty when the task starts, also the current directory). */
  const std::string &work_dir() const { return work_dir_; }
  /** Id of the governor running the task (`ip:port`). */
  const std::string &governor_id() const { return governor_id_; }

 private:
  const nlohmann::json &spec_;
  const nlohmann::json &outputs_;
  std::string task_type_;
  std::string method_;
  size_t n_inputs_;
  const std::string &work_dir_;
  const std::string &governor_id_;
  bool has_error_ = false;
  std::string error_;
  std::vector<std::string> debug_;
  nlohmann::json user_info_ = nlohmann::json::object();
};

}  // namespace tasklib

#endif
