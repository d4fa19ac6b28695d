#include "suite/data/npy.hpp"

#include <bit>
#include <cstring>
#include <limits>
#include <optional>
#include <stdexcept>

#include "suite/core/error.hpp"

namespace clcp {

static_assert(std::endian::native == std::endian::little, "the .npy reader assumes a little-endian host");

namespace {

constexpr std::string_view kMagic = "\x93NUMPY";
constexpr size_t kAlign = 64;           // numpy ARRAY_ALIGN
constexpr size_t kGrowthDigits = 21;    // numpy GROWTH_AXIS_MAX_DIGITS
constexpr size_t kMaxHeader = 1 << 20;  // far above anything numpy writes (it refuses > 10000 by default)
constexpr int64_t kMaxElements = int64_t{1} << 48;

const char* kFix = "re-download or regenerate the file";

// A cursor over the header text: the dict literal numpy writes, parsed without Python.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, std::string_view label) : s_(text), label_(label) {}

  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool eat(char c) {
    skip_ws();
    if (i_ < s_.size() && s_[i_] == c) { ++i_; return true; }
    return false;
  }
  void expect(char c) {
    if (!eat(c)) bad(fmt::format("expected '{}' at header offset {}", c, i_));
  }
  std::string string_literal() {
    skip_ws();
    if (i_ >= s_.size() || (s_[i_] != '\'' && s_[i_] != '"')) bad(fmt::format("expected a quoted string at offset {}", i_));
    const char q = s_[i_++];
    const size_t start = i_;
    while (i_ < s_.size() && s_[i_] != q) ++i_;
    if (i_ >= s_.size()) bad("unterminated string");
    return std::string(s_.substr(start, i_++ - start));
  }
  std::string word() {
    skip_ws();
    const size_t start = i_;
    while (i_ < s_.size() && std::isalnum(static_cast<unsigned char>(s_[i_]))) ++i_;
    return std::string(s_.substr(start, i_ - start));
  }
  std::vector<int64_t> shape_tuple() {
    expect('(');
    std::vector<int64_t> dims;
    for (;;) {
      if (eat(')')) break;
      skip_ws();
      const size_t start = i_;
      if (i_ < s_.size() && s_[i_] == '-') ++i_;
      while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
      if (i_ == start) bad(fmt::format("expected an integer in 'shape' at offset {}", i_));
      const std::string_view num = s_.substr(start, i_ - start);
      if (i_ < s_.size() && s_[i_] == 'L') ++i_;  // Python 2 long suffix (numpy filters it too)
      if (num.front() == '-')
        fail("{}: negative dimension {} in 'shape'; the header is corrupt, {}", label_, num, kFix);
      if (num.size() > 15) fail("{}: dimension {} in 'shape' is implausibly large; {}", label_, num, kFix);
      dims.push_back(std::stoll(std::string(num)));
      if (eat(')')) break;
      expect(',');
    }
    return dims;
  }
  bool at_end() {
    skip_ws();
    return i_ == s_.size();
  }
  [[noreturn]] void bad(const std::string& what) const {
    fail("{}: .npy header is not the dict numpy writes ({}); {}", label_, what, kFix);
  }

 private:
  std::string_view s_;
  std::string_view label_;
  size_t i_ = 0;
};

std::optional<NpyDtype> dtype_from_descr(std::string_view d) {
  if (d == "<f8") return NpyDtype::kF8;
  if (d == "<f4") return NpyDtype::kF4;
  if (d == "<i8") return NpyDtype::kI8;
  if (d == "<i4") return NpyDtype::kI4;
  if (d == "|u1" || d == "<u1" || d == ">u1") return NpyDtype::kU1;  // byte order is meaningless for one byte
  return std::nullopt;
}

int64_t product(const std::vector<int64_t>& shape, std::string_view label) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d != 0 && n > kMaxElements / d)
      fail("{}: shape has more than 2^48 elements; the header is corrupt, {}", label, kFix);
    n *= d;
  }
  return n;
}

std::string shape_repr(const std::vector<int64_t>& shape) {
  if (shape.empty()) return "()";
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

}  // namespace

std::string_view npy_descr(NpyDtype dtype) {
  switch (dtype) {
    case NpyDtype::kF8: return "<f8";
    case NpyDtype::kF4: return "<f4";
    case NpyDtype::kI8: return "<i8";
    case NpyDtype::kI4: return "<i4";
    case NpyDtype::kU1: return "|u1";
  }
  return "?";
}

size_t npy_itemsize(NpyDtype dtype) {
  switch (dtype) {
    case NpyDtype::kF8: case NpyDtype::kI8: return 8;
    case NpyDtype::kF4: case NpyDtype::kI4: return 4;
    case NpyDtype::kU1: return 1;
  }
  return 1;
}

int64_t NpyArray::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

torch::Tensor NpyArray::to_tensor() const {
  torch::ScalarType t = torch::kFloat64;
  switch (dtype) {
    case NpyDtype::kF8: t = torch::kFloat64; break;
    case NpyDtype::kF4: t = torch::kFloat32; break;
    case NpyDtype::kI8: t = torch::kInt64; break;
    case NpyDtype::kI4: t = torch::kInt32; break;
    case NpyDtype::kU1: t = torch::kUInt8; break;
  }
  torch::Tensor out = torch::empty(shape, torch::TensorOptions().dtype(t));
  if (!data.empty()) std::memcpy(out.data_ptr(), data.data(), data.size());
  return out;
}

std::vector<double> NpyArray::to_doubles() const {
  const int64_t n = numel();
  std::vector<double> out(static_cast<size_t>(n));
  const char* p = data.data();
  for (int64_t i = 0; i < n; ++i) {
    switch (dtype) {
      case NpyDtype::kF8: { double v; std::memcpy(&v, p + 8 * i, 8); out[i] = v; break; }
      case NpyDtype::kF4: { float v; std::memcpy(&v, p + 4 * i, 4); out[i] = v; break; }
      case NpyDtype::kI8: { int64_t v; std::memcpy(&v, p + 8 * i, 8); out[i] = static_cast<double>(v); break; }
      case NpyDtype::kI4: { int32_t v; std::memcpy(&v, p + 4 * i, 4); out[i] = v; break; }
      case NpyDtype::kU1: out[i] = static_cast<uint8_t>(p[i]); break;
    }
  }
  return out;
}

NpyArray parse_npy_header(std::string_view bytes, std::string_view label, size_t* header_bytes) {
  if (bytes.size() < kMagic.size() + 2 || bytes.substr(0, kMagic.size()) != kMagic)
    fail("{}: not a .npy array (missing the \\x93NUMPY magic); {}", label, kFix);
  const int major = static_cast<uint8_t>(bytes[6]), minor = static_cast<uint8_t>(bytes[7]);
  size_t len_bytes = 0;
  if (major == 1 && minor == 0) len_bytes = 2;
  else if ((major == 2 || major == 3) && minor == 0) len_bytes = 4;
  else fail("{}: .npy format version {}.{} is not supported (1.0, 2.0, 3.0 are); re-save it with numpy", label, major, minor);
  if (bytes.size() < 8 + len_bytes) fail("{}: .npy header truncated (no header length); {}", label, kFix);
  uint32_t hlen = 0;
  if (len_bytes == 2) {
    uint16_t h;
    std::memcpy(&h, bytes.data() + 8, 2);
    hlen = h;
  } else {
    std::memcpy(&hlen, bytes.data() + 8, 4);
  }
  if (hlen > kMaxHeader) fail("{}: .npy header length {} is implausible; {}", label, hlen, kFix);
  const size_t start = 8 + len_bytes;
  if (bytes.size() < start + hlen)
    fail("{}: .npy header truncated ({} of {} header bytes); {}", label, bytes.size() - start, hlen, kFix);
  const std::string_view text = bytes.substr(start, hlen);
  for (char c : text)
    if (static_cast<unsigned char>(c) >= 0x80 && major < 3)
      fail("{}: .npy header holds non-ASCII bytes; {}", label, kFix);

  HeaderParser p(text, label);
  p.expect('{');
  std::optional<std::string> descr;
  std::optional<bool> fortran;
  std::optional<std::vector<int64_t>> shape;
  for (;;) {
    if (p.eat('}')) break;
    const std::string key = p.string_literal();
    p.expect(':');
    if (key == "descr") {
      descr = p.string_literal();
    } else if (key == "fortran_order") {
      const std::string w = p.word();
      if (w == "True") fortran = true;
      else if (w == "False") fortran = false;
      else p.bad("'fortran_order' is neither True nor False");
    } else if (key == "shape") {
      shape = p.shape_tuple();
    } else {
      p.bad(fmt::format("unexpected key '{}'", key));
    }
    if (p.eat('}')) break;
    p.expect(',');
  }
  if (!p.at_end()) p.bad("text after the closing '}'");
  if (!descr || !fortran || !shape) p.bad("it lacks one of 'descr', 'fortran_order', 'shape'");
  const auto dtype = dtype_from_descr(*descr);
  if (!dtype)
    fail("{}: unsupported dtype '{}'; supported are <f8 <f4 <i8 <i4 |u1 (little-endian); convert the array, e.g. "
         "a.astype('<f8')", label, *descr);
  if (*fortran)
    fail("{}: array is stored in Fortran order; only C order is supported; re-save it with "
         "np.ascontiguousarray(a)", label);
  product(*shape, label);
  NpyArray a;
  a.dtype = *dtype;
  a.shape = std::move(*shape);
  if (header_bytes) *header_bytes = start + hlen;
  return a;
}

NpyArray parse_npy(std::string_view bytes, std::string_view label) {
  size_t header = 0;
  NpyArray a = parse_npy_header(bytes, label, &header);
  const uint64_t need = static_cast<uint64_t>(a.numel()) * npy_itemsize(a.dtype);
  const uint64_t have = bytes.size() - header;
  if (have < need)
    fail("{}: array data truncated: shape {} of {} needs {} bytes, the member holds {}; {}", label, shape_repr(a.shape),
         npy_descr(a.dtype), need, have, kFix);
  if (have > need)
    fail("{}: {} bytes after the array data (shape {} of {} needs {}); the file is corrupt, {}", label, have - need,
         shape_repr(a.shape), npy_descr(a.dtype), need, kFix);
  a.data.assign(bytes.data() + header, need);
  return a;
}

std::string encode_npy(const NpyArray& a) {
  if (a.data.size() != static_cast<uint64_t>(a.numel()) * npy_itemsize(a.dtype))
    throw std::invalid_argument("encode_npy: data size does not match the shape");
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", npy_descr(a.dtype),
                                   shape_repr(a.shape));
  if (!a.shape.empty()) {
    const size_t digits = std::to_string(a.shape[0]).size();
    if (digits < kGrowthDigits) header.append(kGrowthDigits - digits, ' ');
  }
  const size_t hlen = header.size() + 1;  // + '\n'
  const size_t pad = kAlign - ((kMagic.size() + 2 + 2 + hlen) % kAlign);
  header.append(pad, ' ');
  header += '\n';
  if (header.size() > std::numeric_limits<uint16_t>::max())
    throw std::invalid_argument("encode_npy: header too long for format 1.0");
  std::string out(kMagic);
  out += '\x01';
  out += '\x00';
  const uint16_t len = static_cast<uint16_t>(header.size());
  out.append(reinterpret_cast<const char*>(&len), 2);
  out += header;
  out += a.data;
  return out;
}

NpyArray npy_from_tensor(const torch::Tensor& t_in) {
  const torch::Tensor t = t_in.contiguous().cpu();
  NpyArray a;
  switch (t.scalar_type()) {
    case torch::kFloat64: a.dtype = NpyDtype::kF8; break;
    case torch::kFloat32: a.dtype = NpyDtype::kF4; break;
    case torch::kInt64: a.dtype = NpyDtype::kI8; break;
    case torch::kInt32: a.dtype = NpyDtype::kI4; break;
    case torch::kUInt8: a.dtype = NpyDtype::kU1; break;
    default: throw std::invalid_argument("npy_from_tensor: dtype must be float64/float32/int64/int32/uint8");
  }
  a.shape.assign(t.sizes().begin(), t.sizes().end());
  a.data.assign(static_cast<const char*>(t.data_ptr()), static_cast<size_t>(t.numel()) * t.element_size());
  return a;
}

}  // namespace clcp
