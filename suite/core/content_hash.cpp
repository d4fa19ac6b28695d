#include "suite/core/content_hash.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "suite/core/error.hpp"

namespace clcp {
namespace {

std::string canonical_hex(XXH128_hash_t h) {
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, h);
  static const char* digits = "0123456789abcdef";
  std::string out(32, '0');
  for (int i = 0; i < 16; ++i) {
    out[2 * i] = digits[c.digest[i] >> 4];
    out[2 * i + 1] = digits[c.digest[i] & 15];
  }
  return out;
}

using State = std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)>;

}  // namespace

std::string xxh128_hex(std::string_view bytes) { return canonical_hex(XXH3_128bits(bytes.data(), bytes.size())); }

std::string xxh128_file(const std::filesystem::path& path, uint64_t* bytes_read) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("{}: cannot open for hashing ({}); check the path and permissions", path.string(), std::strerror(errno));
  State st(XXH3_createState(), &XXH3_freeState);
  XXH3_128bits_reset(st.get());
  std::vector<char> buf(1 << 20);
  uint64_t total = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      fail("{}: read failed after {} bytes ({}); the file or its disk is damaged", path.string(), total,
           std::strerror(e));
    }
    if (n == 0) break;
    XXH3_128bits_update(st.get(), buf.data(), static_cast<size_t>(n));
    total += static_cast<uint64_t>(n);
  }
  ::close(fd);
  if (bytes_read) *bytes_read = total;
  return canonical_hex(XXH3_128bits_digest(st.get()));
}

}  // namespace clcp
