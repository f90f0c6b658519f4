// The daemon's one event loop: a Boost.Asio io_context run by a small,
// fixed number of threads. The actors, the admin server and every HTTP
// connection of the S3 stores share it; each keeps its own state serial on
// a strand of it, so the thread count only sets how many handlers may run
// at once. CPU-heavy work does not belong here (base/thread_pool.h).
//
// Life cycle: the threads start in the constructor and run the loop until
// Stop(). Handlers still queued at Stop() are never run; they are destroyed
// with the loop. A program that has no daemon (the reader library, the CLI
// tools) lets each HTTP client bring a private one-thread loop instead.
//
// This header is Asio-free (io_context is only declared); code that uses
// context() includes <boost/asio/io_context.hpp> itself.
//
// Thread-safety: every method may be called from any thread, except Stop()
// and the destructor, which REQUIRE not being called from a loop thread
// (they join the threads).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace freshet {

class IoLoop {
 public:
  // Starts `threads` threads (at least 1) named "<name>-<i>".
  explicit IoLoop(unsigned threads, std::string name = "io");
  ~IoLoop();  // Stop()
  IoLoop(const IoLoop&) = delete;
  IoLoop& operator=(const IoLoop&) = delete;

  boost::asio::io_context& context() { return *io_; }
  unsigned threads() const { return static_cast<unsigned>(threads_.size()); }
  // True from construction until Stop() begins: handlers posted now will
  // run, so a thread outside the loop may wait for them.
  bool running() const { return running_.load(); }
  // True on one of this loop's threads.
  bool InLoopThread() const;

  // Stops the loop and joins its threads; idempotent.
  void Stop();

 private:
  struct Guard;
  std::unique_ptr<boost::asio::io_context> io_;
  std::unique_ptr<Guard> guard_;  // keeps run() from returning when idle
  std::vector<std::thread> threads_;
  std::atomic<bool> running_{true};
};

}  // namespace freshet
