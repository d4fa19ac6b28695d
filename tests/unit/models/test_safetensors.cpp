#include <catch2/catch.hpp>

#include "models/safetensors.hpp"
#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "support/python_oracle.hpp"
#include "support/test_paths.hpp"

using namespace clcp;

namespace {
std::map<std::string, torch::Tensor> all_dtypes() {
  auto base = torch::tensor({-2.5, 0.0, 1.25, 3.0, 65504.0, -0.5}).view({2, 3});
  return {{"f64", base.to(torch::kFloat64)},
          {"f32", base.to(torch::kFloat32)},
          {"f16", base.to(torch::kFloat16)},
          {"bf16", base.to(torch::kBFloat16)},
          {"i64", torch::tensor({int64_t{1} << 40, int64_t{-7}}, torch::kInt64)},
          {"i32", torch::tensor({-123456, 7}, torch::kInt32)},
          {"u8", torch::tensor({0, 255, 19}, torch::kUInt8)},
          {"bool", torch::tensor({true, false, true})},
          {"scalar", torch::tensor(4.5f)},
          {"empty", torch::zeros({0, 3})},
          {"strided", torch::arange(12, torch::kFloat32).view({3, 4}).t()}};
}

std::string expect_failure(const std::filesystem::path& p) {
  try {
    load_safetensors(p);
  } catch (const UserError& e) {
    return e.what();
  }
  return "no error";
}

void write_raw(const std::filesystem::path& p, const std::string& header, const std::string& data) {
  std::string bytes(8, '\0');
  const uint64_t n = header.size();
  std::memcpy(bytes.data(), &n, 8);
  write_atomic(p, bytes + header + data);
}
}  // namespace

TEST_CASE("safetensors round trip keeps every dtype, shape and value exactly, plus the metadata") {
  test::TempDir dir;
  const auto p = dir.path / "t.safetensors";
  const auto in = all_dtypes();
  save_safetensors(p, in, {{"format", "pt"}, {"origin", "test"}});
  const auto file = read_safetensors(p);
  REQUIRE(file.tensors.size() == in.size());
  for (const auto& [k, v] : in) {
    INFO(k);
    REQUIRE(file.tensors.count(k));
    CHECK(file.tensors.at(k).scalar_type() == v.scalar_type());
    CHECK(file.tensors.at(k).sizes() == v.sizes());
    CHECK(torch::equal(file.tensors.at(k), v));
  }
  CHECK(file.metadata == std::map<std::string, std::string>{{"format", "pt"}, {"origin", "test"}});
  // Header is padded to a multiple of 8 bytes, keys are sorted in it.
  const auto bytes = read_file(p);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  CHECK(n % 8 == 0);
  const auto header = bytes.substr(8, n);
  CHECK(header.find("\"bf16\"") < header.find("\"bool\""));
  CHECK(header.find("\"bool\"") < header.find("\"empty\""));
}

TEST_CASE("a hand-written safetensors file decodes to the values its bytes encode") {
  test::TempDir dir;
  const auto p = dir.path / "hand.safetensors";
  // F32 [2] = {1.0f (0x3f800000), -2.0f (0xc0000000)}, then I32 [1] = {258}.
  const std::string data("\x00\x00\x80\x3f\x00\x00\x00\xc0\x02\x01\x00\x00", 12);
  write_raw(p, R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I32","shape":[1],"data_offsets":[8,12]}})",
            data);
  const auto t = load_safetensors(p);
  CHECK(t.at("a")[0].item<float>() == 1.0f);
  CHECK(t.at("a")[1].item<float>() == -2.0f);
  CHECK(t.at("b")[0].item<int32_t>() == 258);
}

TEST_CASE("damaged safetensors files are rejected with a user error naming the file") {
  test::TempDir dir;
  const auto p = dir.path / "bad.safetensors";
  write_atomic(p, std::string("\x10\x00\x00", 3));
  auto msg = expect_failure(p);
  CHECK_THAT(msg, Catch::Contains(p.string()) && Catch::Contains("truncated"));

  write_raw(p, R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", std::string(4, '\0'));
  CHECK_THAT(expect_failure(p), Catch::Contains("out of range") && Catch::Contains(p.string()));

  write_raw(p, R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", std::string(8, '\0'));
  CHECK_THAT(expect_failure(p), Catch::Contains("needs 12"));

  write_raw(p, R"({"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}})", std::string(8, '\0'));
  CHECK_THAT(expect_failure(p), Catch::Contains("unknown dtype 'C64'"));

  write_raw(p, R"({"a":{"dtype":"F32",)", "");
  CHECK_THAT(expect_failure(p), Catch::Contains("bad safetensors header JSON") && Catch::Contains(p.string()));

  std::string big(8, '\0');
  const uint64_t huge = 1000;
  std::memcpy(big.data(), &huge, 8);
  write_atomic(p, big + "{}");
  CHECK_THAT(expect_failure(p), Catch::Contains("truncated"));

  CHECK_THAT(expect_failure(dir.path / "missing.safetensors"), Catch::Contains("missing.safetensors"));
}

TEST_CASE("files written by Python safetensors read back exactly, and ours read in Python") {
  if (!test::python_available()) {
    WARN("skipped: no python at " << CLCP_VENV_PYTHON);
    return;
  }
  test::TempDir dir;
  save_safetensors(dir.path / "ours.safetensors", all_dtypes(), {{"who", "clcp"}});
  const int rc = test::run_python(dir.path, R"PY(
import sys, torch
from safetensors import safe_open
from safetensors.torch import save_file, load_file
d = sys.argv[1]
base = torch.tensor([-2.5, 0.0, 1.25, 3.0, 65504.0, -0.5]).view(2, 3)
want = {'f64': base.double(), 'f32': base.float(), 'f16': base.half(), 'bf16': base.bfloat16(),
        'i64': torch.tensor([1 << 40, -7]), 'i32': torch.tensor([-123456, 7], dtype=torch.int32),
        'u8': torch.tensor([0, 255, 19], dtype=torch.uint8), 'bool': torch.tensor([True, False, True]),
        'scalar': torch.tensor(4.5), 'empty': torch.zeros(0, 3), 'strided': torch.arange(12.).view(3, 4).t().contiguous()}
got = load_file(d + '/ours.safetensors')
assert sorted(got) == sorted(want), sorted(got)
for k, v in want.items():
    assert got[k].dtype == v.dtype and got[k].shape == v.shape and torch.equal(got[k], v), k
with safe_open(d + '/ours.safetensors', 'pt') as f:
    assert f.metadata() == {'who': 'clcp'}, f.metadata()
g = torch.Generator().manual_seed(5)
save_file({'w': torch.randn(7, 5, generator=g), 'h': torch.randn(3, generator=g).half(),
           'b': torch.randn(4, generator=g).bfloat16(), 'n': torch.arange(6).view(2, 3)},
          d + '/theirs.safetensors', metadata={'format': 'pt'})
import json
json.dump({k: v.double().flatten().tolist() for k, v in load_file(d + '/theirs.safetensors').items()},
          open(d + '/theirs.json', 'w'))
)PY");
  INFO(test::read_log(dir.path));
  REQUIRE(rc == 0);
  const auto theirs = read_safetensors(dir.path / "theirs.safetensors");
  CHECK(theirs.metadata.at("format") == "pt");
  REQUIRE(theirs.tensors.size() == 4);
  // Python's values, printed exactly (float64 repr), must equal what we decoded.
  const auto values = read_json(dir.path / "theirs.json");
  for (const auto& [k, v] : theirs.tensors) {
    INFO(k);
    const auto flat = v.to(torch::kFloat64).flatten();
    REQUIRE(values.at(k).size() == static_cast<size_t>(flat.numel()));
    for (int64_t i = 0; i < flat.numel(); ++i) CHECK(flat[i].item<double>() == values.at(k)[i].get<double>());
  }
  CHECK(theirs.tensors.at("w").sizes().vec() == std::vector<int64_t>{7, 5});
  CHECK(theirs.tensors.at("h").scalar_type() == torch::kFloat16);
  CHECK(theirs.tensors.at("b").scalar_type() == torch::kBFloat16);
  CHECK(torch::equal(theirs.tensors.at("n"), torch::arange(6, torch::kInt64).view({2, 3})));
  save_safetensors(dir.path / "again.safetensors", theirs.tensors);
  const auto again = load_safetensors(dir.path / "again.safetensors");
  for (const auto& [k, v] : theirs.tensors) CHECK(torch::equal(again.at(k), v));
}
