// The typed mailbox: overflow policies per message kind, FIFO delivery to a
// coroutine receiver, close.
#include "actors/mailbox.h"

#include <gtest/gtest.h>

#include <thread>

#include "actors/actor_test_support.h"

namespace freshet {
namespace {

struct Request {
  static constexpr Overflow kOverflow = Overflow::kRefuse;
  int n = 0;
};
struct Tick {
  static constexpr Overflow kOverflow = Overflow::kCoalesce;
};
struct Ack {
  static constexpr Overflow kOverflow = Overflow::kMustDeliver;
  int n = 0;
};
using Msg = std::variant<Request, Tick, Ack>;

TEST(MailboxTest, EachKindFollowsItsOverflowPolicy) {
  asio::io_context io;
  Mailbox<Msg> box(io, "test", 2);
  EXPECT_EQ(box.Post(Request{1}), Delivery::kQueued);
  EXPECT_EQ(box.Post(Tick{}), Delivery::kQueued);
  EXPECT_EQ(box.Post(Tick{}), Delivery::kCoalesced);
  EXPECT_EQ(box.Post(Request{2}), Delivery::kRefused) << "two queued: the limit";
  for (int i = 0; i < 10; ++i) EXPECT_EQ(box.Post(Ack{i}), Delivery::kQueued) << "acks are never refused";
  EXPECT_EQ(box.refused(), 1u);
  EXPECT_EQ(box.coalesced(), 1u);
  EXPECT_EQ(box.queued(), 12u);
  auto first = box.TryReceive();
  ASSERT_TRUE(first && std::holds_alternative<Request>(*first));
  EXPECT_EQ(std::get<Request>(*first).n, 1);
  box.Close();
  EXPECT_EQ(box.Post(Ack{99}), Delivery::kClosed);
}

struct Received {
  std::vector<int> acks;
  bool ended = false;
};

Awaitable<void> ReceiveAll(Mailbox<Msg>* box, Received* out) {
  while (std::optional<Msg> m = co_await box->Receive()) {
    if (auto* a = std::get_if<Ack>(&*m)) out->acks.push_back(a->n);
  }
  out->ended = true;
}

TEST(MailboxTest, AReceiverGetsMessagesInOrderFromOtherThreadsThenTheClose) {
  asio::io_context io;
  Mailbox<Msg> box(io, "test", 8);
  Received got;
  asio::co_spawn(box.strand(), ReceiveAll(&box, &got), asio::detached);
  testing::Settle(io);  // the receiver now waits
  std::thread sender([&] {
    for (int i = 0; i < 1000; ++i) EXPECT_EQ(box.Post(Ack{i}), Delivery::kQueued);
  });
  ASSERT_TRUE(testing::RunUntil(io, [&] { return got.acks.size() == 1000; }));
  sender.join();
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(got.acks[i], i);
  EXPECT_FALSE(got.ended);
  ASSERT_EQ(box.Post(Ack{1000}), Delivery::kQueued);
  box.Close();
  ASSERT_TRUE(testing::RunUntil(io, [&] { return got.ended; }));
  EXPECT_EQ(got.acks.size(), 1001u) << "what was queued before the close is still delivered";
}

}  // namespace
}  // namespace freshet
