// What the index builder consumes: one document, already analysed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <string>
#include <string_view>
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

  void push_back(std::string_view term) {
    bytes_.append(term);
    ends_.push_back(static_cast<uint32_t>(bytes_.size()));
  }
  // Appends MakeTerm(field, value) without building it first.
  void Add(std::string_view field, std::string_view value) {
    bytes_.append(field);
    bytes_.push_back('\0');
    bytes_.append(value);
    ends_.push_back(static_cast<uint32_t>(bytes_.size()));
  }
  // Add(field, value) with value's ASCII capitals made small, without a
  // copy of it first (the assembler's ASCII words).
  void AddAsciiLowered(std::string_view field, std::string_view value) {
    bytes_.append(field);
    bytes_.push_back('\0');
    const size_t at = bytes_.size();
    bytes_.append(value);
    for (size_t i = at; i < bytes_.size(); ++i) {
      if (bytes_[i] >= 'A' && bytes_[i] <= 'Z') bytes_[i] = static_cast<char>(bytes_[i] - 'A' + 'a');
    }
    ends_.push_back(static_cast<uint32_t>(bytes_.size()));
  }
  // Keeps the first n terms. REQUIRES: n <= size().
  void Truncate(size_t n) {
    bytes_.resize(n == 0 ? 0 : ends_[n - 1]);
    ends_.resize(n);
  }
  // Keeps the capacity.
  void clear() {
    bytes_.clear();
    ends_.clear();
  }
  void reserve(size_t terms, size_t bytes) {
    ends_.reserve(terms);
    bytes_.reserve(bytes);
  }

  size_t size() const { return ends_.size(); }
  bool empty() const { return ends_.empty(); }
  // Sum of the terms' lengths.
  size_t bytes() const { return bytes_.size(); }
  std::string_view operator[](size_t i) const {
    const uint32_t begin = i == 0 ? 0 : ends_[i - 1];
    return std::string_view(bytes_).substr(begin, ends_[i] - begin);
  }
  std::string_view front() const { return (*this)[0]; }
  std::string_view back() const { return (*this)[size() - 1]; }
  const_iterator begin() const { return const_iterator(this, 0); }
  const_iterator end() const { return const_iterator(this, size()); }

  friend bool operator==(const TermList& a, const TermList& b) { return a.ends_ == b.ends_ && a.bytes_ == b.bytes_; }

 private:
  std::string bytes_;
  std::vector<uint32_t> ends_;  // end offset of term i in bytes_
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
