// Splits a Python pickle stream (protocols 0–5) into its opcodes: an opcode walker, not an unpickler. Each opcode's
// argument is fixed-size, length-prefixed or newline-terminated as listed in CPython's Lib/pickletools.py; the walker
// only needs that to find where the next opcode starts. Used by pickle_rewrite.hpp.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace clcp {

/// Opcode bytes the rewriter handles by name (values as in pickletools.py).
namespace pickle_op {
inline constexpr uint8_t kMark = '(', kStop = '.', kPop = '0', kBinPersId = 'Q', kReduce = 'R', kBinUnicode = 'X',
                         kAppend = 'a', kBuild = 'b', kGlobal = 'c', kDict = 'd', kEmptyDict = '}', kAppends = 'e',
                         kBinGet = 'h', kLongBinGet = 'j', kList = 'l', kEmptyList = ']', kBinPut = 'q',
                         kLongBinPut = 'r', kSetItem = 's', kTuple = 't', kEmptyTuple = ')', kSetItems = 'u',
                         kBinFloat = 'G', kBinInt = 'J', kBinInt1 = 'K', kBinInt2 = 'M', kNone = 'N';
inline constexpr uint8_t kProto = 0x80, kNewObj = 0x81, kTuple1 = 0x85, kTuple2 = 0x86, kTuple3 = 0x87,
                         kNewTrue = 0x88, kNewFalse = 0x89, kLong1 = 0x8a, kShortBinUnicode = 0x8c,
                         kBinUnicode8 = 0x8d, kStackGlobal = 0x93, kMemoize = 0x94, kFrame = 0x95;
}  // namespace pickle_op

struct PickleOp {
  uint8_t code = 0;
  size_t pos = 0;        ///< byte offset of the opcode in the stream
  size_t size = 0;       ///< opcode byte + argument bytes
  uint64_t number = 0;   ///< fixed-size unsigned arguments (BININT1/2, BINPUT, BINGET, PROTO, FRAME, …), little-endian
  std::string_view text; ///< length-prefixed payload (strings, bytes, LONG1/LONG4) or the line(s) of text arguments
                         ///< without the final '\n' (GLOBAL: "module\nname")
};

/// The opcodes of `bytes` up to and including the first STOP. On an unknown opcode or a truncated argument returns
/// the opcodes read so far and sets `error` ("unknown opcode 0x.. at byte N", "… truncated at byte N").
std::vector<PickleOp> walk_pickle(std::string_view bytes, std::string& error);

/// pickletools' name of an opcode ("BINUNICODE", "STACK_GLOBAL"), or "0x.." when unknown.
std::string pickle_op_name(uint8_t code);

}  // namespace clcp
