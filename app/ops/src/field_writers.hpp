#pragma once

// The report field tables (report_fields.hpp) written out as JSON, read back from it, and as the
// text report's columns.

#include <iomanip>
#include <nlohmann/json.hpp>
#include <ostream>
#include <span>
#include <stdexcept>
#include <string>

#include <xarb/app/report_fields.hpp>

namespace xarb::app::fields {

// Money and quantities as exact decimal strings, never binary floats.
inline nlohmann::json json_of(const FieldValue& v) {
  return std::visit(
      [](const auto& x) -> nlohmann::json {
        if constexpr (std::is_same_v<std::decay_t<decltype(x)>, Decimal>) {
          return to_string(x);
        } else {
          return x;
        }
      },
      v);
}

template <class Row>
void put_json(nlohmann::json& j, std::span<const ReportField<Row>> table, const Row& row) {
  for (const ReportField<Row>& f : table) {
    if (!f.key.empty()) j[std::string(f.key)] = json_of(f.get(row));
  }
}

// Sets every kept field of `row` from `j`, each as the type the table gives it; throws
// std::runtime_error naming the key that is missing or of another type.
template <class Row>
void read_json(const nlohmann::json& j, std::span<const ReportField<Row>> table, Row& row) {
  for (const ReportField<Row>& f : table) {
    if (f.set == nullptr || f.key.empty()) continue;
    const std::string key(f.key);
    if (!j.contains(key)) throw std::runtime_error("\"" + key + "\" is missing");
    const nlohmann::json& v = j[key];
    FieldValue value = f.get(Row{});
    std::visit(
        [&](auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, Decimal>) {
            if (!v.is_string() || Decimal::parse(v.get<std::string>(), x) != Errc::ok) {
              throw std::runtime_error("\"" + key + "\" is not a decimal string");
            }
          } else if constexpr (std::is_same_v<T, bool>) {
            if (!v.is_boolean()) throw std::runtime_error("\"" + key + "\" is not true or false");
            x = v.get<bool>();
          } else if constexpr (std::is_same_v<T, std::string>) {
            if (!v.is_string()) throw std::runtime_error("\"" + key + "\" is not a string");
            x = v.get<std::string>();
          } else {
            if (!v.is_number()) throw std::runtime_error("\"" + key + "\" is not a number");
            x = v.get<T>();
          }
        },
        value);
    f.set(row, value);
  }
}

// A value for a person: KRW to two decimals rounded down (`_krw` keys), the rest exact.
inline std::string text_of(std::string_view key, const FieldValue& v) {
  if (const Decimal* d = std::get_if<Decimal>(&v); d != nullptr && key.ends_with("_krw")) {
    char buf[Decimal::kMaxChars + 2];
    const FormatResult f = format_to_step(*d, Decimal::from_mantissa(Decimal::kOne / 100),
                                          Rounding::down, buf, buf + sizeof buf);
    return f.ec == Errc::ok ? std::string(buf, f.end) : to_string(*d);
  }
  if (const double* x = std::get_if<double>(&v)) {
    std::ostringstream s;
    s << std::fixed << std::setprecision(2) << *x;
    return s.str();
  }
  if (const bool* b = std::get_if<bool>(&v)) return *b ? "yes" : "no";
  return metric_text(v);
}

// "label value, label value, ...": the labelled fields of one row.
template <class Row>
void put_text(std::ostream& out, std::span<const ReportField<Row>> table, const Row& row) {
  const char* sep = "";
  for (const ReportField<Row>& f : table) {
    if (f.label.empty()) continue;
    out << sep << f.label << ' ' << text_of(f.key, f.get(row));
    sep = ", ";
  }
}

// The labelled fields as columns: a header of labels, then each row's values under them.
template <class Row>
void put_header(std::ostream& out, std::span<const ReportField<Row>> table, int width) {
  for (const ReportField<Row>& f : table) {
    if (!f.label.empty()) out << ' ' << std::setw(width) << f.label;
  }
}
template <class Row>
void put_columns(std::ostream& out, std::span<const ReportField<Row>> table, const Row& row,
                 int width) {
  for (const ReportField<Row>& f : table) {
    if (!f.label.empty()) out << ' ' << std::setw(width) << text_of(f.key, f.get(row));
  }
}

}  // namespace xarb::app::fields
