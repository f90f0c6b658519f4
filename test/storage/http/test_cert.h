// Self-signed TLS certificates made at test time with the OpenSSL API, so
// no key material lives in the repository. Header-only: the test build
// compiles only *_test.cc files.
#pragma once

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

namespace freshet::testing {

struct TestCert {
  std::string cert_pem;
  std::string key_pem;
};

// An EC P-256 key and a self-signed X.509 v3 certificate (CA:TRUE, so it
// can be its own trust anchor via HttpClient::Options::ca_file), valid from
// an hour ago for a day. `subject_alt_name` is in OpenSSL config syntax.
// Aborts the test binary on an OpenSSL failure.
inline TestCert MakeSelfSignedCert(const std::string& subject_alt_name = "IP:127.0.0.1,DNS:localhost");

namespace test_cert_internal {

[[noreturn]] inline void Fail(const char* what) {
  std::fprintf(stderr, "MakeSelfSignedCert: %s failed\n", what);
  ERR_print_errors_fp(stderr);
  std::abort();
}

inline void Check(bool ok, const char* what) {
  if (!ok) Fail(what);
}

inline void AddExtension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  Check(ext != nullptr, "X509V3_EXT_conf_nid");
  Check(X509_add_ext(cert, ext, -1) == 1, "X509_add_ext");
  X509_EXTENSION_free(ext);
}

inline std::string DrainBio(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

}  // namespace test_cert_internal

inline TestCert MakeSelfSignedCert(const std::string& subject_alt_name) {
  using namespace test_cert_internal;
  static std::atomic<long> serial{1};
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  Check(key != nullptr, "EVP_EC_gen");
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  Check(cert != nullptr, "X509_new");
  X509* x = cert.get();
  Check(X509_set_version(x, 2) == 1, "X509_set_version");
  Check(ASN1_INTEGER_set(X509_get_serialNumber(x), serial++) == 1, "ASN1_INTEGER_set");
  Check(X509_gmtime_adj(X509_getm_notBefore(x), -3600) != nullptr, "notBefore");
  Check(X509_gmtime_adj(X509_getm_notAfter(x), 86400) != nullptr, "notAfter");
  Check(X509_set_pubkey(x, key.get()) == 1, "X509_set_pubkey");
  X509_NAME* name = X509_get_subject_name(x);
  Check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>("freshet test"), -1, -1, 0) == 1,
        "X509_NAME_add_entry_by_txt");
  Check(X509_set_issuer_name(x, name) == 1, "X509_set_issuer_name");
  AddExtension(x, NID_basic_constraints, "critical,CA:TRUE");
  AddExtension(x, NID_key_usage, "critical,digitalSignature,keyCertSign");
  AddExtension(x, NID_ext_key_usage, "serverAuth");
  AddExtension(x, NID_subject_key_identifier, "hash");
  AddExtension(x, NID_subject_alt_name, subject_alt_name.c_str());
  Check(X509_sign(x, key.get(), EVP_sha256()) > 0, "X509_sign");

  TestCert out;
  std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio(BIO_new(BIO_s_mem()), BIO_free);
  Check(PEM_write_bio_X509(cert_bio.get(), x) == 1, "PEM_write_bio_X509");
  out.cert_pem = DrainBio(cert_bio.get());
  std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(BIO_new(BIO_s_mem()), BIO_free);
  Check(PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1,
        "PEM_write_bio_PrivateKey");
  out.key_pem = DrainBio(key_bio.get());
  return out;
}

}  // namespace freshet::testing
