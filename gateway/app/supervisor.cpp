#include "app/supervisor.hpp"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <ctime>
#include <deque>
#include <vector>

#include "log/log.hpp"

namespace sb::app {
namespace {

struct Worker {
  pid_t pid = -1;
  std::deque<std::chrono::steady_clock::time_point> starts;  // restarts within the last minute
};

pid_t startWorker(const std::string& self, const std::string& config_path, unsigned index,
                  const sigset_t& original_mask) {
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid != 0) return pid;  // parent, or -1
  // The worker: the signal mask of the daemon, and it stops if the supervisor goes away.
  sigprocmask(SIG_SETMASK, &original_mask, nullptr);
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent) _exit(1);
  const std::string index_text = std::to_string(index);
  execl(self.c_str(), self.c_str(), "--config", config_path.c_str(), "--worker", index_text.c_str(),
        static_cast<char*>(nullptr));
  _exit(127);
}

}  // namespace

int superviseWorkers(const std::string& self, const std::string& config_path, unsigned workers) {
  sigset_t handled;
  sigemptyset(&handled);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&handled, s);
  sigset_t original;
  sigprocmask(SIG_BLOCK, &handled, &original);

  std::vector<Worker> pool(workers);
  bool stopping = false;
  bool failed = false;
  auto start = [&](unsigned i) {
    auto now = std::chrono::steady_clock::now();
    auto& starts = pool[i].starts;
    while (!starts.empty() && now - starts.front() > std::chrono::minutes(1)) starts.pop_front();
    if (starts.size() >= 6) {  // the first start and 5 restarts within a minute
      SB_LOG(log::Level::Error, log::Line("worker_restart_limit")
                                    .kv("worker", i)
                                    .kv("restarts_per_minute", starts.size() - 1));
      return false;
    }
    starts.push_back(now);
    pool[i].pid = startWorker(self, config_path, i, original);
    if (pool[i].pid < 0) {
      SB_LOG(log::Level::Error,
             log::Line("worker_start_failed").kv("worker", i).kv("error", std::strerror(errno)));
      return false;
    }
    SB_LOG(log::Level::Info, log::Line("worker_started").kv("worker", i).kv("pid", pool[i].pid));
    return true;
  };
  auto signalAll = [&](int sig) {
    for (const auto& w : pool) {
      if (w.pid > 0) kill(w.pid, sig);
    }
  };
  auto stopAll = [&] {
    if (!stopping) signalAll(SIGTERM);
    stopping = true;
  };

  SB_LOG(log::Level::Info, log::Line("supervisor_started").kv("workers", workers));
  for (unsigned i = 0; i < workers && !failed; ++i) failed = !start(i);
  if (failed) stopAll();

  for (;;) {
    bool alive = false;
    for (const auto& w : pool) alive = alive || w.pid > 0;
    if (!alive) break;
    siginfo_t info;
    const int sig = sigwaitinfo(&handled, &info);
    if (sig < 0) continue;
    if (sig == SIGHUP) {
      SB_LOG(log::Level::Info, log::Line("supervisor_reload").kv("workers", workers));
      signalAll(SIGHUP);
    } else if (sig == SIGTERM || sig == SIGINT) {
      SB_LOG(log::Level::Info, log::Line("supervisor_stop").kv("signal", sig));
      stopAll();
    } else if (sig == SIGCHLD) {
      int status = 0;
      pid_t pid;
      while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (unsigned i = 0; i < workers; ++i) {
          if (pool[i].pid != pid) continue;
          pool[i].pid = -1;
          const bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
          log::Line line("worker_exited");
          line.kv("worker", i).kv("pid", pid);
          if (WIFEXITED(status)) line.kv("status", WEXITSTATUS(status));
          if (WIFSIGNALED(status)) line.kv("signal", WTERMSIG(status));
          SB_LOG(stopping && clean ? log::Level::Info : log::Level::Error, line);
          if (stopping) {
            failed = failed || !clean;
          } else if (!start(i)) {
            failed = true;
            stopAll();
          }
        }
      }
    }
  }
  SB_LOG(log::Level::Info, log::Line("supervisor_exited").kv("failed", failed));
  return failed ? 1 : 0;
}

}  // namespace sb::app
