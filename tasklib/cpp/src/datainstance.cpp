#include "datainstance.h"

#include <cstring>
#include <stdexcept>

#include "files.h"

namespace tasklib {

namespace {

const nlohmann::json &empty_object() {
  static const nlohmann::json object = nlohmann::json::object();
  return object;
}

const std::string &empty_string() {
  static const std::string empty;
  return empty;
}

std::string string_field(const nlohmann::json &object, const char *key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

// --- DataInstance ---------------------------------------------------------------------------

DataInstance::~DataInstance() = default;

std::string DataInstance::read_as_string() const {
  const unsigned char *data = read();
  return std::string(reinterpret_cast<const char *>(data), size());
}

const std::string &DataInstance::path() const { return empty_string(); }

std::string DataInstance::file_path() const {
  if (has_path()) return path();
  if (written_path_.empty()) {
    written_path_ = detail::write_temporary(read(), size(), "data");
  }
  return written_path_;
}

void DataInstance::set_user_info(const std::string &key, nlohmann::json value) {
  if (!user_info_.is_object()) user_info_ = nlohmann::json::object();
  user_info_[key] = std::move(value);
}

const nlohmann::json &DataInstance::spec() const { return empty_object(); }

std::string DataInstance::label() const { return string_field(spec(), "label"); }

const nlohmann::json &DataInstance::user_spec() const {
  const nlohmann::json &s = spec();
  auto it = s.find("user");
  return it != s.end() && it->is_object() ? *it : empty_object();
}

// --- MemDataInstance ------------------------------------------------------------------------

MemDataInstance::MemDataInstance(std::string data, const std::string &content_type)
    : data_(std::move(data)) {
  content_type_ = content_type;
}

MemDataInstance::MemDataInstance(const std::vector<unsigned char> &data,
                                 const std::string &content_type)
    : data_(data.begin(), data.end()) {
  content_type_ = content_type;
}

MemDataInstance::MemDataInstance(const void *data, size_t size, const std::string &content_type)
    : data_(static_cast<const char *>(data), size) {
  content_type_ = content_type;
}

const unsigned char *MemDataInstance::read() const {
  return reinterpret_cast<const unsigned char *>(data_.data());
}

// --- FileDataInstance / DirDataInstance -----------------------------------------------------

FileDataInstance::FileDataInstance(const std::string &path, const std::string &content_type) {
  try {
    path_ = detail::stage(path, false);
  } catch (const std::runtime_error &e) {
    throw std::runtime_error(std::string("FileDataInstance: ") + e.what());
  }
  content_type_ = content_type;
}

FileDataInstance::~FileDataInstance() = default;

const unsigned char *FileDataInstance::read() const {
  if (!mapped_) mapped_ = std::make_unique<detail::MappedFile>(path_);
  return mapped_->data();
}

size_t FileDataInstance::size() const {
  if (!mapped_) mapped_ = std::make_unique<detail::MappedFile>(path_);
  return mapped_->size();
}

DirDataInstance::DirDataInstance(const std::string &path) {
  try {
    path_ = detail::stage(path, true);
  } catch (const std::runtime_error &e) {
    throw std::runtime_error(std::string("DirDataInstance: ") + e.what());
  }
}

const unsigned char *DirDataInstance::read() const {
  throw std::runtime_error("DirDataInstance " + path_ + " is a directory: use path()");
}

size_t DirDataInstance::size() const { return detail::tree_size(path_); }

std::string DirDataInstance::file_path() const {
  throw std::runtime_error("DirDataInstance " + path_ + " is a directory: use path()");
}

// --- InputDataInstance ----------------------------------------------------------------------

InputDataInstance::InputDataInstance(size_t index, const nlohmann::json &entry,
                                     std::shared_ptr<const std::vector<unsigned char>> body,
                                     const unsigned char *data, size_t size)
    : index_(index),
      spec_(entry.value("spec", nlohmann::json::object())),
      info_(entry.value("info", nlohmann::json::object())),
      data_type_(string_field(spec_, "data_type") == "dir" ? DataType::Directory : DataType::Blob),
      path_(string_field(entry, "path")),
      body_(std::move(body)),
      data_(data),
      size_(size) {
  // The producer's run-time content type wins over the declared one.
  content_type_ = string_field(info_, "content_type");
  if (content_type_.empty()) content_type_ = string_field(spec_, "content_type");
  original_content_type_ = content_type_;
  auto user = info_.find("user");
  if (user != info_.end() && user->is_object()) user_info_ = *user;
  if (data_ == nullptr && path_.empty() && entry.value("cached", false)) {
    // This library never asks to keep inputs, so a governor should never send this.
    throw std::runtime_error("input " + std::to_string(index) + " was sent as cached");
  }
}

InputDataInstance::~InputDataInstance() = default;

const unsigned char *InputDataInstance::read() const {
  if (data_ != nullptr) return data_;
  if (data_type_ == DataType::Directory) {
    std::string label = this->label();
    throw std::runtime_error("input " + std::to_string(index_) +
                             (label.empty() ? "" : " ('" + label + "')") +
                             " is a directory: use path()");
  }
  if (!mapped_) mapped_ = std::make_unique<detail::MappedFile>(path_);
  return mapped_->data();
}

}  // namespace tasklib
