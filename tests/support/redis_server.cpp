#include "support/redis_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <thread>

namespace sb::test {
namespace {

constexpr const char* kRedisServer = "/usr/bin/redis-server";
constexpr auto kStartTimeout = std::chrono::seconds(5);
constexpr auto kStopTimeout = std::chrono::seconds(2);

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Context = std::unique_ptr<redisContext, ContextDeleter>;
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

Context connectTo(int port, const std::string& password) {
  const timeval tv{1, 0};
  Context c(redisConnectWithTimeout("127.0.0.1", port, tv));
  if (!c || c->err != 0) return nullptr;
  redisSetTimeout(c.get(), tv);
  if (!password.empty()) {
    ReplyPtr r(static_cast<redisReply*>(redisCommand(c.get(), "AUTH %s", password.c_str())));
    if (!r || r->type == REDIS_REPLY_ERROR) return nullptr;
  }
  return c;
}

std::string replyText(const redisReply& r) {
  switch (r.type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      return std::string(r.str, r.len);
    case REDIS_REPLY_ERROR:
      return "(error) " + std::string(r.str, r.len);
    case REDIS_REPLY_INTEGER:
      return std::to_string(r.integer);
    case REDIS_REPLY_NIL:
      return "(nil)";
    case REDIS_REPLY_ARRAY: {
      std::string out;
      for (std::size_t i = 0; i < r.elements; ++i) {
        if (i > 0) out += '\n';
        out += replyText(*r.element[i]);
      }
      return out;
    }
    default:
      return "(unknown)";
  }
}

}  // namespace

int freePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("freePort: socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    throw std::runtime_error("freePort: bind failed");
  }
  close(fd);
  return ntohs(addr.sin_port);
}

RedisServer::RedisServer(std::string password) : password_(std::move(password)) {
  char templ[] = "/tmp/sb-redis-XXXXXX";
  if (mkdtemp(templ) == nullptr) throw std::runtime_error("RedisServer: mkdtemp failed");
  dir_ = templ;
  // Another process may take the "free" port before redis binds it: try a few.
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = freePort();
    if (spawnAndWait()) return;
  }
  std::filesystem::remove_all(dir_);
  throw std::runtime_error("RedisServer: redis-server did not start (see its log in /tmp)");
}

RedisServer::~RedisServer() {
  stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void RedisServer::start() {
  if (running()) return;
  if (!spawnAndWait()) {
    throw std::runtime_error("RedisServer: redis-server did not restart on port " +
                             std::to_string(port_));
  }
}

bool RedisServer::spawnAndWait() {
  std::vector<std::string> args{kRedisServer,
                                "--port",
                                std::to_string(port_),
                                "--bind",
                                "127.0.0.1",
                                "--save",
                                "",
                                "--appendonly",
                                "no",
                                "--daemonize",
                                "no",
                                "--dir",
                                dir_,
                                "--logfile",
                                dir_ + "/redis.log"};
  if (!password_.empty()) {
    args.push_back("--requirepass");
    args.push_back(password_);
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("RedisServer: fork failed");
  if (pid == 0) {
    // Dies with the test process even when that one is killed.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    const int null_fd = open("/dev/null", O_RDWR);
    if (null_fd >= 0) {
      dup2(null_fd, STDIN_FILENO);
      dup2(null_fd, STDOUT_FILENO);
      dup2(null_fd, STDERR_FILENO);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  pid_ = pid;
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {  // exited: port taken, or bad arguments
      pid_ = -1;
      return false;
    }
    if (Context c = connectTo(port_, password_)) {
      ReplyPtr r(static_cast<redisReply*>(redisCommand(c.get(), "PING")));
      if (r && r->type == REDIS_REPLY_STATUS && std::string(r->str, r->len) == "PONG") return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop();
  return false;
}

void RedisServer::stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + kStopTimeout;
  while (true) {
    int status = 0;
    const pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_ || (done < 0 && errno != EINTR)) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  pid_ = -1;
}

std::string RedisServer::command(const std::vector<std::string>& args) const {
  Context c = connectTo(port_, password_);
  if (!c) throw std::runtime_error("RedisServer: cannot connect to " + address());
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  for (const std::string& a : args) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  }
  ReplyPtr r(static_cast<redisReply*>(
      redisCommandArgv(c.get(), static_cast<int>(argv.size()), argv.data(), lengths.data())));
  if (!r) throw std::runtime_error("RedisServer: command failed on " + address());
  return replyText(*r);
}

}  // namespace sb::test
