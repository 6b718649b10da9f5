#pragma once

// Reading a TOML settings file so that every problem is told with its file, line, column and
// key: the engine's config (app/config) and the simulator's (sim) both read theirs through it.
// Every key a reader knows is taken through a TableReader; finish() reports the rest as unknown,
// with the nearest known key when one is close. Heavy (toml++): include it only in the .cpp files
// that read a file.

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include <xarb/core/decimal.hpp>
#include <xarb/settings/issue.hpp>

namespace xarb::settings {

template <class E>
struct Choice {
  std::string_view name;
  E value;
};

template <class E, std::size_t N>
std::string_view name_of(const std::array<Choice<E>, N>& choices, E value) {
  for (const auto& c : choices) {
    if (c.value == value) return c.name;
  }
  return "unknown";
}

template <class E, std::size_t N>
std::string list_of(const std::array<Choice<E>, N>& choices) {
  std::string out;
  for (std::size_t i = 0; i < N; ++i) {
    if (i > 0) out += i + 1 == N ? " or " : ", ";
    out += '"';
    out += choices[i].name;
    out += '"';
  }
  return out;
}

// A line or value without its surrounding blanks (and a CR left by a CRLF line end).
inline std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return std::string(s);
}

inline std::string number_text(double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

inline std::string type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a floating-point number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    default:
      return "nothing";
  }
}

inline std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

inline bool looks_like_secret(std::string_view key) {
  for (const std::string_view word :
       {"secret", "api_key", "apikey", "access_key", "password", "token", "private_key"}) {
    if (key.find(word) != std::string_view::npos) return true;
  }
  return false;
}

// Collects issues and remembers where each key was, for checks that span several keys.
struct Context {
  std::string file;
  std::filesystem::path base_dir;
  std::vector<Issue> issues;
  std::map<std::string, toml::source_region> where;

  void error(const toml::source_region& at, std::string key, std::string message) {
    issues.push_back({file, static_cast<int>(at.begin.line), static_cast<int>(at.begin.column),
                      std::move(key), std::move(message)});
  }
  // True when an issue was already reported for `key` or a key under it: a later check on the
  // same value would only repeat the cause.
  bool has_issue_under(std::string_view key) const {
    return std::any_of(issues.begin(), issues.end(),
                       [&](const Issue& i) { return i.key.starts_with(key); });
  }
  void error_at(const std::string& key, std::string message) {
    const auto it = where.find(key);
    error(it == where.end() ? toml::source_region{} : it->second, key, std::move(message));
  }
};

// Reads one TOML table: every key the engine knows is taken through one of these functions,
// and finish() reports the rest as unknown.
class TableReader {
 public:
  TableReader(Context& ctx, const toml::table& table, std::string prefix)
      : ctx_(ctx), table_(table), prefix_(std::move(prefix)) {}

  std::string path(std::string_view key) const {
    return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
  }

  const toml::node* take(std::string_view key) {
    known_.insert(std::string(key));
    const toml::node* node = table_.get(key);
    if (node != nullptr) ctx_.where[path(key)] = node->source();
    return node;
  }

  void wrong_type(std::string_view key, const toml::node& node, std::string_view expected) {
    ctx_.error(node.source(), path(key),
               "expected " + std::string(expected) + ", got " + type_name(node));
  }

  void string(std::string_view key, std::string& out, bool non_empty = true) {
    const toml::node* node = take(key);
    if (node == nullptr) return;
    const auto v = node->value<std::string>();
    if (!node->is_string() || !v) return wrong_type(key, *node, "a string");
    if (non_empty && v->empty()) {
      ctx_.error(node->source(), path(key), "must not be empty");
      return;
    }
    out = *v;
  }

  void boolean(std::string_view key, bool& out) {
    const toml::node* node = take(key);
    if (node == nullptr) return;
    if (!node->is_boolean()) return wrong_type(key, *node, "true or false");
    out = *node->value<bool>();
  }

  template <class Int>
  void integer(std::string_view key, Int& out, std::int64_t min, std::int64_t max) {
    const toml::node* node = take(key);
    if (node == nullptr) return;
    if (!node->is_integer()) return wrong_type(key, *node, "an integer");
    const std::int64_t v = *node->value<std::int64_t>();
    if (v < min || v > max) {
      ctx_.error(node->source(), path(key),
                 "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                     ", got " + std::to_string(v));
      return;
    }
    out = static_cast<Int>(v);
  }

  // A number in [min, max]; min excluded when min_exclusive. Integers are accepted.
  void number(std::string_view key, double& out, double min, double max,
              bool min_exclusive = false) {
    const toml::node* node = take(key);
    if (node == nullptr) return;
    if (!node->is_number()) return wrong_type(key, *node, "a number");
    const double v = *node->value<double>();
    if ((min_exclusive ? v <= min : v < min) || v > max || v != v) {
      ctx_.error(node->source(), path(key),
                 std::string("must be ") + (min_exclusive ? "greater than " : "at least ") +
                     number_text(min) + " and at most " + number_text(max) + ", got " +
                     number_text(v));
      return;
    }
    out = v;
  }

  // An exact decimal: a string ("0.001", preferred) or a TOML number, which is read back from
  // its shortest text so that 0.001 stays 0.001. Must be > 0 when positive is set.
  void decimal(std::string_view key, Decimal& out, bool positive = true) {
    const toml::node* node = take(key);
    if (node == nullptr) return;
    std::string text;
    if (node->is_string()) {
      text = *node->value<std::string>();
    } else if (node->is_integer()) {
      text = std::to_string(*node->value<std::int64_t>());
    } else if (node->is_floating_point()) {
      text = number_text(*node->value<double>());
    } else {
      return wrong_type(key, *node, "a decimal number (string or number)");
    }
    Decimal v;
    if (const Errc ec = Decimal::parse(text, v); ec != Errc::ok) {
      ctx_.error(node->source(), path(key),
                 "\"" + text + "\" is not a decimal number the engine can hold (" +
                     std::string(xarb::to_string(ec)) + "; at most 8 decimals)");
      return;
    }
    if (positive && !v.is_positive()) {
      ctx_.error(node->source(), path(key), "must be greater than 0, got " + text);
      return;
    }
    out = v;
  }

  template <class E, std::size_t N>
  void choice(std::string_view key, E& out, const std::array<Choice<E>, N>& choices) {
    const toml::node* node = take(key);
    if (node == nullptr) return;
    if (!node->is_string()) return wrong_type(key, *node, "one of " + list_of(choices));
    const std::string v = *node->value<std::string>();
    for (const auto& c : choices) {
      if (c.name == v) {
        out = c.value;
        return;
      }
    }
    ctx_.error(node->source(), path(key), "\"" + v + "\" is not one of " + list_of(choices));
  }

  // A string that must be one of `names` (an empty name ends the list).
  template <std::size_t N>
  void one_of(std::string_view key, std::string& out, const std::array<std::string_view, N>& names) {
    const toml::node* node = take(key);
    if (node == nullptr) return;
    std::string list;
    for (const std::string_view n : names) {
      if (n.empty()) break;
      list += (list.empty() ? "\"" : ", \"") + std::string(n) + "\"";
    }
    if (!node->is_string()) return wrong_type(key, *node, "one of " + list);
    const std::string v = *node->value<std::string>();
    for (const std::string_view n : names) {
      if (!n.empty() && n == v) {
        out = v;
        return;
      }
    }
    ctx_.error(node->source(), path(key), "\"" + v + "\" is not one of " + list);
  }

  // A key an earlier version read here: refused with where it is read now.
  void moved(std::string_view key, const std::string& now) {
    const toml::node* node = take(key);
    if (node != nullptr) ctx_.error(node->source(), path(key), "moved: set " + now + " instead");
  }

  // A relative path is taken relative to the config file's directory.
  void file_path(std::string_view key, std::string& out) {
    std::string text;
    string(key, text, false);
    if (text.empty()) return;
    std::filesystem::path p(text);
    if (p.is_relative() && !ctx_.base_dir.empty()) p = ctx_.base_dir / p;
    out = p.lexically_normal().string();
  }

  const toml::table* table(std::string_view key) {
    const toml::node* node = take(key);
    if (node == nullptr) return nullptr;
    if (!node->is_table()) {
      wrong_type(key, *node, "a table");
      return nullptr;
    }
    return node->as_table();
  }

  const toml::array* array(std::string_view key, std::string_view expected) {
    const toml::node* node = take(key);
    if (node == nullptr) return nullptr;
    if (!node->is_array()) {
      wrong_type(key, *node, expected);
      return nullptr;
    }
    return node->as_array();
  }

  void finish() {
    for (const auto& [k, node] : table_) {
      const std::string key(k.str());
      if (known_.contains(key)) continue;
      std::string message = "unknown key";
      if (looks_like_secret(key)) {
        message +=
            "; secrets are never read from the config file: set the XARB_* environment "
            "variables or point key_file at a 0600 file";
      } else {
        std::string best;
        std::size_t best_distance = 3;  // suggest only close matches
        for (const auto& candidate : known_) {
          const std::size_t dist = edit_distance(key, candidate);
          if (dist < best_distance) {
            best_distance = dist;
            best = candidate;
          }
        }
        if (!best.empty()) message += " (did you mean '" + best + "'?)";
      }
      ctx_.error(k.source(), path(key), message);
    }
  }

 private:
  Context& ctx_;
  const toml::table& table_;
  std::string prefix_;
  std::set<std::string> known_;
};

// Parses `text` as TOML; on a syntax error, adds it to `ctx` and returns false.
[[nodiscard]] bool parse(std::string_view text, Context& ctx, toml::table& out);

}  // namespace xarb::settings
