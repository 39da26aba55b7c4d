#ifndef TASKLIB_DATAINSTANCE_H
#define TASKLIB_DATAINSTANCE_H

// Data of a task: its inputs (InputDataInstance, made by the executor) and the outputs a task
// creates (MemDataInstance in memory, FileDataInstance / DirDataInstance from the file system).

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tasklib {

enum class DataType { Blob, Directory };

namespace detail {
class MappedFile;
}

/** A blob or a directory: an input of a task or an output it produced. */
class DataInstance {
 public:
  virtual ~DataInstance();

  /** The bytes of a blob (a file is mapped on first use). Throws for a directory. */
  virtual const unsigned char *read() const = 0;
  /** Size in bytes (for a directory: the total of its files). */
  virtual size_t size() const = 0;
  /** The bytes as a std::string. */
  std::string read_as_string() const;

  virtual DataType data_type() const { return DataType::Blob; }
  bool is_directory() const { return data_type() == DataType::Directory; }

  /** The file or directory holding the data, or "" when it is in memory. */
  virtual const std::string &path() const;
  bool has_path() const { return !path().empty(); }
  /**
   * A file with the data: path() when there is one, else a file written in the task's working
   * directory on first call (for libraries that only read files).
   */
  virtual std::string file_path() const;

  /** Content type ("" if none): for inputs the one set by the producer, else the declared one. */
  const std::string &content_type() const { return content_type_; }
  void set_content_type(const std::string &content_type) { content_type_ = content_type; }

  /** The object's `info.user` attributes (a JSON object): read for inputs, set for outputs. */
  nlohmann::json &user_info() { return user_info_; }
  const nlohmann::json &user_info() const { return user_info_; }
  void set_user_info(const std::string &key, nlohmann::json value);

  /** The object's spec (id, label, data_type, content_type, user); empty for new outputs. */
  virtual const nlohmann::json &spec() const;
  /** spec().label, or "". */
  std::string label() const;
  /** spec().user (a JSON object, maybe empty). */
  const nlohmann::json &user_spec() const;

 protected:
  std::string content_type_;
  nlohmann::json user_info_ = nlohmann::json::object();
  mutable std::string written_path_;  // file_path() of in-memory data
};

using DataVector = std::vector<std::unique_ptr<DataInstance>>;

/** An output blob in memory. */
class MemDataInstance : public DataInstance {
 public:
  explicit MemDataInstance(std::string data, const std::string &content_type = "");
  explicit MemDataInstance(const std::vector<unsigned char> &data,
                           const std::string &content_type = "");
  MemDataInstance(const void *data, size_t size, const std::string &content_type = "");

  const unsigned char *read() const override;
  size_t size() const override { return data_.size(); }
  /** The bytes, for changing them in place. */
  std::string &data() { return data_; }

 private:
  std::string data_;
};

/**
 * An output blob from a file the task wrote. The governor moves the file into its storage when
 * the task returns: do not touch it afterwards. A file outside the task's working directory (or
 * a symbolic link) is copied into it first and left alone.
 */
class FileDataInstance : public DataInstance {
 public:
  explicit FileDataInstance(const std::string &path, const std::string &content_type = "");
  ~FileDataInstance() override;

  const unsigned char *read() const override;
  size_t size() const override;
  const std::string &path() const override { return path_; }

 private:
  std::string path_;
  mutable std::unique_ptr<detail::MappedFile> mapped_;
};

/** An output directory the task wrote; staged like FileDataInstance. */
class DirDataInstance : public DataInstance {
 public:
  explicit DirDataInstance(const std::string &path);

  const unsigned char *read() const override;
  size_t size() const override;
  DataType data_type() const override { return DataType::Directory; }
  const std::string &path() const override { return path_; }
  std::string file_path() const override;

 private:
  std::string path_;
};

/**
 * An input of a task. Small blobs come in memory; large blobs and directories as read-only
 * paths in the governor's storage (never change them). Moving an input into the outputs
 * (`outputs.push_back(std::move(inputs[0]))`) makes it an output without copying the data.
 */
class InputDataInstance : public DataInstance {
 public:
  /** Made by the executor. `body` keeps the frame holding the bytes alive. */
  InputDataInstance(size_t index, const nlohmann::json &entry,
                    std::shared_ptr<const std::vector<unsigned char>> body,
                    const unsigned char *data, size_t size);
  ~InputDataInstance() override;

  const unsigned char *read() const override;
  size_t size() const override { return size_; }
  DataType data_type() const override { return data_type_; }
  const std::string &path() const override { return path_; }
  const nlohmann::json &spec() const override { return spec_; }

  /** Position among the task's inputs. */
  size_t index() const { return index_; }
  /** The run-time object info the governor passed (content_type, user…), maybe empty. */
  const nlohmann::json &info() const { return info_; }
  /** The content type the input arrived with (set_content_type() may change content_type()). */
  const std::string &original_content_type() const { return original_content_type_; }

 private:
  size_t index_;
  nlohmann::json spec_;
  nlohmann::json info_;
  DataType data_type_;
  std::string path_;
  std::string original_content_type_;
  std::shared_ptr<const std::vector<unsigned char>> body_;
  const unsigned char *data_;
  size_t size_;
  mutable std::unique_ptr<detail::MappedFile> mapped_;
};

}  // namespace tasklib

#endif
