// Every number in every capture under data/ goes through Decimal::parse.
#include <charconv>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include <gtest/gtest.h>
#include <simdjson.h>

#include <xarb/core/decimal.hpp>

#include "test_support.hpp"

namespace xarb {
namespace {

namespace fs = std::filesystem;
using simdjson::ondemand::json_type;

struct Tally {
  std::uint64_t decimals = 0;         // parsed exactly as Decimal
  std::uint64_t string_decimals = 0;  // of which were JSON strings ("43.50830000")
  std::uint64_t exponent_forms = 0;   // of which had an exponent (1.16539E8, 0E-8)
  std::uint64_t integers = 0;         // ids and ms timestamps (12+ digits), checked as int64
  // (file, field, errc) of every number Decimal rejected.
  std::map<std::tuple<std::string, std::string, Errc>, int> rejected;
};

bool looks_numeric(std::string_view s) {
  // Same grammar as Decimal::parse, so that strings such as UUIDs are not counted as numbers.
  std::size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  const std::size_t digits_start = i;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  if (i == digits_start) return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    const std::size_t frac = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == frac) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    const std::size_t exp = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == exp) return false;
  }
  return i == s.size();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t' ||
          s.back() == ',' || s.back() == '}' || s.back() == ']')) {
    s.remove_suffix(1);
  }
  return s;
}

void check_number(std::string_view text, bool quoted, const std::string& file,
                  const std::string& field, Tally& tally) {
  const bool is_integer = text.find_first_of(".eE") == std::string_view::npos;
  const std::size_t digits = text.size() - (text[0] == '-' ? 1 : 0);
  if (!quoted && is_integer && digits >= 12) {
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    ASSERT_TRUE(ec == std::errc() && end == text.data() + text.size()) << field << "=" << text;
    ++tally.integers;
    return;
  }
  Decimal out;
  const Errc ec = Decimal::parse(text, out);
  if (ec != Errc::ok) {
    ++tally.rejected[{file, field, ec}];
    return;
  }
  ++tally.decimals;
  if (quoted) ++tally.string_decimals;
  if (text.find_first_of("eE") != std::string_view::npos) ++tally.exponent_forms;
  // Round trip: the shortest text parses back to the same value.
  char buf[Decimal::kMaxChars];
  const FormatResult r = out.to_chars(buf, buf + sizeof buf);
  ASSERT_EQ(r.ec, Errc::ok);
  Decimal again;
  ASSERT_EQ(Decimal::parse(std::string_view(buf, static_cast<std::size_t>(r.end - buf)), again),
            Errc::ok);
  ASSERT_EQ(again, out) << field << "=" << text;
}

void walk(simdjson::ondemand::value value, const std::string& file, const std::string& field,
          Tally& tally) {
  json_type type{};
  ASSERT_EQ(value.type().get(type), simdjson::SUCCESS);
  switch (type) {
    case json_type::object: {
      simdjson::ondemand::object obj;
      ASSERT_EQ(value.get_object().get(obj), simdjson::SUCCESS);
      for (auto member : obj) {
        std::string_view key;
        ASSERT_EQ(member.unescaped_key().get(key), simdjson::SUCCESS);
        simdjson::ondemand::value child;
        ASSERT_EQ(member.value().get(child), simdjson::SUCCESS);
        walk(child, file, std::string(key), tally);
      }
      break;
    }
    case json_type::array: {
      simdjson::ondemand::array arr;
      ASSERT_EQ(value.get_array().get(arr), simdjson::SUCCESS);
      for (auto element : arr) {
        simdjson::ondemand::value child;
        ASSERT_EQ(element.get(child), simdjson::SUCCESS);
        walk(child, file, field, tally);
      }
      break;
    }
    case json_type::number:
      check_number(trim(value.raw_json_token()), false, file, field, tally);
      break;
    case json_type::string: {
      std::string_view s;
      ASSERT_EQ(value.get_string().get(s), simdjson::SUCCESS);
      if (looks_numeric(s)) check_number(s, true, file, field, tally);
      break;
    }
    default:
      break;
  }
}

Tally scan_all_captures() {
  Tally tally;
  simdjson::ondemand::parser parser;
  std::set<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(test::data_dir())) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && (name.ends_with(".jsonl") || name.ends_with(".json"))) {
      files.insert(entry.path());
    }
  }
  EXPECT_EQ(files.size(), 12u) << "data/ changed";
  for (const auto& path : files) {
    const std::string rel = fs::relative(path, test::data_dir()).string();
    const std::string content = test::read_file(path);
    // .json files are one document; .jsonl files one document per line.
    std::vector<std::string_view> docs;
    if (rel.ends_with(".jsonl")) {
      std::size_t start = 0;
      while (start < content.size()) {
        std::size_t end = content.find('\n', start);
        if (end == std::string::npos) end = content.size();
        if (end > start) docs.emplace_back(content.data() + start, end - start);
        start = end + 1;
      }
    } else {
      docs.emplace_back(content);
    }
    for (const auto doc_text : docs) {
      simdjson::padded_string padded(doc_text);
      simdjson::ondemand::document doc;
      EXPECT_EQ(parser.iterate(padded).get(doc), simdjson::SUCCESS) << rel;
      simdjson::ondemand::value root;
      EXPECT_EQ(doc.get_value().get(root), simdjson::SUCCESS) << rel;
      walk(root, rel, "", tally);
    }
  }
  return tally;
}

TEST(DecimalCaptures, EveryPriceAndQuantityInTheRecordedDataParsesExactly) {
  const Tally tally = scan_all_captures();
  // Counts on the captures as published (data/ is kept as published): a change means the data or
  // the parser changed.
  EXPECT_EQ(tally.decimals, 374'237u);
  EXPECT_EQ(tally.string_decimals, 240'649u);
  EXPECT_EQ(tally.exponent_forms, 198u);
  EXPECT_EQ(tally.integers, 19'752u);

  // The only numbers Decimal cannot hold are not prices or quantities: Upbit's 24 h turnover in
  // KRW (above 92 billion) and its 10-decimal change ratios. Both are rejected, never rounded.
  const std::string ticker = "upbit/default_ticker_krw-btc_2025-09-26.jsonl";
  std::map<std::tuple<std::string, std::string, Errc>, int> expected = {
      {{ticker, "acc_trade_price", Errc::overflow}, 2},
      {{ticker, "acc_trade_price_24h", Errc::overflow}, 2},
      {{ticker, "change_rate", Errc::too_precise}, 1},
      {{ticker, "signed_change_rate", Errc::too_precise}, 1},
  };
  for (const auto& [key, count] : tally.rejected) {
    if (!expected.contains(key)) {
      ADD_FAILURE() << "rejected " << count << " x " << std::get<0>(key) << " field "
                    << std::get<1>(key) << ": " << to_string(std::get<2>(key));
    }
  }
  EXPECT_EQ(tally.rejected, expected);
  std::printf("decimals parsed: %llu (strings %llu, exponent forms %llu); int64 ids: %llu\n",
              static_cast<unsigned long long>(tally.decimals),
              static_cast<unsigned long long>(tally.string_decimals),
              static_cast<unsigned long long>(tally.exponent_forms),
              static_cast<unsigned long long>(tally.integers));
}

}  // namespace
}  // namespace xarb
