#include "suite/dist/rank_env.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

#include "suite/core/error.hpp"

namespace clcp::dist {

namespace {

using Getter = std::function<std::optional<std::string>(const std::string&)>;

int parse_int(const std::string& name, const std::string& value) {
  int n = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size())
    fail("{}={}: expected a whole number; fix the launcher's environment", name, value);
  return n;
}

int int_or(const Getter& get, const std::string& name, int fallback) {
  const auto v = get(name);
  return v ? parse_int(name, *v) : fallback;
}

void check(const RankEnv& e, const std::string& rank_var, const std::string& world_var, const std::string& local_var) {
  if (e.world < 1) fail("{}={}: expected a world size >= 1; fix the launcher's environment", world_var, e.world);
  if (e.rank < 0 || e.rank >= e.world)
    fail("{}={} with {}={}: the rank must be in [0, {}); fix the launcher's environment", rank_var, e.rank, world_var,
         e.world, e.world);
  if (e.local_rank < 0 || e.local_rank > e.rank)
    fail("{}={} with {}={}: a local rank must be in [0, global rank]; fix the launcher's environment", local_var,
         e.local_rank, rank_var, e.rank);
  if (e.master_port < 1 || e.master_port > 65535)
    fail("MASTER_PORT={}: expected a TCP port in 1..65535; set MASTER_PORT to a free port", e.master_port);
  if (e.master_addr.empty()) fail("MASTER_ADDR is empty: expected the host of rank 0; set MASTER_ADDR");
}

}  // namespace

std::string RankEnv::describe() const {
  return fmt::format("rank {} of {} ({}, master {}:{})", rank, world, source, master_addr, master_port);
}

std::string first_slurm_host(const std::string& nodelist) {
  std::string host;
  for (size_t i = 0; i < nodelist.size(); ++i) {
    const char c = nodelist[i];
    if (c == ',') break;
    if (c != '[') {
      host += c;
      continue;
    }
    const size_t close = nodelist.find(']', i);
    if (close == std::string::npos)
      fail("SLURM_JOB_NODELIST={}: an unclosed '[' (expected e.g. node[01-04]); set MASTER_ADDR to rank 0's host",
           nodelist);
    const std::string range = nodelist.substr(i + 1, close - i - 1);
    const size_t end = range.find_first_of("-,");
    const std::string first = range.substr(0, end);
    if (first.empty() || !std::all_of(first.begin(), first.end(), [](char d) { return std::isdigit(d); }))
      fail("SLURM_JOB_NODELIST={}: '[{}]' is not a numeric range; set MASTER_ADDR to rank 0's host", nodelist, range);
    host += first;  // the digits keep their zero padding ("node[003-004]" → "node003")
    i = close;
  }
  if (host.empty()) fail("SLURM_JOB_NODELIST='{}': no host in it; set MASTER_ADDR to rank 0's host", nodelist);
  return host;
}

int slurm_master_port(const std::string& job_id) {
  const int id = parse_int("SLURM_JOB_ID", job_id);
  if (id < 0) fail("SLURM_JOB_ID={}: expected a job number >= 0", job_id);
  return 15000 + id % 10000;
}

RankEnv rank_env_from(const Getter& get) {
  RankEnv e;
  const auto rank = get("RANK"), world = get("WORLD_SIZE");
  if (rank || world) {
    if (!rank || !world)
      fail("{} is set but {} is not: a torchrun-style launch sets both (and LOCAL_RANK, MASTER_ADDR, MASTER_PORT); "
           "set both or neither",
           rank ? "RANK" : "WORLD_SIZE", rank ? "WORLD_SIZE" : "RANK");
    e.source = "torchrun";
    e.rank = parse_int("RANK", *rank);
    e.world = parse_int("WORLD_SIZE", *world);
    e.local_rank = int_or(get, "LOCAL_RANK", 0);
    e.master_addr = get("MASTER_ADDR").value_or("127.0.0.1");
    e.master_port = int_or(get, "MASTER_PORT", 29500);
    e.restart = int_or(get, "TORCHELASTIC_RESTART_COUNT", 0);
    check(e, "RANK", "WORLD_SIZE", "LOCAL_RANK");
    return e;
  }
  if (const auto procid = get("SLURM_PROCID")) {
    e.source = "slurm";
    e.rank = parse_int("SLURM_PROCID", *procid);
    e.world = int_or(get, "SLURM_NTASKS", 1);
    e.local_rank = int_or(get, "SLURM_LOCALID", 0);
    if (const auto addr = get("MASTER_ADDR")) {
      e.master_addr = *addr;
    } else if (const auto nodes = get("SLURM_JOB_NODELIST") ? get("SLURM_JOB_NODELIST") : get("SLURM_NODELIST")) {
      e.master_addr = first_slurm_host(*nodes);
    }
    if (const auto port = get("MASTER_PORT")) {
      e.master_port = parse_int("MASTER_PORT", *port);
    } else if (const auto job = get("SLURM_JOB_ID")) {
      e.master_port = slurm_master_port(*job);
    }
    e.restart = int_or(get, "SLURM_RESTART_COUNT", 0);
    check(e, "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID");
    return e;
  }
  return e;
}

RankEnv rank_env() {
  return rank_env_from([](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    return v ? std::optional<std::string>(v) : std::nullopt;
  });
}

}  // namespace clcp::dist
