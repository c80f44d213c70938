#include "mcp/json_schema.h"

#include <boost/json.hpp>
#include <cmath>
#include <regex>

namespace outpost::mcp {
namespace json = boost::json;
namespace {

std::size_t CodePoints(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool IsInteger(const json::value& v) {
  if (v.is_int64() || v.is_uint64()) return true;
  return v.is_double() && std::isfinite(v.get_double()) &&
         v.get_double() == std::floor(v.get_double());
}

double AsNumber(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return v.get_double();
}

bool HasType(const json::value& v, std::string_view type) {
  if (type == "null") return v.is_null();
  if (type == "boolean") return v.is_bool();
  if (type == "string") return v.is_string();
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "number") return v.is_number();
  if (type == "integer") return IsInteger(v);
  return false;
}

// Two JSON values are equal for enum/uniqueItems (numbers by value).
bool JsonEqual(const json::value& a, const json::value& b) {
  if (a.is_number() && b.is_number()) return AsNumber(a) == AsNumber(b);
  return a == b;
}

std::string Join(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : std::string(path) + "." + std::string(key);
}

std::string Label(std::string_view path) { return path.empty() ? "the value" : std::string(path); }

class Validator {
 public:
  std::vector<FieldError> errors;

  void Check(const json::value& schema, const json::value& v, const std::string& path) {
    if (!schema.is_object()) return;  // `true` / `{}`: anything
    const json::object& s = schema.get_object();
    if (!CheckType(s, v, path)) return;
    CheckEnum(s, v, path);
    if (v.is_number()) CheckNumber(s, v, path);
    if (v.is_string()) CheckString(s, v.get_string(), path);
    if (v.is_object()) CheckObject(s, v.get_object(), path);
    if (v.is_array()) CheckArray(s, v.get_array(), path);
    if (auto* one = s.if_contains("oneOf"); one && one->is_array()) CheckOneOf(*one, v, path);
  }

 private:
  void Fail(const std::string& path, std::string message) {
    errors.push_back({path, std::move(message)});
  }

  bool CheckType(const json::object& s, const json::value& v, const std::string& path) {
    const json::value* t = s.if_contains("type");
    if (!t) return true;
    std::vector<std::string> types;
    if (t->is_string()) types.emplace_back(t->get_string());
    if (t->is_array()) {
      for (const auto& x : t->get_array()) {
        if (x.is_string()) types.emplace_back(x.get_string());
      }
    }
    for (const auto& type : types) {
      if (HasType(v, type)) return true;
    }
    std::string list;
    for (const auto& type : types) list += (list.empty() ? "" : " or ") + type;
    Fail(path, Label(path) + " must be " + (v.is_null() ? "given (" + list + ")" : list));
    return false;
  }

  void CheckEnum(const json::object& s, const json::value& v, const std::string& path) {
    const json::value* e = s.if_contains("enum");
    if (!e || !e->is_array()) return;
    std::string list;
    for (const auto& x : e->get_array()) {
      if (JsonEqual(x, v)) return;
      list += (list.empty() ? "" : ", ") + json::serialize(x);
    }
    Fail(path, Label(path) + " must be one of: " + list);
  }

  void CheckNumber(const json::object& s, const json::value& v, const std::string& path) {
    const double n = AsNumber(v);
    const json::value* lo = s.if_contains("minimum");
    const json::value* hi = s.if_contains("maximum");
    if ((lo && lo->is_number() && n < AsNumber(*lo)) ||
        (hi && hi->is_number() && n > AsNumber(*hi))) {
      Fail(path, Label(path) + " must be from " + (lo ? json::serialize(*lo) : "-inf") + " to " +
                     (hi ? json::serialize(*hi) : "inf"));
      return;
    }
    if (const json::value* x = s.if_contains("exclusiveMinimum");
        x && x->is_number() && n <= AsNumber(*x)) {
      Fail(path, Label(path) + " must be above " + json::serialize(*x));
    }
  }

  void CheckString(const json::object& s, std::string_view str, const std::string& path) {
    const std::size_t n = CodePoints(str);
    const json::value* lo = s.if_contains("minLength");
    const json::value* hi = s.if_contains("maxLength");
    if ((lo && lo->is_number() && n < AsNumber(*lo)) ||
        (hi && hi->is_number() && n > AsNumber(*hi))) {
      Fail(path, Label(path) + " must be " + (lo ? json::serialize(*lo) : "0") + " to " +
                     (hi ? json::serialize(*hi) : "any number of") + " characters (got " +
                     std::to_string(n) + ")");
      return;
    }
    if (const json::value* p = s.if_contains("pattern"); p && p->is_string()) {
      const std::regex re(std::string(p->get_string()), std::regex::ECMAScript);
      if (!std::regex_search(std::string(str), re)) {
        Fail(path, Label(path) + " must match " + std::string(p->get_string()));
      }
    }
  }

  void CheckObject(const json::object& s, const json::object& o, const std::string& path) {
    const json::value* props = s.if_contains("properties");
    if (const json::value* req = s.if_contains("required"); req && req->is_array()) {
      for (const auto& k : req->get_array()) {
        if (k.is_string() && !o.contains(k.get_string())) {
          const std::string p = Join(path, k.get_string());
          Fail(p, p + " is required");
        }
      }
    }
    if (const json::value* m = s.if_contains("maxProperties");
        m && m->is_number() && static_cast<double>(o.size()) > AsNumber(*m)) {
      Fail(path, Label(path) + " has more than " + json::serialize(*m) + " properties");
    }
    const json::value* names = s.if_contains("propertyNames");
    const json::value* extra = s.if_contains("additionalProperties");
    for (const auto& kv : o) {
      const std::string p = Join(path, kv.key());
      if (names) {
        const std::size_t before = errors.size();
        Check(*names, json::value(kv.key()), p);
        if (errors.size() != before) continue;
      }
      const json::value* sub =
          props && props->is_object() ? props->get_object().if_contains(kv.key()) : nullptr;
      if (sub) {
        Check(*sub, kv.value(), p);
      } else if (extra && extra->is_bool() && !extra->get_bool()) {
        Fail(p, "unknown field");
      } else if (extra && extra->is_object()) {
        Check(*extra, kv.value(), p);
      }
    }
  }

  void CheckArray(const json::object& s, const json::array& a, const std::string& path) {
    const json::value* lo = s.if_contains("minItems");
    const json::value* hi = s.if_contains("maxItems");
    const double n = static_cast<double>(a.size());
    if ((lo && lo->is_number() && n < AsNumber(*lo)) ||
        (hi && hi->is_number() && n > AsNumber(*hi))) {
      Fail(path, Label(path) + " must have " + (lo ? json::serialize(*lo) : "0") + " to " +
                     (hi ? json::serialize(*hi) : "any number of") + " items");
    }
    if (const json::value* u = s.if_contains("uniqueItems"); u && u->is_bool() && u->get_bool()) {
      for (std::size_t i = 0; i < a.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
          if (JsonEqual(a[i], a[j])) Fail(path + "[" + std::to_string(i) + "]", "listed twice");
        }
      }
    }
    if (const json::value* items = s.if_contains("items")) {
      for (std::size_t i = 0; i < a.size(); ++i) {
        Check(*items, a[i], path + "[" + std::to_string(i) + "]");
      }
    }
  }

  void CheckOneOf(const json::value& options, const json::value& v, const std::string& path) {
    // With no match, the errors of the form whose type fits the value explain best.
    int matched = 0;
    std::vector<FieldError> first;
    bool first_type_fits = false;
    for (const auto& option : options.get_array()) {
      Validator sub;
      sub.Check(option, v, path);
      Validator type_only;
      const bool type_fits =
          !option.is_object() || type_only.CheckType(option.get_object(), v, path);
      if (sub.errors.empty()) {
        ++matched;
      } else if (first.empty() || (type_fits && !first_type_fits)) {
        first = std::move(sub.errors);
        first_type_fits = type_fits;
      }
    }
    if (matched == 1) return;
    if (matched == 0) {
      errors.insert(errors.end(), first.begin(), first.end());
    } else {
      Fail(path, Label(path) + " matches more than one form");
    }
  }
};

}  // namespace

std::vector<FieldError> ValidateSchema(const json::value& schema, const json::value& value) {
  Validator v;
  v.Check(schema, value, "");
  return std::move(v.errors);
}

}  // namespace outpost::mcp
