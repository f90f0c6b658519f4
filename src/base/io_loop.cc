#include "base/io_loop.h"

#include <pthread.h>

#include <algorithm>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace freshet {

struct IoLoop::Guard {
  explicit Guard(boost::asio::io_context& io) : work(boost::asio::make_work_guard(io)) {}
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work;
};

// One thread: concurrency hint 1 lets Asio's scheduler skip the work it
// does to wake other threads (posting from other threads stays safe).
IoLoop::IoLoop(unsigned threads, std::string name)
    : io_(std::make_unique<boost::asio::io_context>(threads <= 1 ? 1 : static_cast<int>(threads))),
      guard_(std::make_unique<Guard>(*io_)) {
  threads = std::max(1u, threads);
  threads_.reserve(threads);
  for (unsigned i = 0; i < threads; i++) {
    threads_.emplace_back([io = io_.get()] { io->run(); });
    std::string thread_name = (name + "-" + std::to_string(i)).substr(0, 15);
    pthread_setname_np(threads_.back().native_handle(), thread_name.c_str());
  }
}

IoLoop::~IoLoop() { Stop(); }

bool IoLoop::InLoopThread() const {
  const std::thread::id me = std::this_thread::get_id();
  return std::any_of(threads_.begin(), threads_.end(), [me](const std::thread& t) { return t.get_id() == me; });
}

void IoLoop::Stop() {
  if (!running_.exchange(false)) return;
  guard_.reset();
  io_->stop();
  for (std::thread& t : threads_) t.join();
}

}  // namespace freshet
