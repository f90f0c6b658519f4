// Driving one actor in a test: its io_context runs on the test's thread,
// time is a ManualClock, and the actor's outputs are mailboxes the test
// reads. Nothing sleeps: Settle() runs what is ready, and RunUntil() waits
// on the io_context itself for work that completes on another thread (the
// compute pool), with a bound.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <vector>

#include "actors/io.h"
#include "actors/mailbox.h"
#include "actors/messages.h"
#include "admin/status_board.h"
#include "base/clock.h"
#include "metrics/metrics.h"

namespace freshet::testing {

// Runs every handler that is ready, and those they make ready, until none is.
inline void Settle(asio::io_context& io) {
  io.restart();
  io.poll();
}

// Runs handlers until `done()` holds or `limit` passes; true if it holds.
template <typename Pred>
bool RunUntil(asio::io_context& io, Pred done, std::chrono::seconds limit = std::chrono::seconds(60)) {
  auto guard = asio::make_work_guard(io);
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_one_for(std::chrono::milliseconds(20));
  }
  return done();
}

// Every message waiting in `box`, oldest first.
template <typename Msg>
std::vector<Msg> Drain(Mailbox<Msg>& box) {
  std::vector<Msg> out;
  while (std::optional<Msg> m = box.TryReceive()) out.push_back(std::move(*m));
  return out;
}

// The messages of one kind in `msgs`.
template <typename T, typename Msg>
std::vector<T> OfKind(const std::vector<Msg>& msgs) {
  std::vector<T> out;
  for (const Msg& m : msgs) {
    if (const T* t = std::get_if<T>(&m)) out.push_back(*t);
  }
  return out;
}

// The peers an actor under test talks to: real mailboxes nobody runs, and a
// real status board.
struct Peers {
  explicit Peers(asio::io_context& io, const Clock* clock)
      : ticker(io, "ticker", 64), lister(io, "lister", 64), planner(io, "planner", 64), builder(io, "builder", 64),
        committer(io, "committer", 64), watchdog(io, "watchdog", 64), control(io, "control", 64),
        board(BoardConfig{}, clock, &registry, nullptr) {}
  Mailbox<TickerMsg> ticker;
  Mailbox<ListerMsg> lister;
  Mailbox<PlannerMsg> planner;
  Mailbox<BuilderMsg> builder;
  Mailbox<CommitterMsg> committer;
  Mailbox<WatchdogMsg> watchdog;
  Mailbox<ControlMsg> control;
  MetricsRegistry registry;
  StatusBoard board;
};

}  // namespace freshet::testing
