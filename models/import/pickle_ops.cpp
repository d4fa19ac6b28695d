#include "models/import/pickle_ops.hpp"

#include <fmt/format.h>

#include <array>

namespace clcp {
namespace {

// How an opcode's argument is laid out (pickletools.py: ArgumentDescriptor n ≥ 0 fixed, n < 0 length-prefixed by
// |n| bytes, UP_TO_NEWLINE / TAKEN_FROM_ARGUMENT…).
enum class Arg : uint8_t { Unknown, None, Fixed1, Fixed2, Fixed4, Fixed8, Len1, Len4, Len8, Line, TwoLines };

struct OpInfo {
  const char* name = nullptr;
  Arg arg = Arg::Unknown;
};

constexpr std::array<OpInfo, 256> make_table() {
  std::array<OpInfo, 256> t{};
  auto set = [&t](unsigned char c, const char* name, Arg a) { t[c] = OpInfo{name, a}; };
  // protocol 0/1
  set('(', "MARK", Arg::None), set('.', "STOP", Arg::None), set('0', "POP", Arg::None);
  set('1', "POP_MARK", Arg::None), set('2', "DUP", Arg::None), set('F', "FLOAT", Arg::Line);
  set('I', "INT", Arg::Line), set('J', "BININT", Arg::Fixed4), set('K', "BININT1", Arg::Fixed1);
  set('L', "LONG", Arg::Line), set('M', "BININT2", Arg::Fixed2), set('N', "NONE", Arg::None);
  set('P', "PERSID", Arg::Line), set('Q', "BINPERSID", Arg::None), set('R', "REDUCE", Arg::None);
  set('S', "STRING", Arg::Line), set('T', "BINSTRING", Arg::Len4), set('U', "SHORT_BINSTRING", Arg::Len1);
  set('V', "UNICODE", Arg::Line), set('X', "BINUNICODE", Arg::Len4), set('a', "APPEND", Arg::None);
  set('b', "BUILD", Arg::None), set('c', "GLOBAL", Arg::TwoLines), set('d', "DICT", Arg::None);
  set('}', "EMPTY_DICT", Arg::None), set('e', "APPENDS", Arg::None), set('g', "GET", Arg::Line);
  set('h', "BINGET", Arg::Fixed1), set('i', "INST", Arg::TwoLines), set('j', "LONG_BINGET", Arg::Fixed4);
  set('l', "LIST", Arg::None), set(']', "EMPTY_LIST", Arg::None), set('o', "OBJ", Arg::None);
  set('p', "PUT", Arg::Line), set('q', "BINPUT", Arg::Fixed1), set('r', "LONG_BINPUT", Arg::Fixed4);
  set('s', "SETITEM", Arg::None), set('t', "TUPLE", Arg::None), set(')', "EMPTY_TUPLE", Arg::None);
  set('u', "SETITEMS", Arg::None), set('G', "BINFLOAT", Arg::Fixed8);
  // protocol 2
  set(0x80, "PROTO", Arg::Fixed1), set(0x81, "NEWOBJ", Arg::None), set(0x82, "EXT1", Arg::Fixed1);
  set(0x83, "EXT2", Arg::Fixed2), set(0x84, "EXT4", Arg::Fixed4), set(0x85, "TUPLE1", Arg::None);
  set(0x86, "TUPLE2", Arg::None), set(0x87, "TUPLE3", Arg::None), set(0x88, "NEWTRUE", Arg::None);
  set(0x89, "NEWFALSE", Arg::None), set(0x8a, "LONG1", Arg::Len1), set(0x8b, "LONG4", Arg::Len4);
  // protocol 3
  set('B', "BINBYTES", Arg::Len4), set('C', "SHORT_BINBYTES", Arg::Len1);
  // protocol 4
  set(0x8c, "SHORT_BINUNICODE", Arg::Len1), set(0x8d, "BINUNICODE8", Arg::Len8), set(0x8e, "BINBYTES8", Arg::Len8);
  set(0x8f, "EMPTY_SET", Arg::None), set(0x90, "ADDITEMS", Arg::None), set(0x91, "FROZENSET", Arg::None);
  set(0x92, "NEWOBJ_EX", Arg::None), set(0x93, "STACK_GLOBAL", Arg::None), set(0x94, "MEMOIZE", Arg::None);
  set(0x95, "FRAME", Arg::Fixed8);
  // protocol 5
  set(0x96, "BYTEARRAY8", Arg::Len8), set(0x97, "NEXT_BUFFER", Arg::None), set(0x98, "READONLY_BUFFER", Arg::None);
  return t;
}

constexpr std::array<OpInfo, 256> kOps = make_table();

uint64_t little_endian(std::string_view b) {
  uint64_t v = 0;
  for (size_t i = b.size(); i-- > 0;) v = (v << 8) | static_cast<uint8_t>(b[i]);
  return v;
}

}  // namespace

std::string pickle_op_name(uint8_t code) {
  return kOps[code].name ? std::string(kOps[code].name) : fmt::format("0x{:02x}", code);
}

std::vector<PickleOp> walk_pickle(std::string_view bytes, std::string& error) {
  std::vector<PickleOp> ops;
  error.clear();
  size_t at = 0;
  while (true) {
    if (at >= bytes.size()) {
      error = fmt::format("pickle ends without STOP at byte {}", at);
      return ops;
    }
    PickleOp op;
    op.pos = at;
    op.code = static_cast<uint8_t>(bytes[at]);
    const OpInfo& info = kOps[op.code];
    const size_t body = at + 1;
    const size_t left = bytes.size() - body;
    auto truncated = [&] {
      error = fmt::format("{} truncated at byte {}", pickle_op_name(op.code), at);
      return ops;
    };
    size_t arg_size = 0;
    switch (info.arg) {
      case Arg::Unknown:
        error = fmt::format("unknown opcode 0x{:02x} at byte {}", op.code, at);
        return ops;
      case Arg::None: break;
      case Arg::Fixed1: case Arg::Fixed2: case Arg::Fixed4: case Arg::Fixed8: {
        arg_size = info.arg == Arg::Fixed1 ? 1 : info.arg == Arg::Fixed2 ? 2 : info.arg == Arg::Fixed4 ? 4 : 8;
        if (left < arg_size) return truncated();
        op.number = little_endian(bytes.substr(body, arg_size));
      } break;
      case Arg::Len1: case Arg::Len4: case Arg::Len8: {
        const size_t prefix = info.arg == Arg::Len1 ? 1 : info.arg == Arg::Len4 ? 4 : 8;
        if (left < prefix) return truncated();
        const uint64_t n = little_endian(bytes.substr(body, prefix));
        if (n > left - prefix) return truncated();  // also a negative signed 4-byte length (BINSTRING, LONG4)
        op.text = bytes.substr(body + prefix, n);
        arg_size = prefix + n;
      } break;
      case Arg::Line: case Arg::TwoLines: {
        size_t end = bytes.find('\n', body);
        if (end != std::string_view::npos && info.arg == Arg::TwoLines) end = bytes.find('\n', end + 1);
        if (end == std::string_view::npos) return truncated();
        op.text = bytes.substr(body, end - body);
        arg_size = end + 1 - body;
      } break;
    }
    op.size = 1 + arg_size;
    ops.push_back(op);
    at += op.size;
    if (op.code == pickle_op::kStop) return ops;
  }
}

}  // namespace clcp
