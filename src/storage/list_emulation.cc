#include "storage/list_emulation.h"

#include <cassert>
#include <utility>

namespace freshet {
namespace {

std::string HexEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() * 2);
  for (unsigned char c : s) {
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::optional<std::string> HexDecode(std::string_view s) {
  if (s.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(s.size() / 2);
  for (size_t i = 0; i < s.size(); i += 2) {
    int hi = HexValue(s[i]);
    int lo = HexValue(s[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi << 4 | lo);
  }
  return out;
}

// Bytewise comparison (std::string_view compares with char_traits<char>,
// which is bytewise as unsigned on glibc; spelled out so it never depends
// on char's signedness).
int Compare(std::string_view a, std::string_view b) {
  size_t n = a.size() < b.size() ? a.size() : b.size();
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = static_cast<unsigned char>(a[i]);
    unsigned char y = static_cast<unsigned char>(b[i]);
    if (x != y) return x < y ? -1 : 1;
  }
  if (a.size() == b.size()) return 0;
  return a.size() < b.size() ? -1 : 1;
}

// True if every string starting with `p` sorts before every string
// starting with `q`, i.e. the two prefix ranges are disjoint and p's first.
bool RangeBefore(std::string_view p, std::string_view q) {
  return Compare(p, q) < 0 && !q.starts_with(p) && !p.starts_with(q);
}

}  // namespace

std::optional<std::string> PrefixSuccessor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty()) {
    unsigned char last = static_cast<unsigned char>(s.back());
    if (last != 0xff) {
      s.back() = static_cast<char>(last + 1);
      return s;
    }
    s.pop_back();
  }
  return std::nullopt;
}

Result<ListPager> ListPager::Create(const ListRequest& req) {
  if (req.max_keys == 0) return Status::InvalidArgument("list: max_keys must be 1..1000, got 0");
  ListPager pager;
  pager.prefix_ = req.prefix;
  pager.delimiter_ = req.delimiter;
  pager.max_keys_ = req.max_keys > kMaxListKeys ? kMaxListKeys : req.max_keys;
  if (!req.continuation_token.empty()) {
    std::string_view token = req.continuation_token;
    std::optional<std::string> decoded;
    if (token.size() >= 2 && token[0] == '1' && (token[1] == 'k' || token[1] == 'p')) {
      decoded = HexDecode(token.substr(2));
    }
    if (!decoded || decoded->empty()) {
      return Status::InvalidArgument("list: malformed continuation token '" + req.continuation_token + "'");
    }
    pager.resume_ = std::move(*decoded);
    pager.resume_is_prefix_ = token[1] == 'p';
  } else {
    pager.resume_ = req.start_after;
  }
  return pager;
}

bool ListPager::PastResumePoint(std::string_view key) const {
  if (Compare(key, resume_) <= 0) return false;
  return !(resume_is_prefix_ && key.starts_with(resume_));
}

bool ListPager::AllBeforeResumePoint(std::string_view p) const {
  if (resume_is_prefix_ && p.starts_with(resume_)) return true;  // all under the listed prefix
  return RangeBefore(p, resume_);
}

bool ListPager::InRange(std::string_view key) const {
  return key.starts_with(prefix_) && PastResumePoint(key);
}

std::optional<std::string> ListPager::FirstCandidate() const {
  std::string after;
  if (resume_is_prefix_) {
    std::optional<std::string> succ = PrefixSuccessor(resume_);
    if (!succ) return std::nullopt;
    after = std::move(*succ);
  } else {
    after = resume_;
    after.push_back('\0');  // smallest string strictly greater than resume_
  }
  return Compare(after, prefix_) < 0 ? prefix_ : after;
}

ListPager::Subtree ListPager::ClassifySubtree(std::string_view key_prefix) const {
  if (truncated_) return Subtree::kStop;
  if (!key_prefix.starts_with(prefix_) && !std::string_view(prefix_).starts_with(key_prefix)) {
    return Compare(key_prefix, prefix_) > 0 ? Subtree::kStop : Subtree::kSkip;
  }
  if (AllBeforeResumePoint(key_prefix)) return Subtree::kSkip;
  if (!last_common_prefix_.empty() && key_prefix.starts_with(last_common_prefix_)) return Subtree::kSkip;
  return Subtree::kVisit;
}

ListPager::Verdict ListPager::Offer(std::string_view key) {
  if (truncated_) return Verdict::kStop;
  if (!key.starts_with(prefix_)) return Compare(key, prefix_) > 0 ? Verdict::kStop : Verdict::kSkip;
  if (!PastResumePoint(key)) return Verdict::kSkip;
  if (!delimiter_.empty()) {
    size_t pos = key.find(delimiter_, prefix_.size());
    if (pos != std::string_view::npos) {
      std::string_view cp = key.substr(0, pos + delimiter_.size());
      if (cp == last_common_prefix_) return Verdict::kSkip;
      if (entries_ == max_keys_) {
        truncated_ = true;
        return Verdict::kStop;
      }
      last_common_prefix_ = std::string(cp);
      page_.common_prefixes.push_back(last_common_prefix_);
      ++entries_;
      last_entry_ = last_common_prefix_;
      last_entry_is_prefix_ = true;
      return Verdict::kSkip;
    }
  }
  if (entries_ == max_keys_) {
    truncated_ = true;
    return Verdict::kStop;
  }
  return Verdict::kTake;
}

void ListPager::Take(ObjectInfo info) {
  assert(entries_ < max_keys_);
  last_entry_ = info.key;
  last_entry_is_prefix_ = false;
  page_.objects.push_back(std::move(info));
  ++entries_;
}

ListPage ListPager::Finish() && {
  if (truncated_) {
    page_.next_continuation_token = std::string(last_entry_is_prefix_ ? "1p" : "1k") + HexEncode(last_entry_);
  }
  return std::move(page_);
}

}  // namespace freshet
