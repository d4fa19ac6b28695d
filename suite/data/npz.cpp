#include "suite/data/npz.hpp"

#include <zip.h>

#include <memory>
#include <set>
#include <stdexcept>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"

namespace clcp {

namespace {

const char* kNpzFix = "re-download or regenerate the file";

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct ZipFileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};
using ZipPtr = std::unique_ptr<zip_t, ZipCloser>;
using ZipFilePtr = std::unique_ptr<zip_file_t, ZipFileCloser>;

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Opens a source read-only with consistency checks; the source is freed on failure.
ZipPtr open_source(zip_source_t* src, std::string_view label) {
  zip_error_t err;
  zip_error_init(&err);
  zip_t* z = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &err);
  if (!z) {
    zip_source_free(src);
    const int code = zip_error_code_zip(&err);
    const std::string what = zip_error_strerror(&err);
    zip_error_fini(&err);
    if (code == ZIP_ER_NOZIP)
      fail("{}: not a zip archive (an .npz must be one; a truncated file also loses the zip directory at its end); {}",
           label, kNpzFix);
    if (code == ZIP_ER_INCONS)
      fail("{}: zip archive is inconsistent (damaged or truncated: {}); {}", label, what, kNpzFix);
    fail("{}: cannot open the zip archive ({}); {}", label, what, kNpzFix);
  }
  zip_error_fini(&err);
  return ZipPtr(z);
}

// Opens `bytes` (not copied; must outlive the archive).
ZipPtr open_zip(std::string_view bytes, std::string_view label) {
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &err);
  zip_error_fini(&err);
  if (!src) fail("{}: cannot read the archive (out of memory); free memory and retry", label);
  return open_source(src, label);
}

// Opens the file at `path` (read lazily: the zip directory, then only what is read from members).
ZipPtr open_zip_file(const std::filesystem::path& path, std::string_view label) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) fail("{}: file not found; re-download or regenerate it", label);
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* src = zip_source_file_create(path.c_str(), 0, -1, &err);
  zip_error_fini(&err);
  if (!src) fail("{}: cannot open for reading; check the path and permissions", label);
  return open_source(src, label);
}

struct Entry {
  zip_uint64_t index;
  std::string name;  // full member name
  zip_uint64_t size;
};

// The .npy entries in archive order, with duplicate keys rejected.
std::vector<Entry> npy_entries(zip_t* z, std::string_view label) {
  const zip_int64_t n = zip_get_num_entries(z, 0);
  std::vector<Entry> out;
  std::set<std::string> seen;
  for (zip_int64_t i = 0; i < n; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(z, static_cast<zip_uint64_t>(i), 0, &st) != 0 || !(st.valid & ZIP_STAT_NAME))
      fail("{}: zip entry {} cannot be read ({}); {}", label, i, zip_strerror(z), kNpzFix);
    const std::string name = st.name;
    if (!ends_with(name, ".npy") || ends_with(name, "/")) continue;
    if (!(st.valid & ZIP_STAT_SIZE)) fail("{}: member {} has no size; {}", label, name, kNpzFix);
    if (st.size > kMaxNpzMemberBytes)
      fail("{}: member {} declares {} bytes (more than the 1 GiB limit); the archive is damaged, {}", label, name,
           st.size, kNpzFix);
    if (!seen.insert(name).second) fail("{}: member {} appears twice; {}", label, name, kNpzFix);
    out.push_back({static_cast<zip_uint64_t>(i), name, st.size});
  }
  return out;
}

std::string member_label(std::string_view label, const std::string& name) {
  return fmt::format("{} member {}", label, name);
}

// Reads up to `want` bytes of member `e` (all of it when want ≥ size).
std::string read_member(zip_t* z, const Entry& e, uint64_t want, std::string_view label) {
  ZipFilePtr f(zip_fopen_index(z, e.index, 0));
  if (!f) fail("{}: cannot open member {} ({}); {}", label, e.name, zip_strerror(z), kNpzFix);
  const uint64_t n = std::min<uint64_t>(want, e.size);
  std::string buf(n, '\0');
  uint64_t got = 0;
  while (got < n) {
    const zip_int64_t r = zip_fread(f.get(), buf.data() + got, n - got);
    if (r < 0) {
      zip_error_t* err = zip_file_get_error(f.get());
      const int code = zip_error_code_zip(err);
      if (code == ZIP_ER_CRC)
        fail("{}: member {} fails its CRC check (damaged); {}", label, e.name, kNpzFix);
      fail("{}: member {} is truncated or damaged ({}); {}", label, e.name, zip_error_strerror(err), kNpzFix);
    }
    if (r == 0) break;
    got += static_cast<uint64_t>(r);
  }
  if (got < n)
    fail("{}: member {} is truncated: {} of its {} bytes decode; {}", label, e.name, got, e.size, kNpzFix);
  if (want >= e.size) {
    // A complete read must also reach the end of the stream (the CRC is verified there).
    char extra;
    const zip_int64_t r = zip_fread(f.get(), &extra, 1);
    if (r < 0) {
      zip_error_t* err = zip_file_get_error(f.get());
      if (zip_error_code_zip(err) == ZIP_ER_CRC)
        fail("{}: member {} fails its CRC check (damaged); {}", label, e.name, kNpzFix);
      fail("{}: member {} is damaged ({}); {}", label, e.name, zip_error_strerror(err), kNpzFix);
    }
    if (r > 0) fail("{}: member {} holds more bytes than its declared {}; {}", label, e.name, e.size, kNpzFix);
  }
  return buf;
}

std::string key_of(const std::string& name) { return name.substr(0, name.size() - 4); }

}  // namespace

const NpyArray* NpzArchive::find(std::string_view key) const {
  for (const auto& m : members)
    if (m.key == key) return &m.array;
  return nullptr;
}

std::vector<std::string> NpzArchive::keys() const {
  std::vector<std::string> k;
  for (const auto& m : members) k.push_back(m.key);
  return k;
}

NpzArchive parse_npz(std::string_view bytes, std::string_view label) {
  ZipPtr z = open_zip(bytes, label);
  NpzArchive a;
  for (const Entry& e : npy_entries(z.get(), label)) {
    const std::string payload = read_member(z.get(), e, e.size, label);
    a.members.push_back({key_of(e.name), parse_npy(payload, member_label(label, e.name))});
  }
  return a;
}

NpzArchive read_npz(const std::filesystem::path& path) {
  const std::string bytes = read_file(path);
  return parse_npz(bytes, path.string());
}

std::vector<NpzMember> read_npz_headers(const std::filesystem::path& path) {
  const std::string label = path.string();
  ZipPtr z = open_zip_file(path, label);
  std::vector<NpzMember> out;
  for (const Entry& e : npy_entries(z.get(), label)) {
    const std::string ml = member_label(label, e.name);
    // Magic + version + length field first, then exactly the header.
    std::string head = read_member(z.get(), e, 12, label);
    uint64_t need = 12;
    if (head.size() >= 10 && head.compare(0, 6, "\x93NUMPY") == 0) {
      if (head[6] == 1) need = 10 + (static_cast<uint8_t>(head[8]) | (static_cast<uint8_t>(head[9]) << 8));
      else if (head.size() >= 12)
        need = 12 + (static_cast<uint64_t>(static_cast<uint8_t>(head[8])) |
                     (static_cast<uint64_t>(static_cast<uint8_t>(head[9])) << 8) |
                     (static_cast<uint64_t>(static_cast<uint8_t>(head[10])) << 16) |
                     (static_cast<uint64_t>(static_cast<uint8_t>(head[11])) << 24));
      need = std::min<uint64_t>(need, (uint64_t{1} << 20) + 12);
      if (need > head.size()) head = read_member(z.get(), e, need, label);
    }
    size_t header_bytes = 0;
    NpyArray h = parse_npy_header(head, ml, &header_bytes);
    const uint64_t data = static_cast<uint64_t>(h.numel()) * npy_itemsize(h.dtype);
    if (e.size < header_bytes + data)
      fail("{}: array data truncated: the header needs {} bytes of data, the member holds {}; {}", ml, data,
           e.size - header_bytes, kNpzFix);
    out.push_back({key_of(e.name), std::move(h)});
  }
  return out;
}

std::string encode_npz(const std::vector<NpzMember>& members) {
  std::set<std::string> keys;
  for (const auto& m : members)
    if (m.key.empty() || m.key.find('/') != std::string::npos || !keys.insert(m.key).second)
      throw std::invalid_argument("encode_npz: keys must be unique, non-empty and without '/'");
  // Payloads must stay alive until zip_close.
  std::vector<std::string> payloads;
  payloads.reserve(members.size());
  for (const auto& m : members) payloads.push_back(encode_npy(m.array));

  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* src = zip_source_buffer_create(nullptr, 0, 0, &err);
  if (!src) throw std::runtime_error("encode_npz: out of memory");
  zip_t* z = zip_open_from_source(src, ZIP_TRUNCATE, &err);
  if (!z) {
    zip_source_free(src);
    throw std::runtime_error(std::string("encode_npz: ") + zip_error_strerror(&err));
  }
  zip_error_fini(&err);
  zip_source_keep(src);  // the written bytes are read back from src after zip_close
  auto abort_with = [&](const std::string& what) {
    zip_discard(z);
    zip_source_free(src);
    throw std::runtime_error("encode_npz: " + what);
  };
  for (size_t i = 0; i < members.size(); ++i) {
    zip_source_t* s = zip_source_buffer(z, payloads[i].data(), payloads[i].size(), 0);
    if (!s) abort_with(zip_strerror(z));
    const zip_int64_t idx = zip_file_add(z, (members[i].key + ".npy").c_str(), s, ZIP_FL_ENC_UTF_8);
    if (idx < 0) {
      zip_source_free(s);
      abort_with(zip_strerror(z));
    }
    const auto u = static_cast<zip_uint64_t>(idx);
    // DOS time 00:00:00, date 1980-01-01 (day 1, month 1, year 0 = 1980): fixed so that bytes are reproducible.
    if (zip_set_file_compression(z, u, ZIP_CM_DEFLATE, 6) != 0 || zip_file_set_dostime(z, u, 0, (1 << 5) | 1, 0) != 0 ||
        zip_file_set_external_attributes(z, u, 0, ZIP_OPSYS_UNIX, 0600u << 16) != 0)
      abort_with(zip_strerror(z));
  }
  if (zip_close(z) != 0) abort_with(zip_strerror(z));

  std::string out;
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_source_stat(src, &st) != 0 || zip_source_open(src) != 0) {
    zip_source_free(src);
    throw std::runtime_error("encode_npz: cannot read back the archive");
  }
  out.resize(st.size);
  const zip_int64_t r = zip_source_read(src, out.data(), st.size);
  zip_source_close(src);
  zip_source_free(src);
  if (r < 0 || static_cast<zip_uint64_t>(r) != st.size) throw std::runtime_error("encode_npz: short read back");
  return out;
}

void write_npz(const std::filesystem::path& path, const std::vector<NpzMember>& members) {
  write_atomic(path, encode_npz(members));
}

}  // namespace clcp
