// The pickle opcode walker and the rewrite that lets LibTorch's unpickler read OrderedDicts and protocol-4 pickles,
// on hand-written streams whose expected bytes are worked out opcode by opcode (pickletools.dis notation in comments),
// and each rewrite then read back by LibTorch's own torch::jit::Unpickler.
#include <catch2/catch.hpp>
#include <torch/csrc/jit/serialization/unpickler.h>
#include <torch/torch.h>

#include <cstring>
#include <string>

#include "models/import/pickle_ops.hpp"
#include "models/import/pickle_rewrite.hpp"

namespace {

using namespace std::string_literals;

std::string u32(uint32_t n) { return std::string{char(n & 0xff), char((n >> 8) & 0xff), char((n >> 16) & 0xff), char(n >> 24)}; }
std::string binunicode(const std::string& s) {  // BINUNICODE
  std::string r = "X";
  r += u32(uint32_t(s.size()));
  r += s;
  return r;
}
std::string short_binunicode(const std::string& s) { return "\x8c"s + char(s.size()) + s; }  // SHORT_BINUNICODE
const std::string kOdGlobal = "ccollections\nOrderedDict\n";                                   // GLOBAL

// LibTorch's unpickler on `bytes` (no tensors, no classes).
c10::IValue libtorch_unpickle(const std::string& bytes) {
  size_t at = 0;
  auto read = [&](char* buf, size_t len) -> size_t {
    if (at >= bytes.size()) return 0;
    len = std::min(len, bytes.size() - at);
    std::memcpy(buf, bytes.data() + at, len);
    at += len;
    return len;
  };
  torch::jit::Unpickler u(read, nullptr, {});
  return u.parse_ivalue();
}

c10::IValue item(const c10::IValue& dict, const std::string& key) {
  for (const auto& kv : dict.toGenericDict())
    if (kv.key().isString() && kv.key().toStringRef() == key) return kv.value();
  FAIL("no key " << key);
  return {};
}

}  // namespace

TEST_CASE("The opcode walker splits a pickle at fixed, length-prefixed and newline-terminated arguments",
          "[pickle]") {
  // PROTO 2 | EMPTY_DICT | BINPUT 0 | BINUNICODE 'a' | BININT1 7 | SETITEM | GLOBAL 'm n' | STOP | (ignored)
  const std::string p = "\x80\x02}q\x00"s + binunicode("a") + "K\x07s" + "cm\nn\n" + ".junk";
  std::string error;
  const auto ops = clcp::walk_pickle(p, error);
  CHECK(error.empty());
  REQUIRE(ops.size() == 8);
  const std::vector<std::tuple<std::string, size_t, size_t, uint64_t, std::string>> want = {
      {"PROTO", 0, 2, 2, ""},      {"EMPTY_DICT", 2, 1, 0, ""}, {"BINPUT", 3, 2, 0, ""}, {"BINUNICODE", 5, 6, 0, "a"},
      {"BININT1", 11, 2, 7, ""},  {"SETITEM", 13, 1, 0, ""},   {"GLOBAL", 14, 5, 0, "m\nn"}, {"STOP", 19, 1, 0, ""}};
  for (size_t k = 0; k < ops.size(); ++k) {
    INFO(k);
    CHECK(clcp::pickle_op_name(ops[k].code) == std::get<0>(want[k]));
    CHECK(ops[k].pos == std::get<1>(want[k]));
    CHECK(ops[k].size == std::get<2>(want[k]));
    CHECK(ops[k].number == std::get<3>(want[k]));
    CHECK(std::string(ops[k].text) == std::get<4>(want[k]));
  }
  // FRAME's 8-byte argument, SHORT_BINUNICODE's 1-byte length.
  const std::string in4 = "\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00"s + short_binunicode("xyz") + ".";
  const auto p4 = clcp::walk_pickle(in4, error);
  REQUIRE(p4.size() == 4);
  CHECK(p4[1].number == 5);
  CHECK(p4[2].text == "xyz");
  CHECK(p4[2].size == 5);

  clcp::walk_pickle("\x80\x02\xff.", error);
  CHECK(error == "unknown opcode 0xff at byte 2");
  clcp::walk_pickle("\x80\x02X\x09\x00\x00\x00"s "abc", error);
  CHECK(error == "BINUNICODE truncated at byte 2");
  clcp::walk_pickle("\x80\x02}", error);
  CHECK(error == "pickle ends without STOP at byte 3");
}

TEST_CASE("OrderedDict() + SETITEMS becomes EMPTY_DICT + SETITEMS and LibTorch reads the items", "[pickle]") {
  // GLOBAL OrderedDict | BINPUT 0 | EMPTY_TUPLE | REDUCE | BINPUT 1 | MARK 'a' 1 'b' 2 SETITEMS | STOP
  const std::string in = "\x80\x02"s + kOdGlobal + "q\x00)Rq\x01("s + binunicode("a") + "K\x01" + binunicode("b") +
                         "K\x02u.";
  const auto r = clcp::rewrite_pickle_for_libtorch(in);
  CHECK(r.refused == "");
  CHECK(r.protocol == 2);
  CHECK(r.ordered_dicts == 1);
  // The global and its memo store vanish, `EMPTY_TUPLE REDUCE` becomes EMPTY_DICT.
  CHECK(r.bytes == "\x80\x02}q\x01("s + binunicode("a") + "K\x01" + binunicode("b") + "K\x02u.");
  const auto v = libtorch_unpickle(r.bytes);
  CHECK(item(v, "a").toInt() == 1);
  CHECK(item(v, "b").toInt() == 2);
  // Unrewritten, LibTorch fails on exactly this (pytorch#100741).
  CHECK_THROWS_WITH(libtorch_unpickle(in), Catch::Contains("Expected GenericDict but got None"));
}

TEST_CASE("An OrderedDict's BUILD state (_metadata) is kept under one non-tensor key instead of LibTorch's BUILD",
          "[pickle]") {
  // state_dict's layout: OD() SETITEMS, then state {'_metadata': OrderedDict()} and BUILD; the second OrderedDict
  // re-fetches the global with BINGET 0.
  const std::string items = "("s + binunicode("a") + "K\x01u";
  const std::string in = "\x80\x02"s + kOdGlobal + "q\x00)Rq\x01"s + items + "}q\x02" + binunicode("_metadata") +
                         "q\x03h\x00)Rq\x04sb."s;
  const auto r = clcp::rewrite_pickle_for_libtorch(in);
  CHECK(r.refused == "");
  CHECK(r.ordered_dicts == 2);
  CHECK(r.build_states == 1);
  CHECK(r.bytes == "\x80\x02}q\x01"s + items + binunicode(clcp::kPickleBuildStateKey) + "}q\x02" +
                       binunicode("_metadata") + "q\x03}q\x04ss.");
  const auto v = libtorch_unpickle(r.bytes);
  CHECK(v.toGenericDict().size() == 2);
  CHECK(item(v, "a").toInt() == 1);
  CHECK(item(item(v, clcp::kPickleBuildStateKey), "_metadata").toGenericDict().size() == 0);
  // LibTorch's BUILD treats the dict below the state as a callable index.
  const std::string build_on_dict = "\x80\x02}" + binunicode("a") + "K\x01s}b.";
  CHECK_THROWS_WITH(libtorch_unpickle(build_on_dict), Catch::Contains("expected int"));
}

TEST_CASE("Protocol 4 (FRAME, MEMOIZE, SHORT_BINUNICODE, STACK_GLOBAL) is translated to protocol 2", "[pickle]") {
  // FRAME | 'collections' MEMOIZE(0) | 'OrderedDict' MEMOIZE(1) | STACK_GLOBAL MEMOIZE(2) | EMPTY_TUPLE REDUCE
  // MEMOIZE(3) | MARK 'a' MEMOIZE(4) 1 'b' MEMOIZE(5) BINGET 0 SETITEMS | STOP
  const std::string body = short_binunicode("collections") + "\x94" + short_binunicode("OrderedDict") +
                           "\x94\x93\x94)R\x94(" + short_binunicode("a") + "\x94K\x01" + short_binunicode("b") +
                           "\x94h\x00u."s;
  const std::string in = "\x80\x04\x95"s + char(body.size()) + std::string(7, '\0') + body;
  const auto r = clcp::rewrite_pickle_for_libtorch(in);
  CHECK(r.refused == "");
  CHECK(r.protocol == 4);
  CHECK(r.ordered_dicts == 1);
  // The strings that named the global are dropped with their memo slots; BINGET 0 (the string 'collections' used
  // as a value) pushes the string itself.
  CHECK(r.bytes == "\x80\x02}q\x03("s + binunicode("a") + "q\x04K\x01" + binunicode("b") + "q\x05" +
                       binunicode("collections") + "u.");
  const auto v = libtorch_unpickle(r.bytes);
  CHECK(item(v, "a").toInt() == 1);
  CHECK(item(v, "b").toStringRef() == "collections");
  // Any other global keeps its name: STACK_GLOBAL('torch', 'device') -> GLOBAL 'torch device'.
  const auto g = clcp::rewrite_pickle_for_libtorch("\x80\x04"s + short_binunicode("torch") + "\x94" +
                                                   short_binunicode("device") + "\x94\x93\x94" +
                                                   short_binunicode("cpu") + "\x94\x85R.");
  CHECK(g.refused == "");
  CHECK(g.bytes == "\x80\x02" "ctorch\ndevice\nq\x02"s + binunicode("cpu") + "q\x03\x85R.");
  CHECK(libtorch_unpickle(g.bytes).toDevice() == c10::Device(c10::kCPU));
}

TEST_CASE("A string spelling the OrderedDict global is data, and a plain protocol-2 pickle is left byte-identical",
          "[pickle]") {
  const std::string in = "\x80\x02}q\x00("s + binunicode("collections\nOrderedDict\n") + "q\x01" + binunicode(")R") +
                         "q\x02u.";
  const auto r = clcp::rewrite_pickle_for_libtorch(in);
  CHECK(r.refused == "");
  CHECK(r.ordered_dicts == 0);
  CHECK(r.bytes == in);
  CHECK(item(libtorch_unpickle(r.bytes), "collections\nOrderedDict\n").toStringRef() == ")R");
}

TEST_CASE("Python's shortest LONG1 is sign-extended to the 8 bytes LibTorch reads", "[pickle]") {
  const auto big = clcp::rewrite_pickle_for_libtorch("\x80\x02\x8a\x05\x00\x00\x00\x00\x01."s);  // 2**32
  CHECK(big.bytes == "\x80\x02\x8a\x08\x00\x00\x00\x00\x01\x00\x00\x00."s);
  CHECK(libtorch_unpickle(big.bytes).toInt() == (int64_t(1) << 32));
  const auto neg = clcp::rewrite_pickle_for_libtorch("\x80\x02\x8a\x05\x00\x00\x00\x00\xff."s);  // -2**32
  CHECK(libtorch_unpickle(neg.bytes).toInt() == -(int64_t(1) << 32));
  CHECK_THAT(clcp::rewrite_pickle_for_libtorch("\x80\x02\x8a\x09" + std::string(9, '\x01') + ".").refused,
             Catch::Contains("longer than 64 bits"));
}

TEST_CASE("What the rewrite cannot prove right is refused by name and the input is left as it was", "[pickle]") {
  // OrderedDict([[]]): called with arguments.
  const std::string with_args = "\x80\x02"s + kOdGlobal + "]\x85R.";
  const auto a = clcp::rewrite_pickle_for_libtorch(with_args);
  CHECK_THAT(a.refused, Catch::Contains("collections.OrderedDict called with arguments") && Catch::Contains("REDUCE"));
  CHECK(a.bytes == with_args);
  // The OrderedDict class itself stored as a value.
  CHECK_THAT(clcp::rewrite_pickle_for_libtorch("\x80\x02}"s + binunicode("k") + kOdGlobal + "s.").refused,
             Catch::Contains("used other than as OrderedDict()"));
  // bytes (protocol 3+): an opcode LibTorch lacks.
  CHECK_THAT(clcp::rewrite_pickle_for_libtorch("\x80\x04" "C\x01x."s).refused,
             Catch::Contains("opcode LibTorch does not support (SHORT_BINBYTES at byte 2)"));
  // A memo slot stored twice, protocol 0, truncation.
  CHECK_THAT(clcp::rewrite_pickle_for_libtorch("\x80\x02}q\x00q\x00."s).refused, Catch::Contains("stored twice"));
  CHECK_THAT(clcp::rewrite_pickle_for_libtorch("(dp0\n."s).refused, Catch::Contains("without PROTO"));
  CHECK_THAT(clcp::rewrite_pickle_for_libtorch("\x80\x02X\x09\x00"s).refused, Catch::Contains("truncated"));
}

TEST_CASE("A dict subclass made by EMPTY_TUPLE NEWOBJ and filled by SETITEMS (Lightning's AttributeDict) becomes "
          "EMPTY_DICT, nested and re-fetched instances too",
          "[pickle]") {
  // As pickle writes AttributeDict(a=1, n=AttributeDict(x=2)) at protocol 2: GLOBAL 'm AD' | BINPUT 0 | EMPTY_TUPLE
  // NEWOBJ | BINPUT 1 | MARK 'a' 1 'n' BINGET 0 EMPTY_TUPLE NEWOBJ BINPUT 2 'x' 2 SETITEM SETITEMS | STOP
  const std::string in = "\x80\x02" "cm\nAD\nq\x00)\x81q\x01("s + binunicode("a") + "K\x01" + binunicode("n") +
                         "h\x00)\x81q\x02"s + binunicode("x") + "K\x02su.";
  const auto r = clcp::rewrite_pickle_for_libtorch(in);
  CHECK(r.refused == "");
  CHECK(r.dict_subclasses == 2);
  CHECK(r.ordered_dicts == 0);
  // The class pushes (GLOBAL, its BINPUT 0, the BINGET 0) and EMPTY_TUPLE vanish; NEWOBJ becomes EMPTY_DICT.
  CHECK(r.bytes == "\x80\x02}q\x01("s + binunicode("a") + "K\x01" + binunicode("n") + "}q\x02" + binunicode("x") +
                       "K\x02su.");
  const auto v = libtorch_unpickle(r.bytes);
  CHECK(item(v, "a").toInt() == 1);
  CHECK(item(item(v, "n"), "x").toInt() == 2);
  // The protocol-4 form (STACK_GLOBAL, MEMOIZE) gives the same dict.
  const std::string body4 = short_binunicode("m") + "\x94" + short_binunicode("AD") + "\x94\x93\x94)\x81\x94(" +
                            short_binunicode("a") + "\x94K\x01u.";
  const auto r4 = clcp::rewrite_pickle_for_libtorch("\x80\x04"s + body4);
  CHECK(r4.refused == "");
  CHECK(r4.dict_subclasses == 1);
  CHECK(r4.bytes == "\x80\x02}q\x03("s + binunicode("a") + "q\x04K\x01u.");
  // EMPTY_TUPLE REDUCE (cls() at protocol 0/1 style) and a class of __main__ (which LibTorch itself cannot resolve).
  const auto red = clcp::rewrite_pickle_for_libtorch("\x80\x02" "c__main__\nAD\n)R("s + binunicode("a") + "K\x01u.");
  CHECK(red.refused == "");
  CHECK(red.bytes == "\x80\x02}("s + binunicode("a") + "K\x01u.");
  CHECK(item(libtorch_unpickle(red.bytes), "a").toInt() == 1);
}

TEST_CASE("A dict subclass's BUILD state (its __dict__) is kept under the BUILD-state key, and a class given BUILD "
          "only stays LibTorch's placeholder",
          "[pickle]") {
  // AD() SETITEMS then BUILD {'k': 3}
  const std::string in = "\x80\x02" "cm\nAD\nq\x00)\x81q\x01("s + binunicode("a") + "K\x01u}q\x02" + binunicode("k") +
                         "K\x03sb.";
  const auto r = clcp::rewrite_pickle_for_libtorch(in);
  CHECK(r.refused == "");
  CHECK(r.dict_subclasses == 1);
  CHECK(r.build_states == 1);
  CHECK(r.bytes == "\x80\x02}q\x01("s + binunicode("a") + "K\x01u" + binunicode(clcp::kPickleBuildStateKey) +
                       "}q\x02" + binunicode("k") + "K\x03ss.");
  const auto v = libtorch_unpickle(r.bytes);
  CHECK(item(v, "a").toInt() == 1);
  CHECK(item(item(v, clcp::kPickleBuildStateKey), "k").toInt() == 3);
  // {'cfg': Config() given BUILD {'k': 3}, 'hp': AD(a=1)}: only AD is proven a dict; Config keeps its bytes.
  const std::string cfg = "cm\nConfig\nq\x01)\x81q\x02}q\x03"s + binunicode("k") + "K\x03sb";
  const std::string mixed = "\x80\x02}q\x00("s + binunicode("cfg") + cfg + binunicode("hp") + "cm\nAD\nq\x04)\x81q\x05" +
                            binunicode("a") + "K\x01su.";
  const auto m = clcp::rewrite_pickle_for_libtorch(mixed);
  CHECK(m.refused == "");
  CHECK(m.dict_subclasses == 1);
  CHECK(m.build_states == 0);
  CHECK(m.bytes == "\x80\x02}q\x00("s + binunicode("cfg") + cfg + binunicode("hp") + "}q\x05" + binunicode("a") +
                       "K\x01su.");
  // addict.Dict (mmengine ConfigDict): __getstate__ returns the instance itself, a BINGET of its own slot, then BUILD:
  // both dropped.
  const auto self = clcp::rewrite_pickle_for_libtorch("\x80\x02" "cm\nAD\nq\x00)\x81q\x01("s + binunicode("a") +
                                                      "K\x01uh\x01" "b.");
  CHECK(self.refused == "");
  CHECK(self.build_states == 0);
  CHECK(self.bytes == "\x80\x02}q\x01("s + binunicode("a") + "K\x01u.");
  // An instance never filled (empty, or BUILD only) is left as it was.
  const std::string empty = "\x80\x02" "cm\nAD\nq\x00)\x81q\x01."s;
  CHECK(clcp::rewrite_pickle_for_libtorch(empty).bytes == empty);
}

TEST_CASE("collections.defaultdict(list) filled by SETITEM becomes EMPTY_DICT, its factory dropped", "[pickle]") {
  // As pickle writes {'x': defaultdict(list, a=[1]), 'y': defaultdict(list, b=[])} at protocol 2; the second
  // re-fetches both globals (BINGET 1, BINGET 2).
  const std::string dd1 = "ccollections\ndefaultdict\nq\x01" "c__builtin__\nlist\nq\x02\x85q\x03Rq\x04"s +
                          binunicode("a") + "]q\x05K\x01" "as";
  const std::string dd2 = "h\x01h\x02\x85q\x06Rq\x07"s + binunicode("b") + "]q\x08s";
  const std::string in = "\x80\x02}q\x00("s + binunicode("x") + dd1 + binunicode("y") + dd2 + "u.";
  const auto r = clcp::rewrite_pickle_for_libtorch(in);
  CHECK(r.refused == "");
  CHECK(r.dict_subclasses == 2);
  CHECK(r.bytes == "\x80\x02}q\x00("s + binunicode("x") + "}q\x04" + binunicode("a") + "]q\x05K\x01" "as" +
                       binunicode("y") + "}q\x07" + binunicode("b") + "]q\x08su.");
  const auto v = libtorch_unpickle(r.bytes);
  CHECK(item(item(v, "x"), "a").toList().get(0).toInt() == 1);
  CHECK(item(item(v, "y"), "b").toList().size() == 0);
  // A factory that is not one global (here a Factory() instance) is not rewritten: the stream stays as it was and
  // LibTorch's unpickler then fails on it (checkpoint_reader names "a dict subclass other than OrderedDict").
  const std::string partial = "\x80\x02" "ccollections\ndefaultdict\nq\x00" "cm\nFactory\n)\x81\x85R"s +
                              binunicode("a") + "K\x01s.";
  const auto p = clcp::rewrite_pickle_for_libtorch(partial);
  CHECK(p.dict_subclasses == 0);
  CHECK(p.bytes == partial);
}

TEST_CASE("A dict subclass used other than as cls() filled by SETITEMS is refused by name", "[pickle]") {
  // {'cls': AD, 'i': AD(a=1)}: the class itself is a value, so its pushes cannot be dropped.
  const std::string as_value = "\x80\x02}("s + binunicode("cls") + "cm\nAD\nq\x00"s + binunicode("i") + "h\x00)\x81("s +
                               binunicode("a") + "K\x01uu.";
  const auto a = clcp::rewrite_pickle_for_libtorch(as_value);
  CHECK_THAT(a.refused, Catch::Contains("m.AD, a dict subclass, used other than as m.AD() filled by SETITEMS") &&
                            Catch::Contains("SETITEMS at byte"));
  CHECK(a.bytes == as_value);
  // The factory global also used as a value.
  const std::string factory_twice = "\x80\x02}("s + binunicode("f") + "cm\nmake\nq\x00"s + binunicode("d") +
                                    "ccollections\ndefaultdict\nh\x00\x85R"s + binunicode("a") + "K\x01su.";
  CHECK_THAT(clcp::rewrite_pickle_for_libtorch(factory_twice).refused,
             Catch::Contains("a defaultdict whose factory m.make is also used elsewhere"));
}
