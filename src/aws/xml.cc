// A recursive-descent reader over a string_view. Robustness comes from being strict about
// structure (every tag closed, names matching) and lenient about what AWS may add (attributes,
// namespaces, whitespace, comments), so an unexpected document fails loudly instead of being
// half-read.
#include "aws/xml.h"

#include <cctype>
#include <cstdint>

namespace outpost::aws {
namespace {

constexpr int kMaxDepth = 64;

bool IsNameChar(char c) {
  return c != '>' && c != '/' && c != '=' && c != ' ' && c != '\t' && c != '\r' && c != '\n';
}

void AppendUtf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  Result<XmlElement> Document() {
    OUTPOST_RETURN_IF_ERROR(SkipMisc());
    if (!Peek("<")) return Error("no root element");
    XmlElement root;
    OUTPOST_RETURN_IF_ERROR(Element(root, 0));
    OUTPOST_RETURN_IF_ERROR(SkipMisc());
    if (pos_ != s_.size()) return Error("content after the root element");
    return root;
  }

 private:
  Status Error(const std::string& what) const {
    return InvalidArgument("XML: " + what + " at byte " + std::to_string(pos_));
  }
  bool Peek(std::string_view p) const { return s_.substr(pos_).starts_with(p); }

  // Skips `<?...?>`, `<!--...-->`, `<!DOCTYPE ...>` and whitespace.
  Status SkipMisc() {
    for (;;) {
      while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
      std::string_view close;
      if (Peek("<?"))
        close = "?>";
      else if (Peek("<!--"))
        close = "-->";
      else if (Peek("<!"))
        close = ">";
      else
        return Status::Ok();
      std::size_t end = s_.find(close, pos_);
      if (end == std::string_view::npos) return Error("unterminated markup");
      pos_ = end + close.size();
    }
  }

  Status Element(XmlElement& el, int depth) {
    if (depth >= kMaxDepth) return Error("nesting deeper than 64");
    ++pos_;  // '<'
    std::size_t start = pos_;
    while (pos_ < s_.size() && IsNameChar(s_[pos_])) ++pos_;
    std::string_view qname = s_.substr(start, pos_ - start);
    if (qname.empty()) return Error("empty element name");
    el.name = std::string(
        qname.substr(qname.find(':') == std::string_view::npos ? 0 : qname.find(':') + 1));
    OUTPOST_RETURN_IF_ERROR(SkipAttributes());
    if (Peek("/>")) {
      pos_ += 2;
      return Status::Ok();
    }
    ++pos_;  // '>'
    return Content(el, qname, depth);
  }

  Status SkipAttributes() {
    while (pos_ < s_.size() && s_[pos_] != '>' && !Peek("/>")) {
      char c = s_[pos_];
      if (c == '"' || c == '\'') {
        std::size_t end = s_.find(c, pos_ + 1);
        if (end == std::string_view::npos) return Error("unterminated attribute value");
        pos_ = end;
      }
      ++pos_;
    }
    if (pos_ >= s_.size()) return Error("unterminated start tag");
    return Status::Ok();
  }

  Status Content(XmlElement& el, std::string_view qname, int depth) {
    while (pos_ < s_.size()) {
      if (Peek("</")) {
        pos_ += 2;
        std::size_t end = s_.find('>', pos_);
        if (end == std::string_view::npos) return Error("unterminated end tag");
        std::string_view closing = s_.substr(pos_, end - pos_);
        while (!closing.empty() && std::isspace(static_cast<unsigned char>(closing.back()))) {
          closing.remove_suffix(1);
        }
        if (closing != qname) {
          return Error("</" + std::string(closing) + "> closes <" + std::string(qname) + ">");
        }
        pos_ = end + 1;
        return Status::Ok();
      }
      if (Peek("<![CDATA[")) {
        std::size_t end = s_.find("]]>", pos_);
        if (end == std::string_view::npos) return Error("unterminated CDATA");
        el.text += s_.substr(pos_ + 9, end - pos_ - 9);
        pos_ = end + 3;
      } else if (Peek("<?") || Peek("<!")) {
        OUTPOST_RETURN_IF_ERROR(SkipMisc());
      } else if (Peek("<")) {
        el.children.emplace_back();
        OUTPOST_RETURN_IF_ERROR(Element(el.children.back(), depth + 1));
      } else if (Peek("&")) {
        OUTPOST_RETURN_IF_ERROR(Entity(el.text));
      } else {
        el.text += s_[pos_++];
      }
    }
    return Error("<" + std::string(qname) + "> is not closed");
  }

  Status Entity(std::string& out) {
    std::size_t end = s_.find(';', pos_);
    if (end == std::string_view::npos || end - pos_ > 12) return Error("bad entity");
    std::string_view name = s_.substr(pos_ + 1, end - pos_ - 1);
    pos_ = end + 1;
    if (name == "lt")
      out += '<';
    else if (name == "gt")
      out += '>';
    else if (name == "amp")
      out += '&';
    else if (name == "quot")
      out += '"';
    else if (name == "apos")
      out += '\'';
    else if (name.starts_with('#'))
      return CharRef(name.substr(1), out);
    else
      return Error("unknown entity &" + std::string(name) + ";");
    return Status::Ok();
  }

  Status CharRef(std::string_view digits, std::string& out) {
    int base = 10;
    if (!digits.empty() && (digits[0] == 'x' || digits[0] == 'X')) {
      base = 16;
      digits.remove_prefix(1);
    }
    if (digits.empty()) return Error("empty character reference");
    std::uint32_t cp = 0;
    for (char c : digits) {
      int v = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
              : base == 16 && std::isxdigit(static_cast<unsigned char>(c))
                  ? (std::tolower(static_cast<unsigned char>(c)) - 'a' + 10)
                  : -1;
      if (v < 0) return Error("bad character reference");
      cp = cp * static_cast<std::uint32_t>(base) + static_cast<std::uint32_t>(v);
      if (cp > 0x10FFFF) return Error("character reference out of range");
    }
    AppendUtf8(out, cp);
    return Status::Ok();
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

}  // namespace

const XmlElement* XmlElement::Child(std::string_view n) const {
  for (const auto& c : children) {
    if (c.name == n) return &c;
  }
  return nullptr;
}

std::vector<const XmlElement*> XmlElement::Children(std::string_view n) const {
  std::vector<const XmlElement*> out;
  for (const auto& c : children) {
    if (c.name == n) out.push_back(&c);
  }
  return out;
}

std::string XmlElement::ChildText(std::string_view n) const {
  const XmlElement* c = Child(n);
  return c ? c->text : "";
}

Result<XmlElement> ParseXml(std::string_view text) { return Parser(text).Document(); }

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace outpost::aws
