#include "storage/s3/s3_xml.h"

#include <pugixml.hpp>

#include <charconv>
#include <cstring>
#include <string>

namespace freshet::s3 {
namespace {

// Keep whitespace-only text when it is an element's only child: a key may be
// " " and must not read back as "". Everything else is pugixml's default
// (entities and character references decoded, CDATA kept, line ends
// normalised as XML requires).
// parse_fragment keeps text outside the root element in the tree, so that
// LoadRoot can reject it (pugixml would otherwise drop it silently).
constexpr unsigned kParseOptions = pugi::parse_default | pugi::parse_ws_pcdata_single | pugi::parse_fragment;

// Element names compared without a namespace prefix ("s3:Key" is "Key"):
// S3 uses a default namespace, but a proxy that rewrites documents may not.
std::string_view LocalName(const char* name) {
  std::string_view n(name);
  size_t colon = n.find(':');
  return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

pugi::xml_node Child(pugi::xml_node parent, std::string_view name) {
  for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && LocalName(c.name()) == name) return c;
  }
  return {};
}

// The text of the first child element `name` ("" if none), viewing the
// document's memory.
std::string_view ChildText(pugi::xml_node parent, std::string_view name) {
  return Child(parent, name).child_value();
}

std::string_view TrimXmlSpace(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n";
  size_t b = s.find_first_not_of(kSpace);
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(kSpace);
  return s.substr(b, e - b + 1);
}

// Parses `xml` and returns its root element. kDataLoss names `document`, the
// document the caller expected, so a corrupt page reads as such in logs.
Result<pugi::xml_node> LoadRoot(pugi::xml_document& doc, std::string_view xml, std::string_view document) {
  pugi::xml_parse_result r = doc.load_buffer(xml.data(), xml.size(), kParseOptions, pugi::encoding_utf8);
  if (!r) {
    return Status::DataLoss(std::string(document) + " response: truncated or corrupt XML (" + r.description() +
                            " at byte " + std::to_string(r.offset) + " of " + std::to_string(xml.size()) + ")");
  }
  pugi::xml_node root = doc.document_element();
  if (!root) return Status::DataLoss(std::string(document) + " response: no XML element");
  // pugixml accepts a forest; a well-formed response is one element, and
  // anything after it means two responses ran together or bytes are wrong.
  for (pugi::xml_node n = doc.first_child(); n; n = n.next_sibling()) {
    bool text = n.type() == pugi::node_pcdata || n.type() == pugi::node_cdata;
    if (n != root && (n.type() == pugi::node_element || (text && !TrimXmlSpace(n.value()).empty()))) {
      return Status::DataLoss(std::string(document) + " response: content outside the root element");
    }
  }
  return root;
}

Status WrongRoot(std::string_view document, pugi::xml_node root) {
  return Status::DataLoss(std::string(document) + " response: expected <" + std::string(document) + ">, got <" +
                          root.name() + ">");
}

// S3's encoding-type=url: percent-escapes and '+' for space (what the SDKs
// undo with unquote_plus). A malformed escape is kept as written.
std::string UrlDecode(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

// Escapes text content. Written by hand rather than with pugixml's writer,
// which leaves a carriage return raw (a parser would read it back as a line
// feed); control characters become character references.
void AppendEscaped(std::string_view s, std::string* out) {
  for (char c : s) {
    switch (c) {
      case '&': *out += "&amp;"; break;
      case '<': *out += "&lt;"; break;
      case '>': *out += "&gt;"; break;
      case '"': *out += "&quot;"; break;
      case '\'': *out += "&apos;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') {
          *out += "&#" + std::to_string(static_cast<int>(c)) + ";";
        } else {
          *out += c;
        }
    }
  }
}

std::optional<S3Error> ErrorFrom(pugi::xml_node error) {
  S3Error e;
  e.code = ChildText(error, "Code");
  e.message = ChildText(error, "Message");
  e.request_id = ChildText(error, "RequestId");
  e.resource = ChildText(error, "Resource");
  return e;
}

}  // namespace

std::optional<S3Error> ParseError(std::string_view xml) {
  pugi::xml_document doc;
  if (!doc.load_buffer(xml.data(), xml.size(), kParseOptions, pugi::encoding_utf8)) return std::nullopt;
  pugi::xml_node root = doc.document_element();
  if (LocalName(root.name()) == "Error") return ErrorFrom(root);
  // <ErrorResponse><Error>...</Error><RequestId>...</ErrorResponse>, the
  // query-protocol form some S3-compatible services (and S3 Control) use.
  if (LocalName(root.name()) == "ErrorResponse") {
    pugi::xml_node error = Child(root, "Error");
    if (!error) return std::nullopt;
    std::optional<S3Error> e = ErrorFrom(error);
    if (e->request_id.empty()) e->request_id = ChildText(root, "RequestId");
    return e;
  }
  return std::nullopt;
}

Result<ListObjectsV2Page> ParseListObjectsV2(std::string_view xml) {
  constexpr std::string_view kDoc = "ListBucketResult";
  pugi::xml_document doc;
  FRESHET_ASSIGN_OR_RETURN(pugi::xml_node root, LoadRoot(doc, xml, kDoc));
  if (LocalName(root.name()) != kDoc) return WrongRoot(kDoc, root);

  const bool url_encoded = TrimXmlSpace(ChildText(root, "EncodingType")) == "url";
  auto decoded = [url_encoded](std::string_view s) { return url_encoded ? UrlDecode(s) : std::string(s); };

  ListObjectsV2Page page;
  std::string_view truncated = TrimXmlSpace(ChildText(root, "IsTruncated"));
  if (truncated == "true") {
    page.is_truncated = true;
  } else if (truncated != "false" && !truncated.empty()) {
    return Status::DataLoss("ListBucketResult response: IsTruncated is '" + std::string(truncated) + "'");
  }
  // Opaque: S3 does not URL-encode the token, and decoding would turn a
  // base64 '+' into a space.
  page.next_continuation_token = ChildText(root, "NextContinuationToken");
  if (page.is_truncated && page.next_continuation_token.empty()) {
    return Status::DataLoss("ListBucketResult response: IsTruncated without a NextContinuationToken");
  }

  for (pugi::xml_node c = root.first_child(); c; c = c.next_sibling()) {
    if (c.type() != pugi::node_element) continue;
    std::string_view name = LocalName(c.name());
    if (name == "Contents") {
      pugi::xml_node key = Child(c, "Key");
      if (!key) return Status::DataLoss("ListBucketResult response: <Contents> without <Key>");
      ObjectInfo info;
      info.key = decoded(key.child_value());
      pugi::xml_node size = Child(c, "Size");
      std::string_view size_text = TrimXmlSpace(size.child_value());
      auto [end, ec] = std::from_chars(size_text.data(), size_text.data() + size_text.size(), info.size);
      if (!size || size_text.empty() || ec != std::errc() || end != size_text.data() + size_text.size()) {
        return Status::DataLoss("ListBucketResult response: bad <Size> '" + std::string(size_text) + "' for key '" +
                                info.key + "'");
      }
      info.etag = UnquoteEtag(ChildText(c, "ETag"));
      page.objects.push_back(std::move(info));
    } else if (name == "CommonPrefixes") {
      // One <Prefix> per <CommonPrefixes> in S3's output; accept several.
      for (pugi::xml_node p = c.first_child(); p; p = p.next_sibling()) {
        if (p.type() == pugi::node_element && LocalName(p.name()) == "Prefix") {
          page.common_prefixes.push_back(decoded(p.child_value()));
        }
      }
    }
  }
  return page;
}

Result<std::string> ParseInitiateMultipartUpload(std::string_view xml) {
  constexpr std::string_view kDoc = "InitiateMultipartUploadResult";
  pugi::xml_document doc;
  FRESHET_ASSIGN_OR_RETURN(pugi::xml_node root, LoadRoot(doc, xml, kDoc));
  if (LocalName(root.name()) != kDoc) return WrongRoot(kDoc, root);
  std::string upload_id(ChildText(root, "UploadId"));
  if (upload_id.empty()) return Status::DataLoss("InitiateMultipartUploadResult response: no <UploadId>");
  return upload_id;
}

std::string BuildCompleteMultipartUpload(const std::vector<std::pair<int, std::string>>& parts) {
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
      "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  for (const auto& [number, etag] : parts) {
    out += "<Part><PartNumber>";
    out += std::to_string(number);
    // Quoted, as UploadPart returned it and as the SDKs send it back.
    out += "</PartNumber><ETag>\"";
    AppendEscaped(UnquoteEtag(etag), &out);
    out += "\"</ETag></Part>";
  }
  out += "</CompleteMultipartUpload>";
  return out;
}

Result<CompleteMultipartResult> ParseCompleteMultipartUpload(std::string_view xml) {
  constexpr std::string_view kDoc = "CompleteMultipartUploadResult";
  pugi::xml_document doc;
  // S3 sends whitespace while it assembles the parts, then the document; a
  // connection lost in between leaves only the whitespace, which LoadRoot
  // reports as data loss.
  FRESHET_ASSIGN_OR_RETURN(pugi::xml_node root, LoadRoot(doc, xml, kDoc));
  CompleteMultipartResult result;
  if (LocalName(root.name()) == "Error") {
    result.error = ErrorFrom(root);
    return result;
  }
  if (LocalName(root.name()) != kDoc) return WrongRoot(kDoc, root);
  if (pugi::xml_node error = Child(root, "Error")) {
    result.error = ErrorFrom(error);
    return result;
  }
  result.etag = UnquoteEtag(ChildText(root, "ETag"));
  if (result.etag.empty()) return Status::DataLoss("CompleteMultipartUploadResult response: no <ETag>");
  return result;
}

std::string UnquoteEtag(std::string_view etag) {
  if (etag.starts_with("W/")) etag.remove_prefix(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  return std::string(etag);
}

}  // namespace freshet::s3
