// Rewrites a torch.save pickle (data.pkl) into a protocol-2 stream LibTorch's unpickler (2.x,
// torch/csrc/jit/serialization/unpickler.cpp) can rebuild. Facts about that unpickler this works around, checked
// against LibTorch 2.15 with hand-made files (tests/unit/models/test_pickle_rewrite.cpp):
//  - the global collections.OrderedDict makes REDUCE yield None, so the SETITEMS that fill a state dict fail
//    ("Expected GenericDict but got None", pytorch#100741);
//  - BUILD shares REDUCE's code: it takes the object below the state as a callable index, so BUILD on a dict
//    (OrderedDict's `_metadata`) fails ("expected int");
//  - only protocol 2 is accepted, and POP, DUP, POP_MARK and the protocol-4 opcodes (FRAME, MEMOIZE,
//    SHORT_BINUNICODE, STACK_GLOBAL) are unknown to it.
// The rewrite walks the opcodes (pickle_ops.hpp) while tracking a symbolic stack and memo, and
//  - drops every push of the OrderedDict global (and its memo stores and re-fetches) and turns
//    `OrderedDict, EMPTY_TUPLE, REDUCE` into EMPTY_DICT, so the following SETITEMS fill a real dict;
//  - turns BUILD on such a dict into SETITEM under kPickleBuildStateKey (a key pushed right before the state's first
//    opcode), so the dict keeps its items plus one non-tensor entry holding {'_metadata': …};
//  - translates protocol 3/4 opcodes to protocol 2: FRAME dropped, MEMOIZE → BINPUT/LONG_BINPUT n,
//    SHORT_BINUNICODE/BINUNICODE8 → BINUNICODE, STACK_GLOBAL → GLOBAL (its two string pushes dropped; a later fetch
//    of their memo slot pushes the string itself), and LONG1 sign-extended to the 8 bytes LibTorch requires.
// Other dict subclasses (Lightning's AttributeDict `hyper_parameters`, mmengine ConfigDict, collections.defaultdict):
// LibTorch resolves the class to a placeholder and leaves `cls()` (GLOBAL, EMPTY_TUPLE, NEWOBJ) as the class's index,
// so the SETITEMS that pickle writes next fail ("Expected GenericDict but got Int"/"Object"). Only SETITEM(S) on the
// result shows that a class is a dict subclass, so the rewrite remembers every push of each non-torch class global
// (module not torch, torch.*, __torch__) and every `cls()` (EMPTY_TUPLE NEWOBJ or EMPTY_TUPLE REDUCE) and
// `collections.defaultdict(f)` (f one global push, TUPLE1, REDUCE), and decides at the end: a class some instance of
// which was filled by SETITEM(S) is a dict subclass, and then all its instances become EMPTY_DICT (the class pushes,
// their memo stores, the argument tuple and the defaultdict factory dropped; a later BUILD kept as for OrderedDict).
// A class never so filled (a `Config` instance given BUILD only) is left to LibTorch's placeholder. Such a dict
// class (or factory) used any other way (called with other arguments, stored as a value) is refused; a defaultdict
// whose factory is not one global (functools.partial, a callable instance) is left as is and fails in LibTorch. A
// BUILD whose state is the instance itself (addict.Dict, hence mmengine ConfigDict: __getstate__ returns self) is
// dropped with its fetch: the dict holds its items already.
// Anything else (other opcodes LibTorch lacks, the OrderedDict global used other than as `OrderedDict()`, a memo
// slot stored twice) is refused and named; the caller then leaves the stream as it was.
#pragma once
#include <string>
#include <string_view>

namespace clcp {

/// The key under which an OrderedDict's BUILD state (a dict such as {'_metadata': OrderedDict}) is kept. Not a
/// Python identifier or module path, so it cannot collide with a state dict's keys.
extern const char* const kPickleBuildStateKey;

struct PickleRewrite {
  std::string bytes;      ///< the stream to give LibTorch (byte-identical to the input for a protocol-2
                          ///< pickle with nothing to change); the input itself when refused
  int protocol = 0;       ///< the input's PROTO (0 when it has none)
  int ordered_dicts = 0;  ///< OrderedDict() calls turned into plain dicts
  int build_states = 0;   ///< OrderedDict and dict-subclass BUILD states kept under kPickleBuildStateKey
  int dict_subclasses = 0;  ///< instances of other dict subclasses (AttributeDict, defaultdict) made plain dicts
  std::string refused;    ///< "" on success, else the construct that stopped the rewrite ("opcode BINBYTES at byte 9")
  bool malformed = false; ///< refused because the stream is broken (an unknown opcode, a truncated argument, a memo
                          ///< index no pickler writes), not merely unsupported: it must not reach LibTorch
};

/// Rewrites `pickle` as described above. Never throws on bad input; see `refused`.
PickleRewrite rewrite_pickle_for_libtorch(std::string_view pickle);

}  // namespace clcp
