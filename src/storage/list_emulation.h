// S3 ListObjectsV2 semantics over any source of keys in ascending bytewise
// order: prefix, start-after, delimiter roll-up into common prefixes,
// max-keys paging with a continuation token. Pure logic, no I/O: MemoryStore
// feeds it from a std::map, LocalStore from a sorted directory walk, and a
// brute-force model in the tests checks both.
//
// Semantics (as S3):
// - A key is listed if it starts with `prefix` and sorts strictly after the
//   resume point: start_after on the first page, the continuation token's
//   position afterwards (the token wins when both are given).
// - With a non-empty delimiter, a listed key that contains the delimiter
//   after the prefix is rolled up into the common prefix ending at the
//   first such delimiter; each common prefix appears once per listing.
// - A page holds at most max_keys entries, objects and common prefixes
//   together (max_keys 0 is rejected; above 1000 is clamped to 1000). The
//   continuation token is set iff more entries exist; it names the last
//   entry returned, so the next page resumes after it (after every key
//   under it, for a common prefix).
//
// Continuation tokens are opaque to callers. Today: "1k" or "1p" followed
// by the hex of the last key or common prefix.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "freshet/status.h"
#include "storage/object_store.h"

namespace freshet {

inline constexpr uint32_t kMaxListKeys = 1000;

// The smallest string greater than every string that starts with `prefix`,
// or nullopt if there is none (empty, or all bytes 0xff).
std::optional<std::string> PrefixSuccessor(std::string_view prefix);

// Builds one page. Usage by a key source:
//
//   FRESHET_ASSIGN_OR_RETURN(ListPager pager, ListPager::Create(req));
//   for each key k in ascending order, starting at pager.FirstCandidate():
//     switch (pager.Offer(k)) {
//       case kStop: goto done;
//       case kSkip: continue;   // may seek past pager.common_prefix()
//       case kTake: pager.Take(info for k);  // or drop k if it vanished
//     }
//   done: return std::move(pager).Finish();
//
// A hierarchical source may ask ClassifySubtree(p) before descending into
// all keys that start with p, and skip or stop without reading them.
// Not thread-safe; one pager per List call.
class ListPager {
 public:
  // kInvalidArgument for max_keys == 0 or a malformed continuation token.
  static Result<ListPager> Create(const ListRequest& req);

  enum class Verdict {
    kSkip,  // not on this page; offer the next key
    kTake,  // an object entry: call Take() with its info (or drop it)
    kStop,  // nothing further can be on this page; call Finish()
  };

  // The smallest key worth offering (inclusive), or nullopt if no key can
  // be listed at all.
  std::optional<std::string> FirstCandidate() const;

  // Decides what to do with every key that starts with `key_prefix` at once.
  // kSkip: none of them can be on this page (before the resume point,
  // outside the prefix, or inside an already-listed common prefix).
  // kStop: neither they nor any greater key can be (past the prefix).
  // kTake is never returned; kSkip/kStop are conservative, so kTake below
  // means "walk into it".
  enum class Subtree { kVisit, kSkip, kStop };
  Subtree ClassifySubtree(std::string_view key_prefix) const;

  // True if `key` passes the prefix and resume-point filters (ignores
  // roll-up and page size). Lets a source filter before sorting.
  bool InRange(std::string_view key) const;

  // REQUIRES: keys strictly ascending across calls.
  Verdict Offer(std::string_view key);

  // Adds the object most recently offered with verdict kTake.
  // REQUIRES: info.key equals that key.
  void Take(ObjectInfo info);

  // The most recent common prefix rolled up, or "". Every later key that
  // starts with it will be skipped, so a sorted source may seek to
  // PrefixSuccessor(common_prefix()).
  const std::string& common_prefix() const { return last_common_prefix_; }

  ListPage Finish() &&;

 private:
  ListPager() = default;
  // True if every key starting with `p` is at or before the resume point.
  bool AllBeforeResumePoint(std::string_view p) const;
  bool PastResumePoint(std::string_view key) const;

  std::string prefix_;
  std::string delimiter_;
  uint32_t max_keys_ = kMaxListKeys;
  // Keys must sort strictly after resume_; if resume_is_prefix_, they must
  // also not start with resume_ (resuming after a common prefix).
  std::string resume_;
  bool resume_is_prefix_ = false;

  ListPage page_;
  uint32_t entries_ = 0;
  bool truncated_ = false;
  std::string last_common_prefix_;
  // The last entry put on the page, for the continuation token.
  std::string last_entry_;
  bool last_entry_is_prefix_ = false;
};

}  // namespace freshet
