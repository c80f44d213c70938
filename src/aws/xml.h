// A small XML reader for AWS responses (S3's ListBucketResult, InitiateMultipartUploadResult,
// Error, ...): elements, their character data and children. Enough for documents a service
// generates; not a validating parser. Namespace prefixes are dropped from element names,
// attributes are skipped, entities (&lt; &#233; &#x1F600; ...) and CDATA are decoded, comments,
// processing instructions and DOCTYPE are ignored.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace outpost::aws {

struct XmlElement {
  std::string name;  // local name: "Key" for <s3:Key>
  std::string text;  // the character data directly inside, decoded, untrimmed
  std::vector<XmlElement> children;

  // The first child named `name`, or null.
  const XmlElement* Child(std::string_view name) const;
  // Every child named `name`, in document order.
  std::vector<const XmlElement*> Children(std::string_view name) const;
  // The text of the first child named `name`, or "" when there is none.
  std::string ChildText(std::string_view name) const;
};

// The root element. kInvalidArgument naming the byte offset for malformed input (unclosed or
// mismatched tags, bad entities, nesting deeper than 64, no root element).
Result<XmlElement> ParseXml(std::string_view text);

// Escapes & < > " ' for use in element text and attribute values.
std::string XmlEscape(std::string_view text);

}  // namespace outpost::aws
