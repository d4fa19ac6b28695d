// Where this process stands in a data-parallel job: rank, world size, local rank and the rendezvous address, read
// from the launcher's environment (scaleout_reference.md §2.3). Precedence: the torchrun-style variables (torchrun,
// `clcp-bench pretrain --nproc`, or a manual launch), then Slurm's (inside `srun`), then a single process:
//
//   meaning       torchrun-style     Slurm (inside srun)                               default
//   rank          RANK               SLURM_PROCID                                      0
//   world size    WORLD_SIZE         SLURM_NTASKS                                      1
//   local rank    LOCAL_RANK         SLURM_LOCALID                                     0
//   master addr   MASTER_ADDR        MASTER_ADDR, else the first host of SLURM_JOB_NODELIST   127.0.0.1
//   master port   MASTER_PORT        MASTER_PORT, else 15000 + the last 4 digits of SLURM_JOB_ID (as Lightning)  29500
//   restarts      TORCHELASTIC_RESTART_COUNT   SLURM_RESTART_COUNT                     0
//
// The torchrun style is chosen when RANK or WORLD_SIZE is set (both must be); Slurm when SLURM_PROCID is set (the
// batch shell is not a task: SLURM_PROCID exists only under srun). Inconsistent values are one-line UserErrors naming
// the variables: a rank outside [0, world), a non-integer, RANK without WORLD_SIZE, a port outside 1..65535.
#pragma once
#include <functional>
#include <optional>
#include <string>

namespace clcp::dist {

struct RankEnv {
  int rank = 0, world = 1, local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  int restart = 0;                ///< launcher restart count (keys the rendezvous prefix)
  std::string source = "single";  ///< "torchrun" (the torchrun-style variables), "slurm" or "single"

  bool distributed() const { return world > 1; }
  /// "rank 1 of 2 (torchrun, master 127.0.0.1:29500)" for logs and errors.
  std::string describe() const;
};

/// Reads the variables through `get` (nullopt = unset); tests pass a map, rank_env() the process environment.
RankEnv rank_env_from(const std::function<std::optional<std::string>(const std::string&)>& get);
/// rank_env_from(std::getenv).
RankEnv rank_env();

/// The first host of a Slurm node list: "node[03-05,9],gpu1" → "node03", "a,b" → "a", "host" → "host". Throws
/// UserError for an empty or malformed list (an unclosed '[').
std::string first_slurm_host(const std::string& nodelist);
/// 15000 + the last 4 digits of a Slurm job id ("1234567" → 19567). Throws UserError for a non-number.
int slurm_master_port(const std::string& job_id);

}  // namespace clcp::dist
