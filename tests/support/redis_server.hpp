// A private redis-server for one test: free loopback port, temporary directory, no
// persistence. stop() and start() again on the same port simulate an outage; the
// destructor kills it. Throws std::runtime_error when it cannot be started.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace sb::test {

// A TCP port on 127.0.0.1 that was free a moment ago.
int freePort();

class RedisServer {
 public:
  // Starts the server; `password` non-empty adds --requirepass.
  explicit RedisServer(std::string password = "");
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Starts (again) on the same port and waits until it answers PING (at most 5 s).
  void start();
  // Terminates the server and waits for it to exit (SIGKILL after 2 s). Data is lost.
  void stop();
  bool running() const { return pid_ > 0; }

  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  // Runs one command on a fresh connection and returns the reply as text: strings and
  // status as is, integers in decimal, nil as "(nil)", errors as "(error) ...", arrays as
  // their elements joined by '\n'. Throws std::runtime_error when Redis cannot be reached.
  std::string command(const std::vector<std::string>& args) const;

 private:
  bool spawnAndWait();

  std::string password_;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace sb::test
