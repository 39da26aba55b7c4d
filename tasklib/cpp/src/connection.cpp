#include "connection.h"

#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace tasklib {
namespace detail {

namespace {

const size_t READ_CHUNK = 64 * 1024;

uint32_t get_u32(const unsigned char *p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

void put_u32(unsigned char *p, uint32_t v) {
  p[0] = (v >> 24) & 0xff;
  p[1] = (v >> 16) & 0xff;
  p[2] = (v >> 8) & 0xff;
  p[3] = v & 0xff;
}

std::runtime_error system_error(const std::string &what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

/** Writes every byte of `iov` (advancing through partial writes and IOV_MAX at a time). */
void write_all(int fd, std::vector<iovec> &iov) {
  size_t first = 0;
  while (first < iov.size()) {
    int count = int(std::min<size_t>(iov.size() - first, IOV_MAX));
    ssize_t n = ::writev(fd, &iov[first], count);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw system_error("tasklib: writing to the governor failed");
    }
    size_t left = size_t(n);
    while (first < iov.size() && left >= iov[first].iov_len) {
      left -= iov[first].iov_len;
      first++;
    }
    if (left > 0) {
      iov[first].iov_base = static_cast<char *>(iov[first].iov_base) + left;
      iov[first].iov_len -= left;
    }
  }
}

}  // namespace

Connection::Connection(const std::string &path) : buffer_(READ_CHUNK) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) {
    throw std::runtime_error("tasklib: socket path is too long: " + path);
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw system_error("tasklib: socket()");
  if (::connect(fd_, reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0) {
    auto error = system_error("tasklib: cannot connect to the governor at " + path);
    ::close(fd_);
    fd_ = -1;
    throw error;
  }
}

Connection::~Connection() {
  if (fd_ >= 0) ::close(fd_);
}

bool Connection::fill() {
  if (end_ == buffer_.size()) {
    if (start_ > 0) {
      std::memmove(buffer_.data(), buffer_.data() + start_, end_ - start_);
      end_ -= start_;
      start_ = 0;
    } else {
      buffer_.resize(buffer_.size() * 2);
    }
  }
  for (;;) {
    ssize_t n = ::read(fd_, buffer_.data() + end_, buffer_.size() - end_);
    if (n > 0) {
      end_ += size_t(n);
      return true;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    if (errno == ECONNRESET) return false;
    throw system_error("tasklib: reading from the governor failed");
  }
}

bool Connection::read_frame(Frame &frame) {
  while (end_ - start_ < 4) {
    if (!fill()) {
      if (end_ != start_) throw std::runtime_error("tasklib: connection closed inside a frame");
      return false;
    }
  }
  size_t length = get_u32(buffer_.data() + start_);
  if (length < 4) throw std::runtime_error("tasklib: frame too short");
  auto body = std::make_shared<std::vector<unsigned char>>(length);
  // What is buffered already, then the rest straight into the body (large inputs are not
  // copied twice).
  size_t have = std::min(end_ - start_ - 4, length);
  std::memcpy(body->data(), buffer_.data() + start_ + 4, have);
  start_ += 4 + have;
  if (start_ == end_) start_ = end_ = 0;
  while (have < length) {
    ssize_t n = ::read(fd_, body->data() + have, length - have);
    if (n > 0) {
      have += size_t(n);
    } else if (n == 0 || errno == ECONNRESET) {
      throw std::runtime_error("tasklib: connection closed inside a frame");
    } else if (errno != EINTR) {
      throw system_error("tasklib: reading from the governor failed");
    }
  }
  const unsigned char *p = body->data();
  size_t header = get_u32(p);
  if (4 + header > length) throw std::runtime_error("tasklib: frame header exceeds the frame");
  frame.message = nlohmann::json::parse(p + 4, p + 4 + header);
  if (!frame.message.is_object() || !frame.message.contains("type")) {
    throw std::runtime_error("tasklib: frame header is not a message object");
  }
  frame.parts.clear();
  size_t offset = 4 + header;
  auto lengths = frame.message.find("parts");
  if (lengths != frame.message.end()) {
    if (!lengths->is_array()) throw std::runtime_error("tasklib: 'parts' must be a list");
    for (const auto &n : *lengths) {
      if (!n.is_number_unsigned() || offset + n.get<size_t>() > length) {
        throw std::runtime_error("tasklib: 'parts' do not match the frame");
      }
      frame.parts.push_back(Part{p + offset, n.get<size_t>()});
      offset += n.get<size_t>();
    }
  }
  if (offset != length) throw std::runtime_error("tasklib: frame has bytes beyond its parts");
  frame.body = std::move(body);
  return true;
}

void Connection::send(nlohmann::json &message, const std::vector<Part> &parts) {
  size_t part_bytes = 0;
  if (!parts.empty()) {
    auto lengths = nlohmann::json::array();
    for (const Part &part : parts) {
      lengths.push_back(part.size);
      part_bytes += part.size;
    }
    message["parts"] = std::move(lengths);
  }
  std::string header = message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  size_t total = 4 + header.size() + part_bytes;
  if (total > std::numeric_limits<uint32_t>::max()) {
    throw std::runtime_error("tasklib: answer of " + std::to_string(total) +
                             " bytes is too large for one frame (stage large outputs as files)");
  }
  unsigned char prefix[8];
  put_u32(prefix, uint32_t(total));
  put_u32(prefix + 4, uint32_t(header.size()));
  std::vector<iovec> iov;
  iov.reserve(2 + parts.size());
  iov.push_back(iovec{prefix, sizeof(prefix)});
  iov.push_back(iovec{const_cast<char *>(header.data()), header.size()});
  for (const Part &part : parts) {
    if (part.size > 0) iov.push_back(iovec{const_cast<unsigned char *>(part.data), part.size});
  }
  write_all(fd_, iov);
}

}  // namespace detail
}  // namespace tasklib
