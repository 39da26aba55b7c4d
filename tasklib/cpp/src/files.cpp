#include "files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace fs = std::filesystem;

namespace tasklib {
namespace detail {

namespace {

std::string &work_dir_storage() {
  static std::string path;
  return path;
}

std::atomic<unsigned> staged_counter{0};

std::string unique_name(const std::string &prefix) {
  return work_dir() + "/.tasklib-" + prefix + "-" + std::to_string(getpid()) + "-" +
         std::to_string(staged_counter++);
}

/** Governor storage is read-only: directories left by a task may be too. */
void make_writable(const fs::path &path) {
  std::error_code ignored;
  fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ignored);
  if (fs::is_directory(fs::symlink_status(path, ignored))) {
    for (const auto &entry : fs::directory_iterator(path, ignored)) make_writable(entry.path());
  }
}

void remove_entry(const fs::path &path) {
  std::error_code error;
  fs::remove_all(path, error);
  if (error) {
    make_writable(path);
    fs::remove_all(path);  // throws with the reason this time
  }
}

}  // namespace

const std::string &work_dir() {
  std::string &path = work_dir_storage();
  if (path.empty()) path = fs::current_path().string();
  return path;
}

void set_work_dir(const std::string &path) { work_dir_storage() = path; }

void clean_work_dir() {
  const std::string &root = work_dir();
  if (::chdir(root.c_str()) != 0) {
    throw std::runtime_error("tasklib: cannot enter the working directory " + root + ": " +
                             std::strerror(errno));
  }
  // readdir rather than std::filesystem: this runs before every task and is usually empty.
  DIR *dir = ::opendir(root.c_str());
  if (dir == nullptr) return;
  std::vector<std::string> names;
  while (dirent *entry = ::readdir(dir)) {
    const char *name = entry->d_name;
    if (std::strcmp(name, ".") != 0 && std::strcmp(name, "..") != 0) names.emplace_back(name);
  }
  ::closedir(dir);
  for (const auto &name : names) remove_entry(fs::path(root) / name);
}

MappedFile::MappedFile(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot stat " + path + ": " + std::strerror(errno));
  }
  size_ = size_t(info.st_size);
  if (size_ > 0) {
    void *p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      throw std::runtime_error("cannot map " + path + ": " + std::strerror(errno));
    }
    data_ = static_cast<const unsigned char *>(p);
    mapped_ = true;
  } else {
    static const unsigned char empty = 0;
    data_ = &empty;
  }
  ::close(fd);
}

MappedFile::~MappedFile() {
  if (mapped_) ::munmap(const_cast<unsigned char *>(data_), size_);
}

std::string stage(const std::string &path, bool directory) {
  const char *kind = directory ? "directory" : "file";
  std::error_code error;
  fs::path absolute = fs::absolute(path, error).lexically_normal();
  auto link_status = fs::symlink_status(absolute, error);
  auto status = fs::status(absolute, error);
  bool right_kind = directory ? fs::is_directory(status) : fs::is_regular_file(status);
  if (!right_kind) {
    throw std::runtime_error("'" + path + "' is not a " + kind);
  }
  fs::path root = fs::path(work_dir()).lexically_normal();
  fs::path relative = absolute.lexically_relative(root);
  bool inside = !relative.empty() && relative != "." && *relative.begin() != "..";
  if (inside && !fs::is_symlink(link_status)) return absolute.string();
  // Outside the working directory, or a link (e.g. to an input in the governor's storage):
  // the governor takes what it is given, so it gets a copy and the original stays.
  std::string target = unique_name("staged");
  if (directory) {
    fs::copy(absolute, target, fs::copy_options::recursive | fs::copy_options::copy_symlinks,
             error);
  } else {
    fs::copy_file(absolute, target, error);
  }
  if (error) {
    throw std::runtime_error("cannot copy " + std::string(kind) + " '" + path +
                             "' into the working directory: " + error.message());
  }
  if (directory) make_writable(target);
  return target;
}

std::string write_temporary(const unsigned char *data, size_t size, const std::string &hint) {
  std::string path = unique_name(hint);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
  size_t written = 0;
  while (written < size) {
    ssize_t n = ::write(fd, data + written, size - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::string reason = std::strerror(errno);
      ::close(fd);
      throw std::runtime_error("cannot write " + path + ": " + reason);
    }
    written += size_t(n);
  }
  ::close(fd);
  return path;
}

size_t tree_size(const std::string &path) {
  size_t total = 0;
  std::error_code error;
  for (fs::recursive_directory_iterator it(path, error), end; !error && it != end;
       it.increment(error)) {
    if (it->is_regular_file(error)) total += size_t(it->file_size(error));
  }
  return total;
}

}  // namespace detail
}  // namespace tasklib
