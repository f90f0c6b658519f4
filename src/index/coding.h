// Byte-level encodings of the index format: little-endian fixed-width
// integers, LEB128 varints and length-prefixed strings.
//
// Encoders append to a std::string. Decoders consume from the front of a
// std::string_view and return false (leaving the view unspecified) when the
// input is truncated or malformed; they never read past the view and never
// allocate based on an untrusted length.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace freshet {

inline void PutFixed32(std::string* dst, uint32_t v) {
  char buf[4];
  for (int i = 0; i < 4; ++i) buf[i] = static_cast<char>(v >> (8 * i));
  dst->append(buf, 4);
}

inline void PutFixed64(std::string* dst, uint64_t v) {
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>(v >> (8 * i));
  dst->append(buf, 8);
}

// REQUIRES: p points to at least 4 (resp. 8) readable bytes.
inline uint32_t DecodeFixed32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

inline uint64_t DecodeFixed64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

// Writes v as a varint at dst (up to 10 bytes) and returns its end.
inline char* EncodeVarint64(char* dst, uint64_t v) {
  while (v >= 0x80) {
    *dst++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *dst++ = static_cast<char>(v);
  return dst;
}

inline void PutVarint64(std::string* dst, uint64_t v) {
  char buf[10];
  dst->append(buf, static_cast<size_t>(EncodeVarint64(buf, v) - buf));
}

inline void PutVarint32(std::string* dst, uint32_t v) { PutVarint64(dst, v); }

// Number of bytes PutVarint64(v) appends.
inline int VarintLength(uint64_t v) {
  int n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Rejects encodings longer than 10 bytes and values that overflow 64 bits.
inline bool GetVarint64(std::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0, i = 0; i < 10 && static_cast<size_t>(i) < in->size(); ++i, shift += 7) {
    const uint64_t byte = static_cast<unsigned char>((*in)[static_cast<size_t>(i)]);
    if (shift == 63 && byte > 1) return false;
    result |= (byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) {
      in->remove_prefix(static_cast<size_t>(i) + 1);
      *v = result;
      return true;
    }
  }
  return false;
}

// Fails when the value does not fit in 32 bits.
inline bool GetVarint32(std::string_view* in, uint32_t* v) {
  uint64_t w;
  if (!GetVarint64(in, &w) || w > UINT32_MAX) return false;
  *v = static_cast<uint32_t>(w);
  return true;
}

inline void PutLengthPrefixed(std::string* dst, std::string_view s) {
  PutVarint64(dst, s.size());
  dst->append(s);
}

// On success `*out` views bytes inside the original input.
inline bool GetLengthPrefixed(std::string_view* in, std::string_view* out) {
  uint64_t len;
  if (!GetVarint64(in, &len) || len > in->size()) return false;
  *out = in->substr(0, static_cast<size_t>(len));
  in->remove_prefix(static_cast<size_t>(len));
  return true;
}

inline bool GetFixed64(std::string_view* in, uint64_t* v) {
  if (in->size() < 8) return false;
  *v = DecodeFixed64(in->data());
  in->remove_prefix(8);
  return true;
}

}  // namespace freshet
