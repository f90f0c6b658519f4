// The writer lease: who holds a sink, judged without clocks or processes
// of its own (both injected), and taken with conditional writes.
#include "sink/writer_lease.h"

#include <gtest/gtest.h>

#include "storage/blocking_store.h"
#include "storage/memory_store.h"
#include "testing/times.h"

namespace freshet {
namespace {

using std::chrono::seconds;

WriterLease Writer(std::string host, int64_t pid, std::string nonce) {
  WriterLease l;
  l.host = std::move(host);
  l.pid = pid;
  l.nonce = std::move(nonce);
  l.since = l.renewed = kT0;
  return l;
}

const PidAlive kAlive = [](int64_t) { return true; };
const PidAlive kDead = [](int64_t) { return false; };

TEST(WriterLeaseTest, EncodesStrictly) {
  const WriterLease a = Writer("ads-indexer-1", 4242, "0a1b2c3d4e5f6071");
  const std::string json = EncodeWriterLease(a);
  EXPECT_EQ(json,
            "{\"format\":1,\"host\":\"ads-indexer-1\",\"pid\":4242,\"nonce\":\"0a1b2c3d4e5f6071\",\"since\":\""
            "2025-11-24T16:00:00Z\",\"renewed\":\"2025-11-24T16:00:00Z\"}\n");
  Result<WriterLease> back = DecodeWriterLease(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, a);
  EXPECT_EQ(DecodeWriterLease("{\"format\":1}").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(DecodeWriterLease("{\"format\":2}").status().code(), StatusCode::kFailedPrecondition);
}

TEST(WriterLeaseTest, WhoHoldsTheSink) {
  const WriterLease me = Writer("host-a", 10, "n1");
  const auto ttl = seconds(60);
  EXPECT_FALSE(HeldByAnother(me, me, kT0 + seconds(600), ttl, kAlive)) << "ours, however old";
  // Another host, renewed 30 s ago: held, and the reason names it.
  WriterLease other = Writer("host-b", 77, "n2");
  std::optional<std::string> why = HeldByAnother(other, me, kT0 + seconds(30), ttl, kAlive);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("host-b pid 77"), std::string::npos) << *why;
  EXPECT_NE(why->find("renewed 30s ago"), std::string::npos) << *why;
  // Not renewed within the lease: free.
  EXPECT_FALSE(HeldByAnother(other, me, kT0 + seconds(61), ttl, kAlive));
  // This host: held while its process lives; a crashed daemon's lease is free.
  WriterLease here = Writer("host-a", 11, "n3");
  EXPECT_TRUE(HeldByAnother(here, me, kT0 + seconds(1), ttl, kAlive));
  EXPECT_FALSE(HeldByAnother(here, me, kT0 + seconds(1), ttl, kDead));
  // The same pid in an earlier run of this host (pid reuse): not ours.
  WriterLease earlier = Writer("host-a", 10, "old-run");
  EXPECT_TRUE(HeldByAnother(earlier, me, kT0 + seconds(1), ttl, kAlive));
}

TEST(WriterLeaseTest, OneWriterTakesTheSinkAtATime) {
  MemoryStore sink;
  const auto ttl = seconds(60);
  const WriterLease a = Writer("host-a", 10, "a");
  const WriterLease b = Writer("host-b", 20, "b");
  Result<std::string> got_a = AcquireWriterLease(sink, a, kT0, ttl, kAlive);
  ASSERT_TRUE(got_a.ok()) << got_a.status().ToString();
  EXPECT_EQ(DecodeWriterLease(GetSync(sink, std::string(kWriterLeaseKey))->body)->nonce, "a");

  Result<std::string> got_b = AcquireWriterLease(sink, b, kT0 + seconds(5), ttl, kAlive);
  ASSERT_FALSE(got_b.ok());
  EXPECT_EQ(got_b.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(got_b.status().message().find(sink.Describe()), std::string::npos) << got_b.status().ToString();
  EXPECT_NE(got_b.status().message().find("host-a pid 10"), std::string::npos) << got_b.status().ToString();

  // A restart of A takes its own lease again.
  EXPECT_TRUE(AcquireWriterLease(sink, a, kT0 + seconds(6), ttl, kAlive).ok());
  // A stops cleanly: B may start.
  ASSERT_TRUE(ReleaseWriterLease(sink, a).ok());
  EXPECT_EQ(HeadSync(sink, std::string(kWriterLeaseKey)).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(AcquireWriterLease(sink, b, kT0 + seconds(7), ttl, kAlive).ok());
  // A's release after B took over leaves B's lease alone.
  ASSERT_TRUE(ReleaseWriterLease(sink, a).ok());
  EXPECT_EQ(DecodeWriterLease(GetSync(sink, std::string(kWriterLeaseKey))->body)->nonce, "b");
  // B stops renewing (cut off): after the lease A takes it over.
  EXPECT_FALSE(AcquireWriterLease(sink, a, kT0 + seconds(60), ttl, kAlive).ok());
  EXPECT_TRUE(AcquireWriterLease(sink, a, kT0 + seconds(68), ttl, kAlive).ok());
  // A damaged lease names no one: taken over.
  ASSERT_TRUE(PutSync(sink, std::string(kWriterLeaseKey), "{not json").ok());
  EXPECT_TRUE(AcquireWriterLease(sink, b, kT0 + seconds(70), ttl, kAlive).ok());
}

}  // namespace
}  // namespace freshet
