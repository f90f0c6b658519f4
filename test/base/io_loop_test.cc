// IoLoop: handlers run on the loop's own threads, several at once when it
// has several; Stop() joins them and leaves queued handlers unrun.
#include "base/io_loop.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

namespace freshet {
namespace {

TEST(IoLoopTest, RunsHandlersOnItsOwnThreads) {
  IoLoop loop(1);
  EXPECT_EQ(loop.threads(), 1u);
  EXPECT_TRUE(loop.running());
  EXPECT_FALSE(loop.InLoopThread());
  std::promise<bool> on_loop;
  boost::asio::post(loop.context(), [&] { on_loop.set_value(loop.InLoopThread()); });
  EXPECT_TRUE(on_loop.get_future().get());
}

TEST(IoLoopTest, SeveralThreadsRunHandlersAtOnce) {
  IoLoop loop(3);
  ASSERT_EQ(loop.threads(), 3u);
  // Three handlers that each wait for the others: they can only finish if
  // three threads run them at the same time.
  std::mutex mu;
  std::condition_variable cv;
  int arrived = 0;
  std::set<std::thread::id> ids;
  std::promise<void> done[3];
  for (int i = 0; i < 3; i++) {
    boost::asio::post(loop.context(), [&, i] {
      std::unique_lock lock(mu);
      arrived++;
      ids.insert(std::this_thread::get_id());
      cv.notify_all();
      cv.wait(lock, [&] { return arrived == 3; });
      done[i].set_value();
    });
  }
  for (auto& d : done) {
    ASSERT_EQ(d.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
  }
  EXPECT_EQ(ids.size(), 3u);
}

TEST(IoLoopTest, StopJoinsAndLeavesQueuedHandlersUnrun) {
  auto token = std::make_shared<int>(0);
  std::atomic<bool> ran{false};
  {
    IoLoop loop(2);
    loop.Stop();
    EXPECT_FALSE(loop.running());
    boost::asio::post(loop.context(), [&ran, token] { ran = true; });
    loop.Stop();  // idempotent
    EXPECT_EQ(token.use_count(), 2);  // queued, not run
  }
  EXPECT_FALSE(ran.load());
  EXPECT_EQ(token.use_count(), 1);  // destroyed with the loop
}

TEST(IoLoopTest, ZeroThreadsMeansOne) {
  IoLoop loop(0);
  EXPECT_EQ(loop.threads(), 1u);
}

}  // namespace
}  // namespace freshet
