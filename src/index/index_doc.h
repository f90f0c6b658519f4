// What the index builder consumes: one document, already analysed.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace freshet {

// A term is `field + '\0' + value`: for keyword fields the exact value, for
// text fields one token from Tokenize(). Terms within a doc may repeat; the
// writer dedupes them.
inline std::string MakeTerm(std::string_view field, std::string_view value) {
  std::string t;
  t.reserve(field.size() + 1 + value.size());
  t.append(field);
  t.push_back('\0');
  t.append(value);
  return t;
}

// The terms of one document, stored flat: every term's bytes back to back in
// one buffer and the end offset of each. A document costs two allocations
// however many terms it has, and none when a cleared list is refilled (the
// build reuses one list per thread); a vector of strings cost one heap string
// per term longer than the small-string buffer, ~45 per ad.
// Reads like a const vector of string_views; views stay valid until the
// list is next modified.
class TermList {
 public:
  class const_iterator {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = std::string_view;

    const_iterator() = default;
    std::string_view operator*() const { return (*list_)[i_]; }
    std::string_view operator[](difference_type n) const { return (*list_)[i_ + static_cast<size_t>(n)]; }
    const_iterator& operator++() { return ++i_, *this; }
    const_iterator operator++(int) { const_iterator t = *this; ++i_; return t; }
    const_iterator& operator--() { return --i_, *this; }
    const_iterator operator--(int) { const_iterator t = *this; --i_; return t; }
    const_iterator& operator+=(difference_type n) { return i_ += static_cast<size_t>(n), *this; }
    const_iterator& operator-=(difference_type n) { return i_ -= static_cast<size_t>(n), *this; }
    friend const_iterator operator+(const_iterator a, difference_type n) { return a += n; }
    friend const_iterator operator+(difference_type n, const_iterator a) { return a += n; }
    friend const_iterator operator-(const_iterator a, difference_type n) { return a -= n; }
    friend difference_type operator-(const const_iterator& a, const const_iterator& b) {
      return static_cast<difference_type>(a.i_) - static_cast<difference_type>(b.i_);
    }
    friend bool operator==(const const_iterator& a, const const_iterator& b) { return a.i_ == b.i_; }
    friend auto operator<=>(const const_iterator& a, const const_iterator& b) { return a.i_ <=> b.i_; }

   private:
    friend class TermList;
    const_iterator(const TermList* list, size_t i) : list_(list), i_(i) {}
    const TermList* list_ = nullptr;
    size_t i_ = 0;
  };
  using iterator = const_iterator;
  using value_type = std::string_view;
  using size_type = size_t;

  TermList() = default;
  TermList(std::initializer_list<std::string_view> terms) { *this = terms; }
  TermList& operator=(std::initializer_list<std::string_view> terms) {
    clear();
    for (std::string_view t : terms) push_back(t);
    return *this;
  }
  TermList(const TermList& other) : ends_(other.ends_) { Append(other.data_.get(), other.size_); }
  TermList& operator=(const TermList& other) {
    if (this != &other) {
      size_ = 0;
      Append(other.data_.get(), other.size_);
      ends_ = other.ends_;
    }
    return *this;
  }
  TermList(TermList&& other) noexcept
      : data_(std::move(other.data_)), size_(std::exchange(other.size_, 0)),
        capacity_(std::exchange(other.capacity_, 0)), ends_(std::move(other.ends_)) {
    other.ends_.clear();
  }
  TermList& operator=(TermList&& other) noexcept {
    if (this != &other) {
      data_ = std::move(other.data_);
      size_ = std::exchange(other.size_, 0);
      capacity_ = std::exchange(other.capacity_, 0);
      ends_ = std::move(other.ends_);
      other.ends_.clear();
    }
    return *this;
  }

  void push_back(std::string_view term) {
    Append(term.data(), term.size());
    ends_.push_back(static_cast<uint32_t>(size_));
  }
  // Appends MakeTerm(field, value) without building it first.
  void Add(std::string_view field, std::string_view value) {
    char* p = Room(field.size() + 1 + value.size());
    std::memcpy(p, field.data(), field.size());
    p[field.size()] = '\0';
    if (!value.empty()) std::memcpy(p + field.size() + 1, value.data(), value.size());
    size_ += field.size() + 1 + value.size();
    ends_.push_back(static_cast<uint32_t>(size_));
  }
  // Writing a term in place: Room(n) is where up to n more bytes go after
  // the terms (valid until the next call that adds), and EndTerm(end) makes
  // the bytes up to `end` the next term. Bytes written without an EndTerm
  // are dropped by the next Room.
  char* Room(size_t n) {
    if (size_ + n > capacity_) Grow(size_ + n);
    return data_.get() + size_;
  }
  void EndTerm(const char* end) {
    size_ = static_cast<size_t>(end - data_.get());
    ends_.push_back(static_cast<uint32_t>(size_));
  }
  // Keeps the first n terms. REQUIRES: n <= size().
  void Truncate(size_t n) {
    size_ = n == 0 ? 0 : ends_[n - 1];
    ends_.resize(n);
  }
  // Keeps the capacity.
  void clear() {
    size_ = 0;
    ends_.clear();
  }
  void reserve(size_t terms, size_t bytes) {
    ends_.reserve(terms);
    if (bytes > capacity_) Grow(bytes);
  }

  size_t size() const { return ends_.size(); }
  bool empty() const { return ends_.empty(); }
  // Sum of the terms' lengths.
  size_t bytes() const { return size_; }
  std::string_view operator[](size_t i) const {
    const uint32_t begin = i == 0 ? 0 : ends_[i - 1];
    return std::string_view(data_.get() + begin, ends_[i] - begin);
  }
  std::string_view front() const { return (*this)[0]; }
  std::string_view back() const { return (*this)[size() - 1]; }
  const_iterator begin() const { return const_iterator(this, 0); }
  const_iterator end() const { return const_iterator(this, size()); }

  friend bool operator==(const TermList& a, const TermList& b) {
    return a.ends_ == b.ends_ && std::string_view(a.data_.get(), a.size_) == std::string_view(b.data_.get(), b.size_);
  }

 private:
  // A raw buffer: a std::string would zero what a resize adds, or check
  // its capacity once per appended piece (a term is three), and the
  // assembler adds ~30 terms to every document.
  void Append(const char* bytes, size_t n) {
    if (n == 0) return;
    std::memcpy(Room(n), bytes, n);
    size_ += n;
  }
  void Grow(size_t at_least) {
    const size_t capacity = std::max(at_least, 2 * capacity_ + 64);
    auto data = std::make_unique_for_overwrite<char[]>(capacity);
    if (size_ > 0) std::memcpy(data.get(), data_.get(), size_);
    data_ = std::move(data);
    capacity_ = capacity;
  }

  std::unique_ptr<char[]> data_;  // the terms' bytes, back to back: size_ of capacity_
  size_t size_ = 0, capacity_ = 0;
  std::vector<uint32_t> ends_;  // end offset of term i
};

struct IndexDoc {
  std::string id;          // unique within a segment
  bool tombstone = false;  // shadows the id in older generations; no terms, no stored
  TermList terms;          // see MakeTerm
  std::string stored;      // JSON object text returned by readers ("" for tombstones)

  // Empties the doc, keeping its buffers' capacity for the next one.
  void Clear() {
    id.clear();
    tombstone = false;
    terms.clear();
    stored.clear();
  }
};

}  // namespace freshet
