// Marks planted in every secret and session token the S3 tests configure:
// none may ever show up in a log line, an error message or a status.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace freshet::s3 {

inline constexpr std::string_view kSecretMark = "PLANTEDSECRET";
inline constexpr std::string_view kTokenMark = "PLANTEDTOKEN";

inline void ExpectNoPlantedSecrets(const std::string& text) {
  EXPECT_EQ(text.find(kSecretMark), std::string::npos) << text;
  EXPECT_EQ(text.find(kTokenMark), std::string::npos) << text;
}

}  // namespace freshet::s3
