#include "models/import/pickle_rewrite.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <unordered_map>
#include <vector>

#include "models/import/pickle_ops.hpp"

namespace clcp {

const char* const kPickleBuildStateKey = "<pickle BUILD state>";

namespace {
namespace op = pickle_op;

struct Refused {
  std::string why;
  bool malformed = false;  // the stream itself is broken, not merely beyond what the rewrite handles
};

enum class Kind { Value, Str, EmptyTuple, OdCallable, OdDict };

// One entry of the symbolic stack. `first` is the earliest opcode that went into the value (its pushes, the MARK it
// consumed), so the opcodes [first, now) built exactly this value; `virt` values were not emitted (the OrderedDict
// global) and must be consumed by the pattern that removes them.
struct Sym {
  Kind kind = Kind::Value;
  std::string str;  // Kind::Str: the UTF-8 text
  size_t first = 0;
  size_t producer = 0;  // the opcode that pushed it
  bool virt = false;
  std::vector<size_t> memo_ops;  // memo stores of this value (dropped with it)
  std::vector<uint32_t> memo_ids;
  int global = -1;   // a class global that may be a dict subclass: index into Rewriter::globals_
  int inst = -1;     // `cls()` of such a global: index into Rewriter::instances_
  int factory = -1;  // the tuple `(f,)` of one such global f (a defaultdict's default_factory)
};

struct MemoSlot {
  Kind kind = Kind::Value;
  std::string str;
  bool virt = false;  // not stored on LibTorch's side: a fetch must re-create the value
  int global = -1, inst = -1, factory = -1;  // as Sym
};

// A non-torch class global (module.name). Whether it is a dict subclass shows only later, when an instance is filled
// by SETITEM(S); so every push of it is recorded and dropped at the end if it is.
struct GlobalInfo {
  std::string name;           // "module.name"
  std::vector<size_t> drops;  // its pushes (GLOBAL, STACK_GLOBAL, memo fetches) and their memo stores
  std::string misuse;         // the first use other than `cls()` or as a defaultdict's factory ("" if none)
  bool filled = false;        // an instance was filled by SETITEM(S): a dict subclass
  int instances = 0;
  int factory_uses = 0;
};

// BUILD on an instance: kept as SETITEM under kPickleBuildStateKey if the instance becomes a dict.
struct InstanceBuild {
  size_t op, state_first;
  bool in_mark;
  bool self;  // the state is one fetch of the instance itself (addict.Dict's __getstate__: `return self`)
};

// `cls()` (EMPTY_TUPLE NEWOBJ / EMPTY_TUPLE REDUCE) or `defaultdict(f)` (f, TUPLE1, REDUCE).
struct Instance {
  int cls;
  size_t call;                // the NEWOBJ/REDUCE, becomes EMPTY_DICT
  std::vector<size_t> drops;  // the argument tuple's opcode and memo stores
  int factory = -1;           // the defaultdict's factory global
  std::vector<InstanceBuild> builds;
};

struct Mark {
  size_t depth;  // stack size when set
  size_t op;
};

std::string le(uint64_t v, int n) {
  std::string s(static_cast<size_t>(n), '\0');
  for (int i = 0; i < n; ++i) s[static_cast<size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

std::string binunicode(std::string_view s) {
  return std::string(1, static_cast<char>(op::kBinUnicode)) + le(s.size(), 4) + std::string(s);
}

std::string put(uint32_t id) {
  return id < 256 ? std::string(1, static_cast<char>(op::kBinPut)) + le(id, 1)
                  : std::string(1, static_cast<char>(op::kLongBinPut)) + le(id, 4);
}

class Rewriter {
 public:
  Rewriter(std::string_view in, const std::vector<PickleOp>& ops)
      : in_(in), ops_(ops), out_(ops.size()), prefix_(ops.size()) {}

  PickleRewrite run() {
    PickleRewrite r;
    for (i_ = 0; i_ < ops_.size(); ++i_) step(ops_[i_]);
    if (stack_.size() != 1 || stack_[0].virt) throw Refused{"a pickle that does not end with one value"};
    // What follows reports at the last opcode (STOP): i_ must not stay one past the end (found by fuzz_pickle_rewrite:
    // a pickle whose value is a class global indexed ops_[ops_.size()]).
    i_ = ops_.size() - 1;
    note_use(stack_[0], "as the pickle's value");
    resolve_dict_subclasses();
    r.ordered_dicts = ordered_dicts_;
    r.build_states = build_states_;
    r.dict_subclasses = dict_subclasses_;
    for (size_t k = 0; k < ops_.size(); ++k) {
      r.bytes += prefix_[k];
      r.bytes += out_[k] ? *out_[k] : std::string(in_.substr(ops_[k].pos, ops_[k].size));
    }
    return r;
  }

 private:
  std::string_view in_;
  const std::vector<PickleOp>& ops_;
  std::vector<std::optional<std::string>> out_;  // replacement of each opcode (nullopt: copied as is)
  std::vector<std::string> prefix_;              // bytes emitted before each opcode
  std::vector<Sym> stack_;
  std::vector<Mark> marks_;
  std::unordered_map<uint32_t, MemoSlot> memo_;
  size_t i_ = 0;
  int ordered_dicts_ = 0;
  int build_states_ = 0;
  int dict_subclasses_ = 0;
  std::vector<GlobalInfo> globals_;
  std::unordered_map<std::string, int> global_ids_;
  std::vector<Instance> instances_;

  [[noreturn]] void refuse(const std::string& what) const {
    throw Refused{fmt::format("{} ({} at byte {})", what, pickle_op_name(ops_[i_].code), ops_[i_].pos)};
  }

  void push(Sym s) { stack_.push_back(std::move(s)); }
  Sym value(Kind k = Kind::Value) const {
    Sym s;
    s.kind = k;
    s.first = s.producer = i_;
    return s;
  }
  Sym pop_any() {
    if (stack_.empty()) refuse("a pickle that pops an empty stack");
    Sym s = std::move(stack_.back());
    stack_.pop_back();
    if (s.virt) refuse("collections.OrderedDict used other than as OrderedDict()");
    return s;
  }
  // Pops a value some opcode consumes: a class global (or a factory tuple) used so cannot be dropped later.
  Sym pop() {
    Sym s = pop_any();
    note_use(s, "as a value");
    return s;
  }
  void note_use(const Sym& s, const char* how) {
    const auto note = [&](int g) {
      if (g >= 0 && globals_[static_cast<size_t>(g)].misuse.empty())
        globals_[static_cast<size_t>(g)].misuse = fmt::format("{} {} at byte {}", how, pickle_op_name(ops_[i_].code),
                                                              ops_[i_].pos);
    };
    note(s.global);
    note(s.factory);
  }
  // Pops down to the last MARK; returns the earliest opcode of what was popped (the MARK included).
  size_t pop_to_mark() {
    if (marks_.empty()) refuse("a pickle that closes a MARK it never opened");
    const Mark m = marks_.back();
    marks_.pop_back();
    if (m.depth > stack_.size()) refuse("a pickle whose MARK lies below the stack");
    size_t first = m.op;
    while (stack_.size() > m.depth) first = std::min(first, pop().first);
    return first;
  }
  Sym& top() {
    if (stack_.empty() || stack_.back().virt) refuse("a pickle that fills a missing container");
    return stack_.back();
  }
  // SETITEM(S) fill the value on top: an instance so filled proves its class a dict subclass.
  void fill_top() {
    Sym& t = top();
    note_use(t, "filled by");
    if (t.inst >= 0) globals_[static_cast<size_t>(instances_[static_cast<size_t>(t.inst)].cls)].filled = true;
  }
  // Replaces an opcode's output; drops it when `bytes` is empty.
  void emit(size_t k, std::string bytes) { out_[k] = std::move(bytes); }

  void store_memo(uint32_t id) {
    if (memo_.count(id)) refuse("a memo slot stored twice");
    if (stack_.empty()) refuse("a pickle that memoises an empty stack");
    Sym& t = stack_.back();
    memo_[id] = MemoSlot{t.kind, t.str, t.virt, t.global, t.inst, t.factory};
    if (t.global >= 0) globals_[static_cast<size_t>(t.global)].drops.push_back(i_);
    if (t.virt) {
      emit(i_, "");
      return;
    }
    emit(i_, put(id));
    t.memo_ops.push_back(i_);
    t.memo_ids.push_back(id);
  }

  void fetch_memo(uint64_t id) {
    const auto it = memo_.find(static_cast<uint32_t>(id));
    if (it == memo_.end()) refuse("a fetch of an empty memo slot");
    const MemoSlot& m = it->second;
    Sym s = value(m.kind);
    s.str = m.str;
    s.global = m.global;
    s.inst = m.inst;
    if (m.global >= 0) globals_[static_cast<size_t>(m.global)].drops.push_back(i_);
    if (m.factory >= 0) {  // the tuple itself is dropped with its defaultdict: a second use cannot be
      s.factory = m.factory;
      note_use(s, "fetched again");
      s.factory = -1;
    }
    if (m.virt && m.kind == Kind::OdCallable) {
      s.virt = true;
      emit(i_, "");
    } else if (m.virt) {  // a string whose push was dropped (it named a STACK_GLOBAL): push it again
      if (m.kind != Kind::Str) refuse("a fetch of a dropped value");
      emit(i_, binunicode(m.str));
    }
    push(std::move(s));
  }

  // Drops a pushed value's opcode and its memo stores (their slots become virtual).
  void drop(const Sym& s) {
    emit(s.producer, "");
    for (size_t k : s.memo_ops) emit(k, "");
    for (uint32_t id : s.memo_ids) memo_[id].virt = true;
  }

  void global(std::string_view module, std::string_view name) {
    if (module == "collections" && name == "OrderedDict") {
      Sym s = value(Kind::OdCallable);
      s.virt = true;
      emit(i_, "");
      push(std::move(s));
      return;
    }
    if (module.find('\n') != std::string_view::npos || name.find('\n') != std::string_view::npos)
      refuse("a global whose name holds a newline");
    emit(i_, std::string(1, static_cast<char>(op::kGlobal)) + std::string(module) + "\n" + std::string(name) + "\n");
    Sym s = value();
    // torch's globals are LibTorch's own (tensors, storages, devices, dtypes…): never a dict subclass to drop.
    const bool torch_global = module == "torch" || module.rfind("torch.", 0) == 0 || module == "__torch__" ||
                              module.rfind("__torch__.", 0) == 0;
    if (!torch_global) {
      const std::string q = fmt::format("{}.{}", module, name);
      auto [it, fresh] = global_ids_.emplace(q, static_cast<int>(globals_.size()));
      if (fresh) globals_.push_back(GlobalInfo{q, {}, {}, false, 0, 0});
      s.global = it->second;
      globals_[static_cast<size_t>(s.global)].drops.push_back(i_);
    }
    push(std::move(s));
  }

  void stack_global() {
    Sym name = pop(), module = pop();
    if (name.kind != Kind::Str || module.kind != Kind::Str || name.first != name.producer ||
        module.first != module.producer)
      refuse("a STACK_GLOBAL whose module and name are not two pushed strings");
    // Only memo stores and FRAMEs may lie between the two pushes and STACK_GLOBAL, so dropping the pushes leaves
    // every other opcode's stack as it was.
    for (size_t k = std::min(name.producer, module.producer) + 1; k < i_; ++k) {
      const uint8_t c = ops_[k].code;
      if (k == name.producer || k == module.producer || c == op::kMemoize || c == op::kBinPut ||
          c == op::kLongBinPut || c == op::kFrame)
        continue;
      refuse("a STACK_GLOBAL built from more than its two strings");
    }
    drop(name);
    drop(module);
    global(module.str, name.str);
  }

  void reduce() {
    Sym args = pop_any();
    if (stack_.empty()) refuse("a REDUCE without a callable");
    if (stack_.back().virt) {  // OrderedDict(...): only OrderedDict() (what __reduce__ of every OrderedDict gives)
      Sym callable = std::move(stack_.back());
      stack_.pop_back();
      if (args.kind != Kind::EmptyTuple || !args.memo_ops.empty())
        refuse("collections.OrderedDict called with arguments");
      emit(args.producer, "");
      emit(i_, std::string(1, static_cast<char>(op::kEmptyDict)));
      Sym d = value(Kind::OdDict);
      d.first = std::min(callable.first, args.first);
      push(std::move(d));
      ++ordered_dicts_;
      return;
    }
    call(args, /*newobj=*/false);
  }

  // NEWOBJ / REDUCE on anything but the OrderedDict global: `cls()` and `defaultdict(f)` of a class global are
  // remembered as instances that become EMPTY_DICT at the end if their class proves a dict subclass.
  void call(Sym args, bool newobj) {
    Sym callable = pop_any();
    Sym r = value();
    r.first = std::min(callable.first, args.first);
    const bool empty = args.kind == Kind::EmptyTuple && args.memo_ops.empty();
    const bool factory = !newobj && args.factory >= 0 && callable.global >= 0 &&
                         globals_[static_cast<size_t>(callable.global)].name == "collections.defaultdict";
    if (callable.global >= 0 && (empty || factory)) {
      Instance in{callable.global, i_, {args.producer}, factory ? args.factory : -1, {}};
      in.drops.insert(in.drops.end(), args.memo_ops.begin(), args.memo_ops.end());
      ++globals_[static_cast<size_t>(callable.global)].instances;
      if (factory) ++globals_[static_cast<size_t>(args.factory)].factory_uses;
      r.inst = static_cast<int>(instances_.size());
      instances_.push_back(std::move(in));
    } else {
      note_use(callable, "called with arguments by");
      note_use(args, "as arguments of");
    }
    push(std::move(r));
  }

  // Instances whose class was filled by SETITEM(S) become plain dicts: every push of the class (and of a
  // defaultdict's factory) and the argument tuple are dropped, the call becomes EMPTY_DICT, BUILD becomes SETITEM.
  void resolve_dict_subclasses() {
    for (const Instance& in : instances_) {
      const GlobalInfo& g = globals_[static_cast<size_t>(in.cls)];
      if (!g.filled) continue;
      if (!g.misuse.empty())
        throw Refused{fmt::format("{}, a dict subclass, used other than as {}() filled by SETITEMS ({})", g.name,
                                  g.name, g.misuse)};
      if (g.factory_uses > 0)
        throw Refused{fmt::format("{}, a dict subclass, also used as a defaultdict factory", g.name)};
      if (in.factory >= 0) {
        const GlobalInfo& f = globals_[static_cast<size_t>(in.factory)];
        if (!f.misuse.empty() || f.instances > 0)
          throw Refused{fmt::format("a defaultdict whose factory {} is also used elsewhere ({})", f.name,
                                    f.misuse.empty() ? "called" : f.misuse)};
      }
      for (const InstanceBuild& b : in.builds) {
        if (b.in_mark && !b.self) throw Refused{fmt::format("a BUILD of {}, a dict subclass, inside an open MARK", g.name)};
      }
    }
    for (size_t k = 0; k < instances_.size(); ++k) {
      const Instance& in = instances_[k];
      if (!globals_[static_cast<size_t>(in.cls)].filled) continue;
      for (size_t d : globals_[static_cast<size_t>(in.cls)].drops) emit(d, "");
      if (in.factory >= 0)
        for (size_t d : globals_[static_cast<size_t>(in.factory)].drops) emit(d, "");
      for (size_t d : in.drops) emit(d, "");
      emit(in.call, std::string(1, static_cast<char>(op::kEmptyDict)));
      for (const InstanceBuild& b : in.builds) {
        if (b.self) {  // __setstate__(self) of a dict holding its items already: nothing to keep
          emit(b.state_first, "");
          emit(b.op, "");
          continue;
        }
        prefix_[b.state_first] += binunicode(kPickleBuildStateKey);
        emit(b.op, std::string(1, static_cast<char>(op::kSetItem)));
        ++build_states_;
      }
      ++dict_subclasses_;
    }
  }

  void build() {
    Sym state = pop();
    Sym target = pop_any();
    if (target.inst >= 0) {  // decided at the end (resolve_dict_subclasses); the state may be the instance itself
      const bool in_mark = !marks_.empty() && marks_.back().depth > stack_.size();
      instances_[static_cast<size_t>(target.inst)].builds.push_back(
          InstanceBuild{i_, state.first, in_mark, state.inst == target.inst && state.first == state.producer});
      Sym r = value();
      r.first = std::min(target.first, state.first);
      r.inst = target.inst;
      push(std::move(r));
      return;
    }
    note_use(target, "given state by");
    if (target.kind == Kind::OdDict) {
      // LibTorch would read the dict as a callable index. Keep the state as an item instead: push the key right
      // before the state's first opcode and SETITEM. Valid only if no MARK is open between target and state.
      if (!marks_.empty() && marks_.back().depth > stack_.size())
        refuse("an OrderedDict BUILD inside an open MARK");
      prefix_[state.first] += binunicode(kPickleBuildStateKey);
      emit(i_, std::string(1, static_cast<char>(op::kSetItem)));
      ++build_states_;
      push(std::move(target));
      return;
    }
    Sym r = value();
    r.first = std::min(target.first, state.first);
    push(std::move(r));
  }

  // `(f,)` of a class global f pushed by one opcode: maybe a defaultdict's factory (see call()).
  void tuple1() {
    Sym f = pop_any();
    Sym r = value();
    r.first = f.first;
    if (f.global >= 0 && f.first == f.producer)
      r.factory = f.global;
    else
      note_use(f, "as a value");
    push(std::move(r));
  }

  // Pops n and pushes one value built from them.
  void combine(int n) {
    size_t first = i_;
    for (int k = 0; k < n; ++k) first = std::min(first, pop().first);
    Sym r = value();
    r.first = first;
    push(std::move(r));
  }

  void step(const PickleOp& o) {
    switch (o.code) {
      case op::kProto:
        if (i_ != 0 || o.number < 2 || o.number > 5) refuse("a pickle protocol other than 2 to 5");
        emit(i_, std::string("\x80\x02", 2));
        break;
      case op::kFrame: emit(i_, ""); break;
      case op::kStop: break;
      case op::kMark: marks_.push_back(Mark{stack_.size(), i_}); break;
      case op::kEmptyTuple: push(value(Kind::EmptyTuple)); break;
      case op::kEmptyList: case op::kEmptyDict: case op::kNewTrue: case op::kNewFalse: case op::kNone:
      case op::kBinInt1: case op::kBinInt2: case op::kBinInt: case op::kBinFloat:
        push(value());
        break;
      case op::kLong1: {  // LibTorch reads only 8-byte LONG1; Python writes the fewest bytes: sign-extend
        if (o.text.size() > 8) refuse("a Python int longer than 64 bits");
        const bool negative = !o.text.empty() && (static_cast<uint8_t>(o.text.back()) & 0x80);
        std::string v(o.text);
        v.resize(8, negative ? '\xff' : '\0');
        emit(i_, std::string(1, static_cast<char>(op::kLong1)) + '\x08' + v);
        push(value());
      } break;
      case op::kBinUnicode: case op::kShortBinUnicode: case op::kBinUnicode8: {
        if (o.text.size() > 0xffffffffu) refuse("a string longer than 4 GiB");
        Sym s = value(Kind::Str);
        s.str = std::string(o.text);
        if (o.code != op::kBinUnicode) emit(i_, binunicode(o.text));
        push(std::move(s));
      } break;
      case op::kBinPut: case op::kLongBinPut: store_memo(static_cast<uint32_t>(o.number)); break;
      case op::kMemoize: store_memo(static_cast<uint32_t>(memo_.size())); break;
      case op::kBinGet: case op::kLongBinGet: fetch_memo(o.number); break;
      case op::kGlobal: {
        const auto nl = o.text.find('\n');
        global(o.text.substr(0, nl), o.text.substr(nl + 1));
      } break;
      case op::kStackGlobal: stack_global(); break;
      case op::kReduce: reduce(); break;
      case op::kBuild: build(); break;
      case op::kNewObj: call(pop_any(), /*newobj=*/true); break;
      case op::kBinPersId: combine(1); break;
      case op::kTuple1: tuple1(); break;
      case op::kTuple2: combine(2); break;
      case op::kTuple3: combine(3); break;
      case op::kTuple: case op::kList: case op::kDict: {
        Sym r = value();
        r.first = pop_to_mark();
        push(std::move(r));
      } break;
      case op::kSetItems:
        pop_to_mark();
        fill_top();
        break;
      case op::kAppends:
        pop_to_mark();
        note_use(top(), "filled by");
        break;
      case op::kSetItem:
        pop(), pop();
        fill_top();
        break;
      case op::kAppend:
        pop();
        note_use(top(), "filled by");
        break;
      default: refuse("a pickle opcode LibTorch does not support");
    }
  }
};

}  // namespace

PickleRewrite rewrite_pickle_for_libtorch(std::string_view pickle) {
  PickleRewrite r;
  if (pickle.size() >= 2 && static_cast<uint8_t>(pickle[0]) == op::kProto) r.protocol = static_cast<uint8_t>(pickle[1]);
  std::string error;
  const auto ops = walk_pickle(pickle, error);
  try {
    if (!error.empty()) throw Refused{error, true};
    // A pickler numbers its memo slots 0, 1, 2, …: an index beyond the opcode count is corruption. Checked for every
    // index first, before a refusal for an unsupported construct hands the stream to LibTorch as it is: LibTorch
    // sizes its memo table by the index (a LONG_BINPUT of 2^31 → a 32 GB allocation; found by fuzz_torch_zip).
    for (const auto& o : ops)
      if ((o.code == op::kBinPut || o.code == op::kLongBinPut) && o.number > ops.size())
        throw Refused{fmt::format("memo index {} at byte {} in a stream of {} opcodes", o.number, o.pos, ops.size()),
                      true};
    if (ops.empty() || ops[0].code != op::kProto) throw Refused{"a pickle without PROTO (protocol 0 or 1)"};
    PickleRewrite done = Rewriter(pickle, ops).run();
    done.protocol = r.protocol;
    return done;
  } catch (const Refused& e) {
    r.refused = e.why;
    r.malformed = e.malformed;
    r.bytes = std::string(pickle);
    return r;
  }
}

}  // namespace clcp
