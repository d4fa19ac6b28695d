#include "models/import/checkpoint_reader.hpp"

#include <ATen/core/jit_type.h>
#include <caffe2/serialize/inline_container.h>
#include <fmt/format.h>
#include <torch/csrc/jit/api/compilation_unit.h>
#include <torch/csrc/jit/serialization/unpickler.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>

#include "models/import/pickle_rewrite.hpp"
#include "models/safetensors.hpp"
#include "suite/core/error.hpp"
#include "suite/core/sniff.hpp"

namespace clcp {
namespace fs = std::filesystem;

const char* const kConvertOneLiner =
    "python -c \"import torch, safetensors.torch as s; d=torch.load('x.pth', map_location='cpu', "
    "weights_only=False); d=d.get('state_dict', d); s.save_file({k: v.contiguous() for k, v in d.items() if "
    "hasattr(v, 'contiguous')}, 'x.safetensors')\"";

namespace {

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

// Every Python class the unpickler meets (other than the few it knows) becomes a placeholder ClassType with one
// attribute "state" holding whatever the pickle passed it (NEWOBJ + BUILD: the instance's __dict__).
struct PlaceholderClasses {
  std::shared_ptr<torch::jit::CompilationUnit> cu = std::make_shared<torch::jit::CompilationUnit>();
  std::map<std::string, c10::ClassTypePtr> types;
  std::vector<std::string> names;  // in order of first use
  std::string last;

  c10::StrongTypePtr resolve(const c10::QualifiedName& name) {
    const std::string q = name.qualifiedName();
    last = q;
    auto it = types.find(q);
    if (it == types.end()) {
      auto cls = c10::ClassType::create(name, cu);
      cls->addAttribute("state", c10::AnyType::get());
      it = types.emplace(q, cls).first;
      names.push_back(q);
    }
    return c10::StrongTypePtr(cu, it->second);
  }
};

// Turns a c10::Error of the unpickler into the construct that caused it (see the header's list).
std::string diagnose(const std::string& msg, const PlaceholderClasses& classes, const PickleRewrite& rw) {
  if (msg.find("Expected GenericDict but got None") != std::string::npos)
    return fmt::format("a collections.OrderedDict in a form the reader does not rewrite (it handles OrderedDict() "
                       "filled by SETITEMS, as torch.save writes; here: {}; LibTorch's unpickler turns it into None, "
                       "pytorch#100741)",
                       rw.refused.empty() ? "unknown" : rw.refused);
  // Dict subclasses the rewrite turned into dicts never get here; these are the ones it could not prove safe.
  const std::string why = rw.refused.empty() ? "" : "; not rewritten: " + rw.refused;
  if (msg.find("Expected GenericDict but got Object") != std::string::npos)
    return fmt::format("a dict subclass other than OrderedDict (e.g. a collections.defaultdict whose default_factory "
                       "is not a single global such as list), which LibTorch rebuilds as an object SETITEMS cannot "
                       "fill{}",
                       why);
  if (msg.find("Expected GenericDict but got Int") != std::string::npos && !classes.last.empty())
    return fmt::format("an instance of {} that is a dict subclass{}", classes.last, why);
  if (const auto at = msg.find("Unknown pickler class id"); at != std::string::npos)
    return fmt::format("an instance of __main__.{} (a class defined in the saving script; LibTorch reserves "
                       "__main__ and cannot resolve it)",
                       first_line(msg.substr(at + 24)));
  if ((msg.find("Expected Int but got Object") != std::string::npos || msg.find("expected int") != std::string::npos) &&
      !classes.last.empty())
    return fmt::format("an instance of {} rebuilt from arguments and then state (pickle REDUCE + BUILD)",
                       classes.last);
  if (msg.find("Unknown opcode for unpickling") != std::string::npos)
    return fmt::format("a pickle opcode LibTorch does not support ({})", first_line(msg));
  if (msg.find("Expected length to be 8") != std::string::npos) return "a Python int longer than 64 bits";
  if (msg.find("unknown torch global") != std::string::npos) return first_line(msg);
  return fmt::format("a construct LibTorch's unpickler rejects ({}{}{})", first_line(msg),
                     classes.last.empty() ? "" : "; last class seen: " + classes.last,
                     rw.refused.empty() ? "" : "; not rewritten: " + rw.refused);
}

bool starts_with_bytes(const fs::path& path, std::string_view magic) {
  std::ifstream in(path, std::ios::binary);
  std::string head(magic.size(), '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  return in.gcount() == static_cast<std::streamsize>(magic.size()) && head == magic;
}

bool looks_like_safetensors(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  char head[9] = {0};
  in.read(head, 9);
  if (in.gcount() < 9) return false;
  uint64_t n = 0;
  std::memcpy(&n, head, 8);
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  return !ec && n >= 2 && n <= size - 8 && head[8] == '{';
}

void collect_tensors(const c10::impl::GenericDict& d, std::map<std::string, torch::Tensor>& out) {
  for (const auto& kv : d)
    if (kv.key().isString() && kv.value().isTensor()) out[kv.key().toStringRef()] = kv.value().toTensor();
}

// `open` makes the archive reader (from a file or from memory); `shown` names the file in errors.
CheckpointFile read_torch_zip(const std::function<std::unique_ptr<caffe2::serialize::PyTorchStreamReader>()>& open,
                              const std::string& shown) {
  CheckpointFile f;
  f.container = "torch-zip";
  PlaceholderClasses classes;
  c10::IValue root;
  PickleRewrite rw;
  try {
    const auto archive = open();
    caffe2::serialize::PyTorchStreamReader& reader = *archive;
    {
      const auto [pkl, size] = reader.getRecord("data.pkl");
      rw = rewrite_pickle_for_libtorch(std::string_view(static_cast<const char*>(pkl.get()), size));
    }
    // A broken stream stops here: LibTorch's unpickler trusts lengths and memo indices (a LONG_BINPUT of 2^31 makes it
    // allocate a memo table of 32 GB).
    if (rw.malformed)
      fail("{}: data.pkl is not a valid pickle ({}); the file is truncated or corrupt: re-download it or save it again "
           "with torch.save",
           shown, rw.refused);
    // LibTorch reads only protocol 2: a protocol 3–5 pickle the rewrite refused cannot load at all.
    if (!rw.refused.empty() && rw.protocol != 2)
      fail("{}: the pickle (protocol {}) holds {}, which LibTorch's unpickler cannot rebuild; convert the file once "
           "to safetensors (README.md \"Weights\"): {}",
           shown, rw.protocol, rw.refused, kConvertOneLiner);
    torch::jit::TypeResolver resolver = [&classes](const c10::QualifiedName& n) { return classes.resolve(n); };
    torch::jit::ObjLoader loader = [](const c10::StrongTypePtr& type, c10::IValue state) {
      auto obj = c10::ivalue::Object::create(type, 1);
      obj->setSlot(0, std::move(state));
      return obj;
    };
    size_t at = 0;
    auto read = [&rw, &at](char* buf, size_t len) -> size_t {
      if (at >= rw.bytes.size()) return 0;
      len = std::min(len, rw.bytes.size() - at);
      std::memcpy(buf, rw.bytes.data() + at, len);
      at += len;
      return len;
    };
    // Storages are records data/<key> of the archive (as torch::jit::readArchiveAndTensors reads them).
    auto record = [&reader](const std::string& key) { return std::get<0>(reader.getRecord("data/" + key)); };
    // device = CPU: storages saved from cuda:N are mapped to the CPU (torch.load(map_location='cpu')).
    torch::jit::Unpickler unpickler(read, resolver, loader, record, at::Device(at::kCPU));
    unpickler.set_version(reader.version());
    root = unpickler.parse_ivalue();
  } catch (const c10::Error& e) {
    const std::string msg = e.what_without_backtrace();
    if (msg.find("data.pkl") != std::string::npos || msg.find("file not found") != std::string::npos ||
        msg.find("PytorchStreamReader") != std::string::npos)
      fail("{}: not a readable PyTorch zip checkpoint ({}); re-save it with torch.save or convert it to safetensors: "
           "{}",
           shown, first_line(msg), kConvertOneLiner);
    fail("{}: the pickle holds {}, which LibTorch's unpickler cannot rebuild; convert the file once to safetensors "
         "(README.md \"Weights\"): {}",
         shown, diagnose(msg, classes, rw), kConvertOneLiner);
  }
  f.placeholders = classes.names;
  if (!root.isGenericDict())
    fail("{}: the checkpoint's top level is a {}, expected a dict of tensors (a state dict, or one under "
         "'state_dict' or 'model'); convert it with: {}",
         shown, root.tagKind(), kConvertOneLiner);
  const auto top = root.toGenericDict();
  auto sub = [&](const char* key) -> std::optional<c10::impl::GenericDict> {
    for (const auto& kv : top)
      if (kv.key().isString() && kv.key().toStringRef() == key && kv.value().isGenericDict())
        return kv.value().toGenericDict();
    return std::nullopt;
  };
  auto has = [&](const char* key) {
    for (const auto& kv : top)
      if (kv.key().isString() && kv.key().toStringRef() == key) return true;
    return false;
  };
  if (auto sd = sub("state_dict")) {
    f.wrapper = (has("pytorch-lightning_version") || has("optimizer_states") || has("lr_schedulers"))
                    ? "lightning"
                    : "state_dict";
    collect_tensors(*sd, f.tensors);
  } else if (auto m = sub("model")) {
    f.wrapper = "model";
    collect_tensors(*m, f.tensors);
  } else {
    collect_tensors(top, f.tensors);
  }
  if (f.tensors.empty())
    fail("{}: no tensors found at the top level or under 'state_dict'/'model'; expected a ViT-S/16 state dict",
         shown);
  for (auto& [k, v] : f.tensors) v = v.contiguous();
  return f;
}

}  // namespace

void check_weights_format(const fs::path& path) {
  if (!fs::is_regular_file(path)) fail("{}: weights file not found; check the path", path.string());
  if (starts_with_bytes(path, "PK\x03\x04")) return;
  if (starts_with_bytes(path, "\x80\x02") || starts_with_bytes(path, "\x80\x04"))
    fail("{}: a legacy (pre-1.6, non-zip) torch.save file; LibTorch reads only the zip format; convert it to "
         "safetensors: {}",
         path.string(), kConvertOneLiner);
  // A safetensors file starts with an 8-byte little-endian header length and then '{'. Anything else is named by
  // what it is (a PNG, a JSON file, an HTML error page, an empty file …) rather than called a broken safetensors.
  if (!looks_like_safetensors(path))
    fail("{}: not a weights file (safetensors or torch.save zip): it is {}; pass the .safetensors or .pth file itself",
         path.string(), describe_content(path));
}

CheckpointFile read_checkpoint(const fs::path& path) {
  check_weights_format(path);
  if (starts_with_bytes(path, "PK\x03\x04"))
    return read_torch_zip([&] { return std::make_unique<caffe2::serialize::PyTorchStreamReader>(path.string()); },
                          path.string());
  CheckpointFile f;
  f.container = "safetensors";
  f.tensors = load_safetensors(path);
  return f;
}

CheckpointFile read_checkpoint_bytes(const std::string& bytes, const std::string& shown) {
  if (bytes.rfind("PK\x03\x04", 0) == 0) {
    std::istringstream in(bytes);
    return read_torch_zip([&] { return std::make_unique<caffe2::serialize::PyTorchStreamReader>(&in); }, shown);
  }
  CheckpointFile f;
  f.container = "safetensors";
  f.tensors = parse_safetensors(bytes, shown).tensors;
  return f;
}

std::map<std::string, torch::Tensor> read_tensor_file(const fs::path& path) { return read_checkpoint(path).tensors; }

}  // namespace clcp
