#ifndef TASKLIB_CONNECTION_H
#define TASKLIB_CONNECTION_H

// The executor's Unix socket to its governor and the protocol's framing (docs/executors.md):
//   N (u32 BE, length of the rest) | H (u32 BE, header length) | H bytes of JSON | binary parts
// Written by hand on POSIX sockets: it is a read loop and two integers, and no Debian library
// does this framing.

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tasklib {
namespace detail {

/** Bytes of a binary part: a view, valid while its owner lives. */
struct Part {
  const unsigned char *data;
  size_t size;
};

struct Frame {
  nlohmann::json message;
  std::vector<Part> parts;  // views into `body`
  std::shared_ptr<const std::vector<unsigned char>> body;
};

class Connection {
 public:
  /** Connects to the Unix socket at `path`; throws std::runtime_error on failure. */
  explicit Connection(const std::string &path);
  ~Connection();
  Connection(const Connection &) = delete;
  Connection &operator=(const Connection &) = delete;

  /** Reads the next frame; false at the end of the stream. Throws on a malformed frame. */
  bool read_frame(Frame &frame);

  /** Sends `message` with `parts` (sets its "parts" lengths). Throws when the socket fails. */
  void send(nlohmann::json &message, const std::vector<Part> &parts = {});

 private:
  /** Reads at least one byte into the buffer; false at the end of the stream. */
  bool fill();

  int fd_ = -1;
  std::vector<unsigned char> buffer_;
  size_t start_ = 0;
  size_t end_ = 0;
};

}  // namespace detail
}  // namespace tasklib

#endif
