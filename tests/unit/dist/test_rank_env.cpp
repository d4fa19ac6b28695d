// The rank environment of torchrun, srun and a single process (scaleout_reference.md §2.3), with known answers.
#include <catch2/catch.hpp>

#include <map>

#include "suite/core/error.hpp"
#include "suite/dist/rank_env.hpp"

using namespace clcp;
using namespace clcp::dist;

namespace {

RankEnv from(const std::map<std::string, std::string>& vars) {
  return rank_env_from([&](const std::string& k) -> std::optional<std::string> {
    const auto it = vars.find(k);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  });
}

std::string error_of(const std::map<std::string, std::string>& vars) {
  try {
    from(vars);
  } catch (const UserError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("no launcher variables mean one process: rank 0 of 1 at 127.0.0.1:29500", "[dist]") {
  const RankEnv e = from({{"PATH", "/usr/bin"}});
  CHECK(e.source == "single");
  CHECK(e.rank == 0);
  CHECK(e.world == 1);
  CHECK(e.local_rank == 0);
  CHECK(e.master_addr == "127.0.0.1");
  CHECK(e.master_port == 29500);
  CHECK_FALSE(e.distributed());
}

TEST_CASE("torchrun's variables give rank, world, local rank, master and restart count", "[dist]") {
  const RankEnv e = from({{"RANK", "5"},
                          {"WORLD_SIZE", "8"},
                          {"LOCAL_RANK", "1"},
                          {"MASTER_ADDR", "10.0.0.7"},
                          {"MASTER_PORT", "23456"},
                          {"TORCHELASTIC_RESTART_COUNT", "2"}});
  CHECK(e.source == "torchrun");
  CHECK(e.rank == 5);
  CHECK(e.world == 8);
  CHECK(e.local_rank == 1);
  CHECK(e.master_addr == "10.0.0.7");
  CHECK(e.master_port == 23456);
  CHECK(e.restart == 2);
  CHECK(e.distributed());
  CHECK(e.describe() == "rank 5 of 8 (torchrun, master 10.0.0.7:23456)");
  // Defaults for what torchrun may leave out.
  const RankEnv d = from({{"RANK", "0"}, {"WORLD_SIZE", "2"}});
  CHECK(d.local_rank == 0);
  CHECK(d.master_addr == "127.0.0.1");
  CHECK(d.master_port == 29500);
}

TEST_CASE("inside srun the Slurm variables give the ranks, the first node as master and a port from the job id",
          "[dist]") {
  const RankEnv e = from({{"SLURM_PROCID", "3"},
                          {"SLURM_NTASKS", "8"},
                          {"SLURM_LOCALID", "1"},
                          {"SLURM_JOB_NODELIST", "gpu[003-004,010],cpu7"},
                          {"SLURM_JOB_ID", "1234567"},
                          {"SLURM_RESTART_COUNT", "1"}});
  CHECK(e.source == "slurm");
  CHECK(e.rank == 3);
  CHECK(e.world == 8);
  CHECK(e.local_rank == 1);
  CHECK(e.master_addr == "gpu003");
  CHECK(e.master_port == 19567);  // 15000 + 4567, as Lightning
  CHECK(e.restart == 1);
  // MASTER_ADDR / MASTER_PORT set by the user's script win over the derived ones.
  const RankEnv m = from({{"SLURM_PROCID", "0"},
                          {"SLURM_NTASKS", "2"},
                          {"SLURM_JOB_NODELIST", "n[1-2]"},
                          {"SLURM_JOB_ID", "42"},
                          {"MASTER_ADDR", "head"},
                          {"MASTER_PORT", "31000"}});
  CHECK(m.master_addr == "head");
  CHECK(m.master_port == 31000);
  // No node list and no job id: the defaults.
  const RankEnv n = from({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}});
  CHECK(n.master_addr == "127.0.0.1");
  CHECK(n.master_port == 29500);
  CHECK_FALSE(n.distributed());
}

TEST_CASE("torchrun-style variables take precedence over Slurm's", "[dist]") {
  const RankEnv e = from({{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}});
  CHECK(e.source == "torchrun");
  CHECK(e.rank == 1);
  CHECK(e.world == 2);
}

TEST_CASE("the first host of a Slurm node list keeps its zero padding", "[dist]") {
  CHECK(first_slurm_host("node[03-05,9],gpu1") == "node03");
  CHECK(first_slurm_host("a,b") == "a");
  CHECK(first_slurm_host("host") == "host");
  CHECK(first_slurm_host("n[1]") == "n1");
  CHECK(first_slurm_host("rack1-n[7-9]") == "rack1-n7");
  CHECK(first_slurm_host("x[10,2-3]-ib") == "x10-ib");
  CHECK(slurm_master_port("7") == 15007);
  CHECK(slurm_master_port("98765") == 23765);
}

TEST_CASE("inconsistent launcher variables stop with one line naming them", "[dist]") {
  CHECK(error_of({{"RANK", "0"}}) ==
        "RANK is set but WORLD_SIZE is not: a torchrun-style launch sets both (and LOCAL_RANK, MASTER_ADDR, "
        "MASTER_PORT); set both or neither");
  CHECK(error_of({{"RANK", "2"}, {"WORLD_SIZE", "2"}}) ==
        "RANK=2 with WORLD_SIZE=2: the rank must be in [0, 2); fix the launcher's environment");
  CHECK(error_of({{"RANK", "one"}, {"WORLD_SIZE", "2"}}) ==
        "RANK=one: expected a whole number; fix the launcher's environment");
  CHECK(error_of({{"RANK", "0"}, {"WORLD_SIZE", "0"}}) ==
        "WORLD_SIZE=0: expected a world size >= 1; fix the launcher's environment");
  CHECK(error_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "70000"}}) ==
        "MASTER_PORT=70000: expected a TCP port in 1..65535; set MASTER_PORT to a free port");
  CHECK(error_of({{"SLURM_PROCID", "4"}, {"SLURM_NTASKS", "4"}}) ==
        "SLURM_PROCID=4 with SLURM_NTASKS=4: the rank must be in [0, 4); fix the launcher's environment");
  CHECK(error_of({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}, {"SLURM_JOB_NODELIST", "node[01-"}}) ==
        "SLURM_JOB_NODELIST=node[01-: an unclosed '[' (expected e.g. node[01-04]); set MASTER_ADDR to rank 0's host");
}
