// .npy / .npz reader and writer: hand-made files with known contents, every dtype and both header versions, each
// bad case's one-line error, the real A2D2 npz (SOURCES.md §2), and numpy (build/venv) as the oracle for the writer.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

#include "data_test_util.hpp"
#include "npz_test_util.hpp"
#include "python_util.hpp"
#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/data/npz.hpp"
#include "support/test_paths.hpp"

using namespace clcp;
using clcp::test::npy_bytes;
using clcp::test::raw_bytes;
using clcp::test::zip_bytes;
namespace fs = std::filesystem;

namespace {

std::string npz_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  return "(no error)";
}

const fs::path kRealNpz = fs::path(CLCP_REALDATA_DIR) /
                          "a2d2/camera_lidar_semantic_bboxes/20180810_142822/lidar/cam_front_center/"
                          "20180810142822_lidar_frontcenter_000015196.npz";

}  // namespace

TEST_CASE("the npy reader decodes every supported dtype with hand-made v1.0 and v2.0 headers", "[data][npz]") {
  const std::vector<double> f8 = {1.5, -2.25, 1e300, 0.0, -0.0, 3.0};
  const std::vector<float> f4 = {1.5f, -2.25f, 3.0f};
  const std::vector<int64_t> i8 = {-1, 0, (int64_t{1} << 53), 1533904617007861};
  const std::vector<int32_t> i4 = {-7, 2147483647};
  const std::vector<uint8_t> u1 = {0, 255, 7, 8, 9, 10};
  for (int major : {1, 2}) {
    INFO("format " << major << ".0");
    NpyArray a = parse_npy(npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", raw_bytes(f8), major), "t");
    CHECK(a.dtype == NpyDtype::kF8);
    CHECK(a.shape == std::vector<int64_t>{2, 3});
    CHECK(a.to_doubles() == f8);
    torch::Tensor t = a.to_tensor();
    CHECK(t.dtype() == torch::kFloat64);
    CHECK(t[1][0].item<double>() == 0.0);
    CHECK(t[0][2].item<double>() == 1e300);

    a = parse_npy(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", raw_bytes(f4), major), "t");
    CHECK(a.dtype == NpyDtype::kF4);
    CHECK(a.to_tensor().dtype() == torch::kFloat32);
    CHECK(a.to_doubles() == std::vector<double>{1.5, -2.25, 3.0});

    a = parse_npy(npy_bytes("{'descr': '<i8', 'fortran_order': False, 'shape': (4,), }", raw_bytes(i8), major), "t");
    CHECK(a.to_tensor()[3].item<int64_t>() == 1533904617007861);
    CHECK(a.to_tensor()[2].item<int64_t>() == (int64_t{1} << 53));

    a = parse_npy(npy_bytes("{'descr': '<i4', 'fortran_order': False, 'shape': (1, 2), }", raw_bytes(i4), major), "t");
    CHECK(a.to_tensor().dtype() == torch::kInt32);
    CHECK(a.to_doubles() == std::vector<double>{-7, 2147483647});

    a = parse_npy(npy_bytes("{'descr': '|u1', 'fortran_order': False, 'shape': (1, 2, 3), }", raw_bytes(u1), major), "t");
    CHECK(a.shape == std::vector<int64_t>{1, 2, 3});
    CHECK(a.to_tensor()[0][0][1].item<uint8_t>() == 255);
  }
  // 0-d, empty and key order / spacing as Python 2-era writers produced them.
  NpyArray s = parse_npy(npy_bytes("{'shape': (), 'descr': '<f8', 'fortran_order': False}", raw_bytes(std::vector<double>{4.5})), "t");
  CHECK(s.shape.empty());
  CHECK(s.numel() == 1);
  CHECK(s.to_doubles() == std::vector<double>{4.5});
  NpyArray e = parse_npy(npy_bytes("{'descr':'<f8','fortran_order':False,'shape':(0, 3)}", ""), "t");
  CHECK(e.shape == std::vector<int64_t>{0, 3});
  CHECK(e.numel() == 0);
  CHECK(e.to_tensor().sizes() == std::vector<int64_t>{0, 3});
  NpyArray l = parse_npy(npy_bytes("{\"descr\": \"<i4\", \"fortran_order\": False, \"shape\": (2L,)}", raw_bytes(i4)), "t");
  CHECK(l.shape == std::vector<int64_t>{2});
}

TEST_CASE("the npy reader names the file, the member and the fix for every bad header", "[data][npz]") {
  const std::string d8 = raw_bytes(std::vector<double>{1, 2});
  auto err = [](const std::string& bytes) { return npz_error([&] { parse_npy(bytes, "f.npz member x.npy"); }); };
  const std::string e1 = err(npy_bytes("{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }", d8));
  CHECK(e1 == "f.npz member x.npy: unsupported dtype '>f8'; supported are <f8 <f4 <i8 <i4 |u1 (little-endian); "
              "convert the array, e.g. a.astype('<f8')");
  CHECK_THAT(err(npy_bytes("{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", d8)), Catch::Contains("unsupported dtype '<f2'"));
  CHECK_THAT(err(npy_bytes("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", d8)), Catch::Contains("unsupported dtype '|O'"));
  CHECK(err(npy_bytes("{'descr': '<f8', 'fortran_order': True, 'shape': (2,), }", d8)) ==
        "f.npz member x.npy: array is stored in Fortran order; only C order is supported; re-save it with "
        "np.ascontiguousarray(a)");
  CHECK(err(npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", d8)) ==
        "f.npz member x.npy: array data truncated: shape (3,) of <f8 needs 24 bytes, the member holds 16; "
        "re-download or regenerate the file");
  CHECK_THAT(err(npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", d8)), Catch::Contains("8 bytes after the array data"));
  CHECK_THAT(err("PK\x03\x04 not npy"), Catch::Contains("not a .npy array (missing the \\x93NUMPY magic)"));
  std::string v4 = npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", d8);
  v4[6] = 4;
  CHECK_THAT(err(v4), Catch::Contains(".npy format version 4.0 is not supported"));
  CHECK_THAT(err(npy_bytes("{'descr': '<f8', 'shape': (2,), }", d8)), Catch::Contains("lacks one of 'descr', 'fortran_order', 'shape'"));
  CHECK_THAT(err(npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (-2,), }", d8)), Catch::Contains("negative dimension -2"));
  CHECK_THAT(err(npy_bytes("[1, 2]", d8)), Catch::Contains("header is not the dict numpy writes"));
  CHECK_THAT(err(npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", d8).substr(0, 30)),
             Catch::Contains(".npy header truncated"));
}

TEST_CASE("encode_npy writes numpy's exact header: sorted keys, growth room, 64-byte alignment", "[data][npz]") {
  NpyArray a;
  a.dtype = NpyDtype::kF8;
  a.shape = {8196, 3};
  a.data.assign(8196 * 3 * 8, '\0');
  const std::string b = encode_npy(a);
  // numpy 1.24.4 and 2.3.5 both write this 118-byte header for np.zeros((8196, 3)) (see the numpy oracle test below).
  CHECK(b.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
  CHECK(static_cast<uint8_t>(b[8]) == 118);
  CHECK(b[9] == 0);
  const std::string h = b.substr(10, 118);
  CHECK(h.rfind("{'descr': '<f8', 'fortran_order': False, 'shape': (8196, 3), }", 0) == 0);
  CHECK(h.back() == '\n');
  CHECK((10 + h.size()) % 64 == 0);
  CHECK(b.size() == 128 + 8196 * 3 * 8);
  // Round trip, 0-d and 1-d shapes.
  NpyArray s;
  s.dtype = NpyDtype::kI4;
  s.data = raw_bytes(std::vector<int32_t>{42});
  CHECK(encode_npy(s).substr(10, 39) == "{'descr': '<i4', 'fortran_order': False");
  CHECK(parse_npy(encode_npy(s), "t").to_doubles() == std::vector<double>{42});
  NpyArray v = npy_from_tensor(torch::arange(5, torch::kInt64));
  CHECK(encode_npy(v).find("'shape': (5,), }") != std::string::npos);
  CHECK(parse_npy(encode_npy(v), "t").to_tensor().equal(torch::arange(5, torch::kInt64)));
}

TEST_CASE("the npz reader decodes members in archive order and refuses damaged archives in one line", "[data][npz]") {
  const std::string pts = npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }",
                                    raw_bytes(std::vector<double>{1, 2, 3, 4, 5, 6}));
  const std::string refl = npy_bytes("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }",
                                     raw_bytes(std::vector<int64_t>{7, 251}));
  const std::string zip = zip_bytes({{"reflectance.npy", refl}, {"notes.txt", "hello"}, {"points.npy", pts}});
  NpzArchive a = parse_npz(zip, "x.npz");
  CHECK(a.keys() == std::vector<std::string>{"reflectance", "points"});  // the .txt member is ignored
  REQUIRE(a.find("points"));
  CHECK(a.find("points")->to_doubles() == std::vector<double>{1, 2, 3, 4, 5, 6});
  CHECK(a.find("reflectance")->to_tensor()[1].item<int64_t>() == 251);
  CHECK(a.find("row") == nullptr);
  // Stored (uncompressed) members load too (np.savez).
  CHECK(parse_npz(zip_bytes({{"points.npy", pts}}, false), "x.npz").find("points")->numel() == 6);

  CHECK(npz_error([] { parse_npz("this is not a zip archive at all", "bad.npz"); }) ==
        "bad.npz: not a zip archive (an .npz must be one; a truncated file also loses the zip directory at its end); "
        "re-download or regenerate the file");
  CHECK_THAT(npz_error([&] { parse_npz(zip.substr(0, zip.size() / 2), "cut.npz"); }), Catch::Contains("cut.npz: not a zip archive"));
  // A member whose npy payload is shorter than its header says.
  const std::string short_pts = pts.substr(0, pts.size() - 8);
  CHECK(npz_error([&] { parse_npz(zip_bytes({{"points.npy", short_pts}}), "t.npz"); }) ==
        "t.npz member points.npy: array data truncated: shape (2, 3) of <f8 needs 48 bytes, the member holds 40; "
        "re-download or regenerate the file");
  // A damaged deflate stream / CRC inside the archive.
  std::string damaged = zip_bytes({{"points.npy", pts}}, false);
  const size_t at = damaged.find("\x93NUMPY") + 100;
  damaged[at] = static_cast<char>(damaged[at] ^ 0x5a);
  CHECK(npz_error([&] { parse_npz(damaged, "d.npz"); }) ==
        "d.npz: member points.npy fails its CRC check (damaged); re-download or regenerate the file");
  std::string bad_deflate = zip_bytes({{"points.npy", pts}});
  // First local header: 30 fixed bytes, the name, the extra field (lengths at offsets 26 and 28).
  const size_t hdr = 30 + static_cast<uint8_t>(bad_deflate[26]) + static_cast<uint8_t>(bad_deflate[28]);
  for (size_t i = hdr + 2; i < hdr + 12; ++i) bad_deflate[i] = '\xff';
  CHECK_THAT(npz_error([&] { parse_npz(bad_deflate, "z.npz"); }), Catch::Contains("z.npz: member points.npy"));
  // Unsupported dtype and Fortran order inside an archive name the member.
  CHECK_THAT(npz_error([] {
               parse_npz(zip_bytes({{"row.npy", npy_bytes("{'descr': '<c16', 'fortran_order': False, 'shape': (0,), }", "")}}), "c.npz");
             }),
             Catch::Contains("c.npz member row.npy: unsupported dtype '<c16'"));
  CHECK_THAT(npz_error([&] {
               parse_npz(zip_bytes({{"points.npy", npy_bytes("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }",
                                                             raw_bytes(std::vector<double>(6)))}}), "f.npz");
             }),
             Catch::Contains("f.npz member points.npy: array is stored in Fortran order"));
}

TEST_CASE("read_npz_headers reads dtypes and shapes without the array data", "[data][npz]") {
  clcp::test::TempDir tmp;
  std::vector<NpzMember> m = {{"points", npy_from_tensor(torch::zeros({5, 3}, torch::kFloat64))},
                              {"reflectance", npy_from_tensor(torch::arange(5, torch::kInt64))},
                              {"empty", npy_from_tensor(torch::zeros({0, 3}, torch::kFloat64))}};
  write_npz(tmp.path() / "a.npz", m);
  const auto h = read_npz_headers(tmp.path() / "a.npz");
  REQUIRE(h.size() == 3);
  CHECK(h[0].key == "points");
  CHECK(h[0].array.shape == std::vector<int64_t>{5, 3});
  CHECK(h[0].array.data.empty());
  CHECK(h[1].array.dtype == NpyDtype::kI8);
  CHECK(h[2].array.shape == std::vector<int64_t>{0, 3});
  const NpzArchive full = read_npz(tmp.path() / "a.npz");
  CHECK(full.find("reflectance")->to_tensor().equal(torch::arange(5, torch::kInt64)));
}

TEST_CASE("encode_npz is deterministic, deflates every member and numpy loads the same arrays", "[data][npz][numpy]") {
  std::vector<NpzMember> m;
  m.push_back({"azimuth", npy_from_tensor(torch::arange(7, torch::kFloat64) * 0.897)});
  m.push_back({"reflectance", npy_from_tensor(torch::tensor({1, 251, 0, 7}, torch::kInt64))});
  m.push_back({"points", npy_from_tensor(torch::arange(12, torch::kFloat64).reshape({4, 3}) * 0.5 - 1.25)});
  m.push_back({"f4", npy_from_tensor(torch::tensor({1.5f, -3.25f}))});
  m.push_back({"i4", npy_from_tensor(torch::tensor({-5, 9}, torch::kInt32))});
  m.push_back({"u1", npy_from_tensor(torch::arange(24, torch::kUInt8).reshape({2, 3, 4}))});
  m.push_back({"empty", npy_from_tensor(torch::zeros({0, 3}, torch::kFloat64))});
  m.push_back({"scalar", npy_from_tensor(torch::tensor(2.5, torch::kFloat64))});
  const std::string a = encode_npz(m), b = encode_npz(m);
  CHECK(a == b);
  const NpzArchive back = parse_npz(a, "mem");
  REQUIRE(back.members.size() == m.size());
  for (size_t i = 0; i < m.size(); ++i) {
    CHECK(back.members[i].key == m[i].key);
    CHECK(back.members[i].array.data == m[i].array.data);
    CHECK(back.members[i].array.shape == m[i].array.shape);
  }
  // Every member deflated (compression method 8 in each local header "PK\3\4", offset 8).
  size_t headers = 0;
  for (size_t p = a.find("PK\x03\x04"); p != std::string::npos; p = a.find("PK\x03\x04", p + 4)) {
    CHECK(static_cast<uint8_t>(a[p + 8]) == 8);
    ++headers;
  }
  CHECK(headers == m.size());

  if (!fs::exists(clcp::test::venv_python())) {
    WARN("skipped the numpy half: no build/venv python at " << clcp::test::venv_python());
    return;
  }
  clcp::test::TempDir tmp;
  const fs::path dir = tmp.path();
  write_atomic(dir / "ours.npz", a);
  // numpy loads our archive, compares each array with its own construction, and checks that np.save's .npy bytes equal
  // our decompressed members (the header padding included).
  const int rc = clcp::test::run_snippet(clcp::test::venv_python(), dir, R"(
import sys, io, zipfile, numpy as np
d = sys.argv[1]
z = np.load(d + "/ours.npz")
want = {
  "azimuth": np.arange(7, dtype="<f8") * 0.897, "reflectance": np.array([1, 251, 0, 7], dtype="<i8"),
  "points": np.arange(12, dtype="<f8").reshape(4, 3) * 0.5 - 1.25, "f4": np.array([1.5, -3.25], dtype="<f4"),
  "i4": np.array([-5, 9], dtype="<i4"), "u1": np.arange(24, dtype="|u1").reshape(2, 3, 4),
  "empty": np.zeros((0, 3)), "scalar": np.array(2.5)}
assert list(z.keys()) == list(want.keys()), list(z.keys())
zf = zipfile.ZipFile(d + "/ours.npz")
for k, v in want.items():
    got = z[k]
    assert got.dtype == v.dtype and got.shape == v.shape, (k, got.dtype, got.shape)
    assert np.array_equal(got, v), k
    b = io.BytesIO(); np.save(b, v)
    assert zf.read(k + ".npy") == b.getvalue(), k
    assert zf.getinfo(k + ".npy").compress_type == zipfile.ZIP_DEFLATED, k
print("ok")
)");
  INFO(clcp::test::snippet_log(dir));
  CHECK(rc == 0);
}

TEST_CASE("the real A2D2 lidar npz decodes with the member order, dtypes and values SOURCES.md lists", "[data][npz][realdata]") {
  if (!fs::exists(kRealNpz)) {
    WARN("skipped: " << kRealNpz.string() << " absent (real A2D2 sample)");
    return;
  }
  const NpzArchive a = read_npz(kRealNpz);
  CHECK(a.keys() == std::vector<std::string>{"azimuth", "row", "lidar_id", "depth", "reflectance", "col", "points",
                                             "timestamp", "distance"});
  const std::vector<std::pair<std::string, NpyDtype>> dtypes = {
      {"azimuth", NpyDtype::kF8}, {"row", NpyDtype::kF8},    {"lidar_id", NpyDtype::kF8},
      {"depth", NpyDtype::kF8},   {"reflectance", NpyDtype::kI8}, {"col", NpyDtype::kF8},
      {"points", NpyDtype::kF8},  {"timestamp", NpyDtype::kI8},   {"distance", NpyDtype::kF8}};
  for (const auto& [k, t] : dtypes) {
    INFO(k);
    REQUIRE(a.find(k));
    CHECK(a.find(k)->dtype == t);
    CHECK(a.find(k)->shape == (k == "points" ? std::vector<int64_t>{8196, 3} : std::vector<int64_t>{8196}));
  }
  const torch::Tensor row = a.find("row")->to_tensor(), col = a.find("col")->to_tensor();
  CHECK(row.min().item<double>() == Approx(-0.0497).margin(1e-4));  // slightly negative, as SOURCES.md notes
  CHECK(row.max().item<double>() == Approx(1207.49).margin(0.01));
  CHECK(col.min().item<double>() == Approx(0.285).margin(1e-3));
  CHECK(col.max().item<double>() == Approx(1919.33).margin(0.01));
  const torch::Tensor refl = a.find("reflectance")->to_tensor();
  CHECK(refl.min().item<int64_t>() == 1);
  CHECK(refl.max().item<int64_t>() == 251);
  const torch::Tensor ids = a.find("lidar_id")->to_tensor();
  for (auto [id, n] : std::vector<std::pair<int, int64_t>>{{0, 2148}, {1, 648}, {2, 1922}, {3, 2789}, {4, 689}})
    CHECK((ids == id).sum().item<int64_t>() == n);
  const torch::Tensor ts = a.find("timestamp")->to_tensor();
  CHECK(ts.min().item<int64_t>() == 1533904617007861);
  CHECK(ts.max().item<int64_t>() == 1533904617109635);
  // depth is the forward coordinate and distance the norm of points (the A2D2 tutorial's definitions).
  const torch::Tensor pts = a.find("points")->to_tensor();
  CHECK(pts.select(1, 0).equal(a.find("depth")->to_tensor()));
  CHECK((pts.norm(2, 1) - a.find("distance")->to_tensor()).abs().max().item<double>() < 1e-12);
  // The header-only scan agrees.
  const auto h = read_npz_headers(kRealNpz);
  REQUIRE(h.size() == 9);
  CHECK(h[6].key == "points");
  CHECK(h[6].array.shape == std::vector<int64_t>{8196, 3});
}
