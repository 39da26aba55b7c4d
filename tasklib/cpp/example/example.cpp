// The executor "example1" of the user guide ("C++ tasklib"), plus tasks showing the rest of the
// tasklib. Register it in the governor's config:
//
//   [executors.example1]
//   command = "/path/to/_build/example1"
//
// Tasks (task type example1/<name>):
//   hello        one blob in, "Hello <input>!" out (the guide's example)
//   fail         fails with the text of its input (Context::set_error)
//   throw        throws std::runtime_error with the text of its input
//   abort        calls abort(): the executor dies, the task fails with its stderr tail
//   meta         copies its input with its content type and user attributes; reports the size
//                in the task's user info and a debug line
//   pass         its input as its output, without copying the data
//   upper_file   reads its input as a file (the governor's, or a temporary one), writes the text
//                upper-cased to a file and returns that file as the output
//   listdir      a directory in, a listing out: "<relative path> <size>" per file, sorted
//   split_lines  text in, a directory out with one file per line (0.txt, 1.txt, ...)
//   trivial      no inputs, "x" out (for benchmarks)

#include <tasklib/executor.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

int main()
{
  // Create executor, the argument is the name of the executor
  tasklib::Executor executor("example1");

  // Register task "hello"
  executor.add_task("hello", [](tasklib::Context &ctx, auto &inputs, auto &outputs) {
      // Check that we been called exactly with 1 argument.
      // If not, the error message is set to context
      if (!ctx.check_n_args(1)) {
          return;
      }

      // This is body of our task, in our case, it reads the input data object
      // inserts "Hello" before the input and appends "!"
      auto& input1 = inputs[0];
      std::string str = "Hello " + input1->read_as_string() + "!";

      // Create new data instance and set it as one (and only) result
      // of the task
      outputs.push_back(std::make_unique<tasklib::MemDataInstance>(str));
  });

  executor.add_task("fail", [](tasklib::Context &ctx, auto &inputs, auto &) {
    if (!ctx.check_n_args(1)) return;
    ctx.debug("failing on purpose");
    ctx.set_error(inputs[0]->read_as_string());
  });

  executor.add_task("throw", [](tasklib::Context &ctx, auto &inputs, auto &) {
    if (!ctx.check_n_args(1)) return;
    throw std::runtime_error(inputs[0]->read_as_string());
  });

  executor.add_task("abort", [](tasklib::Context &, auto &inputs, auto &) {
    std::cerr << "about to abort: " << (inputs.empty() ? "" : inputs[0]->read_as_string())
              << std::endl;
    std::abort();
  });

  executor.add_task("meta", [](tasklib::Context &ctx, auto &inputs, auto &outputs) {
    if (!ctx.check_n_args(1)) return;
    const auto &input = inputs[0];
    auto output = std::make_unique<tasklib::MemDataInstance>(input->read(), input->size(),
                                                             input->content_type());
    // User attributes of the input object: those of its spec, then those set at run time.
    for (const auto &item : input->user_spec().items()) {
      output->set_user_info(item.key(), item.value());
    }
    for (const auto &item : input->user_info().items()) {
      output->set_user_info(item.key(), item.value());
    }
    ctx.set_user_info("size", input->size());
    ctx.debug("copied " + std::to_string(input->size()) + " bytes of content type '" +
              input->content_type() + "'");
    outputs.push_back(std::move(output));
  });

  executor.add_task("pass", [](tasklib::Context &ctx, auto &inputs, auto &outputs) {
    if (!ctx.check_n_args(1)) return;
    outputs.push_back(std::move(inputs[0]));
  });

  executor.add_task("upper_file", [](tasklib::Context &ctx, auto &inputs, auto &outputs) {
    if (!ctx.check_n_args(1)) return;
    const auto &input = inputs[0];
    ctx.debug(input->has_path() ? "input in the governor's storage" : "input in memory");
    std::ifstream in(input->file_path(), std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return char(std::toupper(c)); });
    std::ofstream("upper.txt", std::ios::binary) << text;
    outputs.push_back(std::make_unique<tasklib::FileDataInstance>("upper.txt", "text"));
  });

  executor.add_task("listdir", [](tasklib::Context &ctx, auto &inputs, auto &outputs) {
    if (!ctx.check_n_args(1)) return;
    const auto &input = inputs[0];
    if (!input->is_directory()) {
      ctx.set_error("listdir needs a directory, got a blob");
      return;
    }
    std::vector<std::string> lines;
    for (const auto &entry : fs::recursive_directory_iterator(input->path())) {
      if (!entry.is_regular_file()) continue;
      lines.push_back(fs::relative(entry.path(), input->path()).string() + " " +
                      std::to_string(entry.file_size()));
    }
    std::sort(lines.begin(), lines.end());
    std::string listing;
    for (const auto &line : lines) listing += line + "\n";
    outputs.push_back(std::make_unique<tasklib::MemDataInstance>(listing, "text"));
  });

  executor.add_task("split_lines", [](tasklib::Context &ctx, auto &inputs, auto &outputs) {
    if (!ctx.check_n_args(1)) return;
    fs::create_directory("lines");
    std::istringstream text(inputs[0]->read_as_string());
    std::string line;
    for (int i = 0; std::getline(text, line); i++) {
      std::ofstream("lines/" + std::to_string(i) + ".txt") << line;
    }
    outputs.push_back(std::make_unique<tasklib::DirDataInstance>("lines"));
  });

  executor.add_task("trivial", [](tasklib::Context &, auto &, auto &outputs) {
    outputs.push_back(std::make_unique<tasklib::MemDataInstance>("x"));
  });

  // Connect to governor and serve registered tasks
  executor.start();
}
