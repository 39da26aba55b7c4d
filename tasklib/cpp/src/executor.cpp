// The executor loop: connect to the governor, register, then answer one call at a time
// (docs/executors.md). A task fails with its Context error, with the exception it threw, or with
// a message about wrong outputs; the executor carries on. A crash ends the process, and the
// governor fails the task with the tail of stderr (see crash.cpp).

#include "executor.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "connection.h"
#include "crash.h"
#include "files.h"
#include "output.h"

#ifndef TASKLIB_VERSION
#define TASKLIB_VERSION "0.4.0"
#endif

namespace tasklib {

namespace {

const int PROTOCOL_VERSION = 1;

std::string environment(const char *name) {
  const char *value = std::getenv(name);
  return value != nullptr ? value : "";
}

std::string count(size_t n, const char *noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

/** The answer to one call; `outputs` owns the bytes `parts` points to until it is sent. */
struct Answer {
  nlohmann::json message;
  std::vector<detail::Part> parts;
  DataVector outputs;
};

DataVector make_inputs(const detail::Frame &frame) {
  DataVector inputs;
  auto entries = frame.message.find("inputs");
  if (entries == frame.message.end() || !entries->is_array()) return inputs;
  inputs.reserve(entries->size());
  size_t index = 0;
  for (const auto &entry : *entries) {
    const unsigned char *data = nullptr;
    size_t size = entry.value("size", size_t(0));
    auto part = entry.find("part");
    if (part != entry.end() && part->is_number_unsigned()) {
      size_t k = part->get<size_t>();
      if (k >= frame.parts.size()) throw std::runtime_error("call input refers to a missing part");
      data = frame.parts[k].data;
      size = frame.parts[k].size;
    }
    inputs.push_back(std::make_unique<InputDataInstance>(index++, entry, frame.body, data, size));
  }
  return inputs;
}

/** The `outputs` entries of a result; throws a message for the task when they are wrong. */
nlohmann::json output_entries(const Context &ctx, const DataVector &outputs,
                              std::vector<detail::Part> &parts) {
  if (outputs.size() != ctx.n_outputs()) {
    throw std::runtime_error(ctx.task_type() + " produced " + count(outputs.size(), "output") +
                             ", but the task has " + count(ctx.n_outputs(), "output"));
  }
  auto entries = nlohmann::json::array();
  for (size_t i = 0; i < outputs.size(); i++) {
    const DataInstance *output = outputs[i].get();
    if (output == nullptr) throw std::runtime_error("output " + std::to_string(i) + " is null");
    nlohmann::json entry = nlohmann::json::object();
    bool send_content_type = true;
    if (auto input = dynamic_cast<const InputDataInstance *>(output)) {
      entry["input"] = input->index();
      send_content_type = input->content_type() != input->original_content_type();
    } else if (dynamic_cast<const FileDataInstance *>(output) != nullptr ||
               dynamic_cast<const DirDataInstance *>(output) != nullptr) {
      entry["path"] = output->path();
    } else {
      entry["part"] = parts.size();
      parts.push_back(detail::Part{output->read(), output->size()});
    }
    if (send_content_type && !output->content_type().empty()) {
      entry["content_type"] = output->content_type();
    }
    const nlohmann::json &user = output->user_info();
    if (user.is_object() && !user.empty()) entry["info"] = {{"user", user}};
    entries.push_back(std::move(entry));
  }
  return entries;
}

void add_task_info(nlohmann::json &message, const Context &ctx) {
  nlohmann::json info = nlohmann::json::object();
  const auto &lines = ctx.debug_lines();
  if (!lines.empty()) {
    std::string text;
    for (size_t i = 0; i < lines.size(); i++) text += (i ? "\n" : "") + lines[i];
    info["debug"] = std::move(text);
  }
  if (ctx.user_info().is_object() && !ctx.user_info().empty()) info["user"] = ctx.user_info();
  if (!info.empty()) message["info"] = std::move(info);
}

Answer run_call(const std::map<std::string, TaskFunction> &tasks, const std::string &type,
                const std::string &governor_id, const detail::Frame &frame) {
  const nlohmann::json &call = frame.message;
  Answer answer;
  Context ctx(call, detail::work_dir(), governor_id);
  nlohmann::json task_id = ctx.spec().value("id", nlohmann::json());
  std::string error;
  bool failed = false;
  DataVector inputs;
  try {
    detail::clean_work_dir();
    inputs = make_inputs(frame);
  } catch (const std::exception &e) {
    failed = true;
    error = std::string("tasklib: ") + e.what();
  }
  auto task = tasks.find(ctx.method());
  if (!failed && task == tasks.end()) {
    failed = true;
    error = "executor '" + type + "' has no method '" + ctx.method() + "' (it has: ";
    for (auto it = tasks.begin(); it != tasks.end(); ++it) {
      error += (it == tasks.begin() ? "'" : ", '") + it->first + "'";
    }
    error += tasks.empty() ? "none)" : ")";
  }
  if (!failed) {
    detail::set_crash_note(ctx.task_type() + " task " + task_id.dump());
    try {
      task->second(ctx, inputs, answer.outputs);
    } catch (...) {
      failed = true;
      error = ctx.task_type() + " threw " + detail::describe_current_exception();
    }
    detail::clear_crash_note();
  }
  if (!failed && ctx.has_error()) {
    failed = true;
    error = ctx.error().empty() ? ctx.task_type() + " failed" : ctx.error();
  }
  nlohmann::json entries;
  if (!failed) {
    try {
      entries = output_entries(ctx, answer.outputs, answer.parts);
    } catch (const std::exception &e) {
      failed = true;
      error = e.what();
      answer.parts.clear();
    }
  }
  if (failed) {
    answer.message = {{"type", "failed"}, {"task", task_id}, {"error", error}};
  } else {
    answer.message = {{"type", "result"}, {"task", task_id}, {"outputs", std::move(entries)}};
  }
  add_task_info(answer.message, ctx);
  return answer;
}

[[noreturn]] void give_up(const std::string &message) {
  std::fprintf(stderr, "%s\n", message.c_str());
  std::exit(1);
}

}  // namespace

Executor::Executor(const std::string &name) : name_(name) {}

Executor::~Executor() = default;

Executor &Executor::add_task(const std::string &method, TaskFunction function) {
  tasks_[method] = std::move(function);
  return *this;
}

void Executor::start() {
  std::string socket = environment("RAIN_EXECUTOR_SOCKET");
  std::string id = environment("RAIN_EXECUTOR_ID");
  if (socket.empty() || id.empty()) {
    give_up("tasklib: RAIN_EXECUTOR_SOCKET / RAIN_EXECUTOR_ID are not set: executor '" + name_ +
            "' must be started by a Rain governor (register it in the governor's config, see "
            "docs/guide/executors-cpp.md)");
  }
  std::string type = environment("RAIN_EXECUTOR_TYPE");
  if (type.empty()) type = name_;
  std::string work_dir = environment("RAIN_EXECUTOR_WORK_DIR");
  if (!work_dir.empty()) detail::set_work_dir(work_dir);
  std::string governor_id = environment("RAIN_GOVERNOR_ID");
  // Output printed before a crash must reach the governor's log (like PYTHONUNBUFFERED).
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  detail::install_crash_handlers();
  try {
    detail::Connection connection(socket);
    nlohmann::json hello = {
        {"type", "register"},     {"protocol_version", PROTOCOL_VERSION},
        {"executor_id", id},      {"executor_type", type},
        {"pid", int64_t(getpid())}, {"library", "rain-tasklib-cpp " TASKLIB_VERSION},
    };
    connection.send(hello);
    detail::start_parent_watchdog();
    detail::Frame frame;
    while (connection.read_frame(frame)) {
      const nlohmann::json &kind = frame.message["type"];
      if (kind == "call") {
        Answer answer;
        {
          detail::OutputRedirect redirect(frame.message.value("output", nlohmann::json()));
          answer = run_call(tasks_, type, governor_id, frame);
        }
        connection.send(answer.message, answer.parts);
      } else if (kind != "drop_session") {
        // drop_session needs nothing: this library keeps no inputs.
        std::fprintf(stderr, "tasklib: ignoring unknown message %s\n", kind.dump().c_str());
      }
    }
  } catch (const std::exception &e) {
    give_up(e.what());
  }
}

}  // namespace tasklib
