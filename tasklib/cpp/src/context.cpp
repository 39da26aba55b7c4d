#include "context.h"

namespace tasklib {

namespace {

const nlohmann::json &member(const nlohmann::json &object, const char *key,
                             const nlohmann::json &fallback) {
  if (!object.is_object()) return fallback;
  auto it = object.find(key);
  return it != object.end() ? *it : fallback;
}

const nlohmann::json &null_json() {
  static const nlohmann::json null;
  return null;
}

const nlohmann::json &empty_object() {
  static const nlohmann::json object = nlohmann::json::object();
  return object;
}

const nlohmann::json &empty_array() {
  static const nlohmann::json array = nlohmann::json::array();
  return array;
}

std::string string_of(const nlohmann::json &value) {
  return value.is_string() ? value.get<std::string>() : std::string();
}

/** "1 input", "2 inputs". */
std::string count(size_t n, const char *noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

}  // namespace

Context::Context(const nlohmann::json &call, const std::string &work_dir,
                 const std::string &governor_id)
    : spec_(member(call, "spec", empty_object())),
      outputs_(member(call, "outputs", empty_array())),
      task_type_(string_of(member(spec_, "task_type", null_json()))),
      method_(string_of(member(call, "method", null_json()))),
      n_inputs_(member(call, "inputs", empty_array()).size()),
      work_dir_(work_dir),
      governor_id_(governor_id) {}

bool Context::check_n_args(size_t n) {
  if (n_inputs_ == n) return true;
  set_error(task_type_ + " takes " + count(n, "input") + ", but the task has " +
            count(n_inputs_, "input"));
  return false;
}

bool Context::check_n_outputs(size_t n) {
  if (outputs_.size() == n) return true;
  set_error(task_type_ + " makes " + count(n, "output") + ", but the task has " +
            count(outputs_.size(), "output"));
  return false;
}

void Context::set_error(const std::string &message) {
  has_error_ = true;
  error_ = message;
}

void Context::debug(const std::string &line) { debug_.push_back(line); }

void Context::set_user_info(const std::string &key, nlohmann::json value) {
  if (!user_info_.is_object()) user_info_ = nlohmann::json::object();
  user_info_[key] = std::move(value);
}

const nlohmann::json &Context::config() const { return member(spec_, "config", null_json()); }

const nlohmann::json &Context::user_spec() const {
  const nlohmann::json &user = member(spec_, "user", empty_object());
  return user.is_object() ? user : empty_object();
}

std::pair<int64_t, int64_t> Context::task_id() const {
  const nlohmann::json &id = member(spec_, "id", null_json());
  if (id.is_array() && id.size() == 2 && id[0].is_number_integer() && id[1].is_number_integer()) {
    return {id[0].get<int64_t>(), id[1].get<int64_t>()};
  }
  return {0, 0};
}

}  // namespace tasklib
