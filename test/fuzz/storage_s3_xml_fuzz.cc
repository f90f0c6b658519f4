// Fuzzes the S3 XML documents (storage/s3/s3_xml.h). Any bytes must give
// a value or kDataLoss, never a crash or another code. What parses as a
// listing must be usable (a truncated page has a token) and survive being
// written back out and parsed again unchanged. The bytes are also used as
// an ETag for BuildCompleteMultipartUpload, whose body must parse back to
// the same ETag.
#include <pugixml.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "storage/s3/s3_xml.h"

namespace {

using freshet::StatusCode;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

bool HasNul(std::string_view s) { return s.find('\0') != std::string_view::npos; }
// pugixml's writer leaves '\r' raw, which reads back as '\n'.
bool Unwritable(std::string_view s) { return s.find_first_of(std::string_view("\0\r", 2)) != std::string_view::npos; }

std::string Save(const pugi::xml_document& doc) {
  struct Writer : pugi::xml_writer {
    std::string out;
    void write(const void* data, size_t size) override { out.append(static_cast<const char*>(data), size); }
  } writer;
  doc.save(writer, "", pugi::format_raw, pugi::encoding_utf8);
  return std::move(writer.out);
}

// Writes `page` as S3 would (no encoding-type) and parses it again.
void CheckListRoundTrip(const freshet::s3::ListObjectsV2Page& page) {
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("ListBucketResult");
  root.append_child("IsTruncated").text().set(page.is_truncated ? "true" : "false");
  if (!page.next_continuation_token.empty()) {
    if (Unwritable(page.next_continuation_token)) return;
    root.append_child("NextContinuationToken").text().set(page.next_continuation_token.c_str());
  }
  for (const freshet::ObjectInfo& o : page.objects) {
    if (Unwritable(o.key) || Unwritable(o.etag)) return;
    pugi::xml_node c = root.append_child("Contents");
    c.append_child("Key").text().set(o.key.c_str());
    c.append_child("Size").text().set(std::to_string(o.size).c_str());
    c.append_child("ETag").text().set(("\"" + o.etag + "\"").c_str());
  }
  for (const std::string& p : page.common_prefixes) {
    if (Unwritable(p)) return;
    root.append_child("CommonPrefixes").append_child("Prefix").text().set(p.c_str());
  }
  auto again = freshet::s3::ParseListObjectsV2(Save(doc));
  Check(again.ok());
  Check(again->objects == page.objects);
  Check(again->common_prefixes == page.common_prefixes);
  Check(again->is_truncated == page.is_truncated);
  Check(again->next_continuation_token == page.next_continuation_token);
}

}  // namespace

std::vector<std::string> FreshetFuzzSeeds() {
  return {
      R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>photos/</Prefix>
<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
<IsTruncated>true</IsTruncated><Contents><Key>photos/a&amp;b.jpg</Key><ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag>
<Size>434234</Size></Contents><CommonPrefixes><Prefix>photos/2006/</Prefix></CommonPrefixes></ListBucketResult>)",
      R"(<ListBucketResult><EncodingType>url</EncodingType><Contents><Key>caf%C3%A9+1%2B2</Key><Size>1</Size></Contents>)"
      R"(<CommonPrefixes><Prefix>a%2Fb/</Prefix></CommonPrefixes></ListBucketResult>)",
      R"(<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>4442587FB7D0A2F9</RequestId>
<Resource>/b/k</Resource></Error>)",
      R"(<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>b</Bucket><Key>k</Key>)"
      R"(<UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId></InitiateMultipartUploadResult>)",
      R"(   <CompleteMultipartUploadResult><Location>http://b.s3.amazonaws.com/k</Location><Bucket>b</Bucket>)"
      R"(<Key>k</Key><ETag>"3858f62230ac3c915f300c664312c11f-9"</ETag></CompleteMultipartUploadResult>)",
      R"(<ErrorResponse><Error><Code>Throttling</Code></Error><RequestId>r</RequestId></ErrorResponse>)",
  };
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);

  auto page = freshet::s3::ParseListObjectsV2(in);
  if (page.ok()) {
    Check(!page->is_truncated || !page->next_continuation_token.empty());
    CheckListRoundTrip(*page);
  } else {
    Check(page.status().code() == StatusCode::kDataLoss);
  }

  (void)freshet::s3::ParseError(in);

  auto upload = freshet::s3::ParseInitiateMultipartUpload(in);
  Check(upload.ok() ? !upload->empty() : upload.status().code() == StatusCode::kDataLoss);

  auto complete = freshet::s3::ParseCompleteMultipartUpload(in);
  if (complete.ok()) {
    Check(complete->error.has_value() || !complete->etag.empty());
  } else {
    Check(complete.status().code() == StatusCode::kDataLoss);
  }

  if (size <= 256 && !HasNul(in)) {
    std::string etag = freshet::s3::UnquoteEtag(in);
    std::string body = freshet::s3::BuildCompleteMultipartUpload({{1, std::string(in)}, {2, "x"}});
    pugi::xml_document doc;
    Check(static_cast<bool>(doc.load_buffer(body.data(), body.size())));
    pugi::xml_node part = doc.child("CompleteMultipartUpload").child("Part");
    Check(std::string_view(part.child_value("PartNumber")) == "1");
    Check(part.child_value("ETag") == "\"" + etag + "\"");
  }
  return 0;
}
