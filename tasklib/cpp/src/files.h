#ifndef TASKLIB_FILES_H
#define TASKLIB_FILES_H

// File-system work of the executor: the working directory every task starts in (empty), files
// mapped for reading, and outputs staged inside the working directory for the governor.

#include <cstddef>
#include <string>

namespace tasklib {
namespace detail {

/** The working directory of the executor (RAIN_EXECUTOR_WORK_DIR, else the start directory). */
const std::string &work_dir();
void set_work_dir(const std::string &path);

/** Makes the working directory the current one and removes everything in it. */
void clean_work_dir();

/** A read-only file mapped into memory (read on first use). */
class MappedFile {
 public:
  explicit MappedFile(const std::string &path);
  ~MappedFile();
  MappedFile(const MappedFile &) = delete;
  MappedFile &operator=(const MappedFile &) = delete;
  const unsigned char *data() const { return data_; }
  size_t size() const { return size_; }

 private:
  const unsigned char *data_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;
};

/**
 * The path to hand to the governor for an output at `path` (a file, or a directory when
 * `directory`): `path` itself (absolute) when it lies inside the working directory and is not
 * a symbolic link; otherwise a copy made inside the working directory. Throws
 * std::runtime_error when `path` is not a file (directory) or cannot be copied.
 */
std::string stage(const std::string &path, bool directory);

/** Writes `size` bytes to a new file in the working directory; returns its path. */
std::string write_temporary(const unsigned char *data, size_t size, const std::string &hint);

/** Total size of the regular files below `path`. */
size_t tree_size(const std::string &path);

}  // namespace detail
}  // namespace tasklib

#endif
