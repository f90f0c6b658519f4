// The typed mailbox: overflow policies per message kind, FIFO delivery to a
// coroutine receiver, close.
#include "actors/mailbox.h"

#include <gtest/gtest.h>

#include <thread>

#include "actors/actor_test_support.h"

namespace freshet {
namespace {

struct TestRequest {
  static constexpr Overflow kOverflow = Overflow::kRefuse;
  int n = 0;
};
struct TestTick {
  static constexpr Overflow kOverflow = Overflow::kCoalesce;
};
struct TestAck {
  static constexpr Overflow kOverflow = Overflow::kMustDeliver;
  int n = 0;
};
using Msg = std::variant<TestRequest, TestTick, TestAck>;

TEST(MailboxTest, EachKindFollowsItsOverflowPolicy) {
  asio::io_context io;
  Mailbox<Msg> box(io, "test", 2);
  EXPECT_EQ(box.Post(TestRequest{1}), Delivery::kQueued);
  EXPECT_EQ(box.Post(TestTick{}), Delivery::kQueued);
  EXPECT_EQ(box.Post(TestTick{}), Delivery::kCoalesced);
  EXPECT_EQ(box.Post(TestRequest{2}), Delivery::kRefused) << "two queued: the limit";
  for (int i = 0; i < 10; ++i) EXPECT_EQ(box.Post(TestAck{i}), Delivery::kQueued) << "acks are never refused";
  EXPECT_EQ(box.refused(), 1u);
  EXPECT_EQ(box.coalesced(), 1u);
  EXPECT_EQ(box.queued(), 12u);
  auto first = box.TryReceive();
  ASSERT_TRUE(first && std::holds_alternative<TestRequest>(*first));
  EXPECT_EQ(std::get<TestRequest>(*first).n, 1);
  box.Close();
  EXPECT_EQ(box.Post(TestAck{99}), Delivery::kClosed);
}

struct ReceivedAcks {
  std::vector<int> acks;
  bool ended = false;
};

Awaitable<void> ReceiveAll(Mailbox<Msg>* box, ReceivedAcks* out) {
  while (std::optional<Msg> m = co_await box->Receive()) {
    if (auto* a = std::get_if<TestAck>(&*m)) out->acks.push_back(a->n);
  }
  out->ended = true;
}

TEST(MailboxTest, AReceiverGetsMessagesInOrderFromOtherThreadsThenTheClose) {
  asio::io_context io;
  Mailbox<Msg> box(io, "test", 8);
  ReceivedAcks got;
  asio::co_spawn(box.strand(), ReceiveAll(&box, &got), asio::detached);
  testing::Settle(io);  // the receiver now waits
  std::thread sender([&] {
    for (int i = 0; i < 1000; ++i) EXPECT_EQ(box.Post(TestAck{i}), Delivery::kQueued);
  });
  ASSERT_TRUE(testing::RunUntil(io, [&] { return got.acks.size() == 1000; }));
  sender.join();
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(got.acks[i], i);
  EXPECT_FALSE(got.ended);
  ASSERT_EQ(box.Post(TestAck{1000}), Delivery::kQueued);
  box.Close();
  ASSERT_TRUE(testing::RunUntil(io, [&] { return got.ended; }));
  EXPECT_EQ(got.acks.size(), 1001u) << "what was queued before the close is still delivered";
}

}  // namespace
}  // namespace freshet
