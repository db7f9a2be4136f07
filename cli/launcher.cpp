#include "launcher.h"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "checkpointing.h"
#include "common.h"
#include "diffeo/core/error.h"
#include "diffeo/distributed/rendezvous.h"

extern char** environ;

namespace diffeo::cli {

namespace {

// The launcher's own options, which workers must not see.
const std::vector<std::string> kLauncherOptions{"--nproc", "--nnodes", "--node-rank",
                                                "--master-addr", "--master-port"};
// torchrun's variables, which the launcher sets afresh for each worker.
const std::vector<std::string> kRunVariables{"WORLD_SIZE", "RANK", "LOCAL_RANK",
                                             "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"};

// This command line without the launcher's options ("--nproc 2" or "--nproc=2").
std::vector<std::string> worker_arguments() {
  std::vector<std::string> kept;
  const auto& all = command_line();
  for (size_t i = 0; i < all.size(); ++i) {
    bool launcher_option = false;
    for (const auto& option : kLauncherOptions) {
      if (all[i] == option) {
        launcher_option = true;
        ++i;  // its value
      } else if (all[i].rfind(option + "=", 0) == 0) {
        launcher_option = true;
      }
    }
    if (!launcher_option) kept.push_back(all[i]);
  }
  return kept;
}

// The environment of worker `rank`: ours without torchrun's variables, plus them.
std::vector<std::string> worker_environment(int rank, int local_rank, int nproc, int world_size,
                                            const std::string& address, int port) {
  std::vector<std::string> variables;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text = *entry;
    bool ours = false;
    for (const auto& name : kRunVariables) ours = ours || text.rfind(name + "=", 0) == 0;
    if (!ours) variables.push_back(text);
  }
  variables.push_back("WORLD_SIZE=" + std::to_string(world_size));
  variables.push_back("RANK=" + std::to_string(rank));
  variables.push_back("LOCAL_RANK=" + std::to_string(local_rank));
  variables.push_back("LOCAL_WORLD_SIZE=" + std::to_string(nproc));
  variables.push_back("MASTER_ADDR=" + address);
  variables.push_back("MASTER_PORT=" + std::to_string(port));
  return variables;
}

std::vector<char*> pointers(std::vector<std::string>& texts) {
  std::vector<char*> result;
  for (auto& text : texts) result.push_back(text.data());
  result.push_back(nullptr);
  return result;
}

std::atomic<int> pending_signal{0};
extern "C" void remember_signal(int signal) { pending_signal.store(signal); }

// "exit status 3" or "killed by signal 9 (Killed)".
std::string describe(int status) {
  if (WIFSIGNALED(status))
    return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  return "exit status " + std::to_string(WEXITSTATUS(status));
}

struct Worker {
  pid_t pid = 0;
  int rank = 0;
  bool running = false;
};

}  // namespace

bool launches_workers(const TrainArgs& a) { return a.nproc > 0; }

void launch_workers(const TrainArgs& a, const std::string& command) {
  if (std::getenv("WORLD_SIZE") != nullptr)
    throw UsageError(command, "--nproc starts the workers itself; under a launcher that sets "
                              "WORLD_SIZE (torchrun, SLURM) leave --nproc out");
  if (a.nnodes < 1 || a.node_rank < 0 || a.node_rank >= a.nnodes)
    throw UsageError(command, "--node-rank must lie in 0..--nnodes - 1 and --nnodes be >= 1, got " +
                                  std::to_string(a.node_rank) + " of " + std::to_string(a.nnodes));
  if (a.nnodes > 1 && a.master_addr.empty())
    throw UsageError(command, "--nnodes " + std::to_string(a.nnodes) +
                                  " needs --master-addr (the host of node 0)");
  if (a.master_port < 0 || a.master_port > 65535)
    throw UsageError(command, "--master-port must lie in 1..65535, got " + std::to_string(a.master_port));
  const int nproc = static_cast<int>(a.nproc), world_size = nproc * static_cast<int>(a.nnodes);
  const std::string address = a.master_addr.empty() ? "127.0.0.1" : a.master_addr;
  const int port = a.master_port > 0 ? a.master_port
                   : a.nnodes == 1   ? distributed::free_loopback_port()
                                     : 29500;

  // Everything a child needs, built before fork: after it only exec.
  auto arguments = worker_arguments();
  auto argv = pointers(arguments);
  struct sigaction handler {};
  handler.sa_handler = remember_signal;
  sigemptyset(&handler.sa_mask);
  struct sigaction old_int {}, old_term {};
  sigaction(SIGINT, &handler, &old_int);
  sigaction(SIGTERM, &handler, &old_term);
  const pid_t launcher = getpid();
  std::vector<Worker> workers(nproc);
  for (int local = 0; local < nproc; ++local) {
    const int rank = static_cast<int>(a.node_rank) * nproc + local;
    auto environment = worker_environment(rank, local, nproc, world_size, address, port);
    auto envp = pointers(environment);
    const pid_t pid = fork();
    if (pid < 0) {
      for (auto& w : workers)
        if (w.running) kill(w.pid, SIGKILL);
      throw Error(command + ": cannot start worker " + std::to_string(rank) + ": " + std::strerror(errno));
    }
    if (pid == 0) {
      // Die with the launcher; Ctrl-C on the terminal reaches the launcher
      // only, which passes it on once.
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != launcher) _exit(1);
      setpgid(0, 0);
      signal(SIGINT, SIG_DFL);
      signal(SIGTERM, SIG_DFL);
      execve("/proc/self/exe", argv.data(), envp.data());
      _exit(127);
    }
    workers[local] = {pid, rank, true};
  }

  using Clock = std::chrono::steady_clock;
  int running = nproc, interrupted = 0;
  // Workers that failed on their own, before the launcher stopped the rest:
  // when one dies, its peers fail within milliseconds too (their collectives
  // break), so the launcher waits a moment and names a worker killed by a
  // signal (the likely cause) before one that exited with an error.
  struct Failure {
    int rank;
    pid_t pid;
    int status;
  };
  std::vector<Failure> failures;
  bool stopping = false;  // the launcher has told the remaining workers to stop
  Clock::time_point stop_at = Clock::time_point::max(), kill_at = Clock::time_point::max();
  while (running > 0) {
    if (const int signal = pending_signal.exchange(0); signal != 0) {
      interrupted = signal;
      for (const auto& w : workers)
        if (w.running) kill(w.pid, signal);
    }
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      for (auto& w : workers) {
        if (w.pid != pid || !w.running) continue;
        w.running = false;
        --running;
        const bool ok = (WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
                        (interrupted != 0 && WIFEXITED(status) && WEXITSTATUS(status) == 128 + interrupted);
        if (!ok && !stopping) {
          failures.push_back({w.rank, pid, status});
          stop_at = std::min(stop_at, Clock::now() + std::chrono::milliseconds(200));
        }
      }
      continue;
    }
    const auto now = Clock::now();
    if (now >= stop_at) {  // stop the rest: SIGTERM, SIGKILL after 10 s
      for (const auto& w : workers)
        if (w.running) kill(w.pid, SIGTERM);
      stopping = true;
      stop_at = Clock::time_point::max();
      kill_at = now + std::chrono::seconds(10);
    }
    if (now >= kill_at) {
      for (const auto& w : workers)
        if (w.running) kill(w.pid, SIGKILL);
      kill_at = Clock::time_point::max();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);

  if (!failures.empty()) {
    auto cause = failures.front();
    for (const auto& f : failures)
      if (WIFSIGNALED(f.status) && !WIFSIGNALED(cause.status)) cause = f;
    const auto checkpoint = checkpoint_path(a);
    throw Error(command + ": rank " + std::to_string(cause.rank) + " (pid " + std::to_string(cause.pid) +
                ") " + describe(cause.status) + "; the other workers were stopped; " +
                (std::filesystem::exists(checkpoint)
                     ? "the last checkpoint '" + checkpoint +
                           "' is intact: continue with the same command and --resume"
                     : std::string("no checkpoint had been written yet")));
  }
  if (interrupted != 0) throw Interrupted("", interrupted);  // rank 0 said where it stopped
}

int rank_of(const distributed::ProcessGroup& group) { return group ? group->getRank() : 0; }

}  // namespace diffeo::cli
