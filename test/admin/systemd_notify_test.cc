#include "admin/systemd_notify.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <thread>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "testing/temp_dir.h"

namespace freshet {
namespace {

using namespace std::chrono_literals;

// Saves the variables sd_notify and sd_watchdog_enabled read, clears them,
// and puts them back afterwards, so tests neither see the runner's systemd
// (a CI job under a unit has $NOTIFY_SOCKET) nor leak into each other.
class SystemdNotifyTest : public ::testing::Test {
 protected:
  static constexpr const char* kVars[] = {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"};

  void SetUp() override {
    for (const char* v : kVars) {
      const char* value = std::getenv(v);
      saved_.push_back(value == nullptr ? std::nullopt : std::optional<std::string>(value));
      ::unsetenv(v);
    }
  }
  void TearDown() override {
    for (size_t i = 0; i < saved_.size(); ++i) {
      if (saved_[i]) {
        ::setenv(kVars[i], saved_[i]->c_str(), 1);
      } else {
        ::unsetenv(kVars[i]);
      }
    }
    if (fd_ >= 0) ::close(fd_);
  }

  // Binds a datagram socket in the temp dir (what systemd listens on) and
  // points $NOTIFY_SOCKET at it.
  void Listen() {
    socket_path_ = dir_.Join("notify.sock");
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    ASSERT_LT(socket_path_.size(), sizeof addr.sun_path) << socket_path_;
    std::memcpy(addr.sun_path, socket_path_.data(), socket_path_.size());
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd_, 0) << std::strerror(errno);
    ASSERT_EQ(::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
    ASSERT_EQ(::setenv("NOTIFY_SOCKET", socket_path_.c_str(), 1), 0);
  }

  // The next datagram, or nullopt when none is queued. Call after the
  // notifier's Flush(): its sendmsg has returned, and a Unix datagram is
  // queued at the receiver by then, so not waiting is exact, not racy.
  std::optional<std::string> Receive() {
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0) {
      EXPECT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK) << std::strerror(errno);
      return std::nullopt;
    }
    return std::string(buf, static_cast<size_t>(n));
  }

  testing::TempDir dir_{"notify"};
  std::string socket_path_;
  int fd_ = -1;
  std::vector<std::optional<std::string>> saved_;
};

TEST_F(SystemdNotifyTest, SendsEachMessageExactly) {
  Listen();
  SystemdNotifier n;
  EXPECT_TRUE(n.enabled());
  EXPECT_EQ(n.watchdog_interval(), std::nullopt);

  EXPECT_TRUE(n.Ready("watermark 2026-11-22T14:05:00Z"));
  ASSERT_TRUE(n.Flush(10s));
  EXPECT_EQ(Receive(), "READY=1\nSTATUS=watermark 2026-11-22T14:05:00Z");
  EXPECT_TRUE(n.Status("batch 7 committed, lag 12s"));
  ASSERT_TRUE(n.Flush(10s));
  EXPECT_EQ(Receive(), "STATUS=batch 7 committed, lag 12s");
  EXPECT_TRUE(n.Stopping("draining batch 8"));
  ASSERT_TRUE(n.Flush(10s));
  EXPECT_EQ(Receive(), "STOPPING=1\nSTATUS=draining batch 8");
  ASSERT_TRUE(n.Flush(10s));
  EXPECT_EQ(Receive(), std::nullopt);
}

TEST_F(SystemdNotifyTest, StatusIsOneLine) {
  Listen();
  SystemdNotifier n;
  // A newline must not end the status early or inject READY=1.
  EXPECT_TRUE(n.Status("first\nREADY=1\r\nthird"));
  ASSERT_TRUE(n.Flush(10s));
  EXPECT_EQ(Receive(), "STATUS=first READY=1  third");
  EXPECT_TRUE(n.Ready(std::string_view("nul\0after", 9)));
  ASSERT_TRUE(n.Flush(10s));
  EXPECT_EQ(Receive(), "READY=1\nSTATUS=nul after");
}

TEST_F(SystemdNotifyTest, WatchdogIntervalAndPing) {
  Listen();
  ASSERT_EQ(::setenv("WATCHDOG_USEC", "4000000", 1), 0);
  ASSERT_EQ(::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1), 0);
  SystemdNotifier n;
  ASSERT_TRUE(n.watchdog_interval().has_value());
  EXPECT_EQ(*n.watchdog_interval(), std::chrono::microseconds(4s));
  EXPECT_TRUE(n.WatchdogPing());
  ASSERT_TRUE(n.Flush(10s));
  EXPECT_EQ(Receive(), "WATCHDOG=1");
  ASSERT_TRUE(n.Flush(10s));
  EXPECT_EQ(Receive(), std::nullopt);
}

TEST_F(SystemdNotifyTest, WatchdogWithoutPidIsOurs) {
  Listen();
  ASSERT_EQ(::setenv("WATCHDOG_USEC", "60000000", 1), 0);
  SystemdNotifier n;
  EXPECT_EQ(n.watchdog_interval(), std::optional<std::chrono::microseconds>(60s));
}

TEST_F(SystemdNotifyTest, AnotherProcesssWatchdogIsIgnored) {
  Listen();
  ASSERT_EQ(::setenv("WATCHDOG_USEC", "4000000", 1), 0);
  // Our parent's pid: the variables were meant for it, not for us.
  ASSERT_EQ(::setenv("WATCHDOG_PID", std::to_string(::getppid()).c_str(), 1), 0);
  SystemdNotifier n;
  EXPECT_TRUE(n.enabled());
  EXPECT_EQ(n.watchdog_interval(), std::nullopt);
  EXPECT_TRUE(n.WatchdogPing());
  ASSERT_TRUE(n.Flush(10s));
  EXPECT_EQ(Receive(), std::nullopt);
}

TEST_F(SystemdNotifyTest, WithoutNotifySocketNothingIsSent) {
  Listen();
  ASSERT_EQ(::unsetenv("NOTIFY_SOCKET"), 0);
  ASSERT_EQ(::setenv("WATCHDOG_USEC", "4000000", 1), 0);
  SystemdNotifier n;
  EXPECT_FALSE(n.enabled());
  EXPECT_EQ(n.watchdog_interval(), std::nullopt);
  EXPECT_TRUE(n.Ready("up"));
  EXPECT_TRUE(n.WatchdogPing());
  EXPECT_TRUE(n.Status("s"));
  EXPECT_TRUE(n.Stopping("bye"));
  // The socket exists; had anything been sent it would be queued here.
  ASSERT_TRUE(n.Flush(10s));
  EXPECT_EQ(Receive(), std::nullopt);
}

TEST_F(SystemdNotifyTest, EmptyNotifySocketIsDisabled) {
  ASSERT_EQ(::setenv("NOTIFY_SOCKET", "", 1), 0);
  SystemdNotifier n;
  EXPECT_FALSE(n.enabled());
}

TEST_F(SystemdNotifyTest, UnreachableSocketReportsFailure) {
  ASSERT_EQ(::setenv("NOTIFY_SOCKET", dir_.Join("nobody-listens.sock").c_str(), 1), 0);
  SystemdNotifier n;
  EXPECT_TRUE(n.enabled());
  EXPECT_TRUE(n.Ready("up"));  // queued
  EXPECT_FALSE(n.Flush(10s));  // but not delivered
  EXPECT_TRUE(n.Status("still up"));
  EXPECT_FALSE(n.Flush(10s));
}

// A receiver that never reads fills the socket's queue; after that a
// blocking sendmsg would wait for ever. The caller (the daemon's event
// loop) must not: messages queue, the oldest STATUS gives way, READY and
// STOPPING stay.
TEST_F(SystemdNotifyTest, AReceiverThatDoesNotReadNeverBlocksTheCaller) {
  Listen();
  auto notifier = std::make_unique<SystemdNotifier>();
  auto calls = std::async(std::launch::async, [&] {
    EXPECT_TRUE(notifier->Ready("up"));
    for (int i = 0; i < 5000; ++i) notifier->Status("batch " + std::to_string(i));
    EXPECT_TRUE(notifier->Stopping("bye"));
  });
  ASSERT_EQ(calls.wait_for(60s), std::future_status::ready) << "a notifier call blocked";
  EXPECT_FALSE(notifier->Flush(200ms));  // the sender is stuck on the full socket
  // Now read everything: READY first, STOPPING last, some statuses dropped.
  std::vector<std::string> got;
  for (int idle = 0; idle < 200 && (got.empty() || got.back().rfind("STOPPING=1", 0) != 0);) {
    auto m = Receive();
    if (m) {
      got.push_back(*m);
      idle = 0;
    } else {
      ++idle;
      std::this_thread::sleep_for(10ms);
    }
  }
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.front(), "READY=1\nSTATUS=up");
  EXPECT_EQ(got.back(), "STOPPING=1\nSTATUS=bye");
  EXPECT_LT(got.size(), 5000u);  // the oldest statuses gave way
  EXPECT_NE(std::find(got.begin(), got.end(), "STATUS=batch 4999"), got.end());  // the newest did not
  EXPECT_TRUE(notifier->Flush(10s));
}

}  // namespace
}  // namespace freshet
