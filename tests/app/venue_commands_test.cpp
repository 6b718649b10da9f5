// `xarb venue` against the in-test venue stubs: balances, placing, getting and cancelling one
// order, cancel-all, credentials from the environment or a 0600 key file, and the venue's own
// errors on the operator's screen (never a secret).

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <xarb/app/venue_commands.hpp>

#include "venue_stubs.hpp"
#include <xarb/venues/registry.hpp>

namespace xarb::app {
namespace {

namespace fs = std::filesystem;

class VenueCommandsTest : public ::testing::Test {
 protected:
  VenueCommandsTest() : binance("bkey-0123456789", "bsecret"), upbit("ukey-0123456789", "usecret") {
    dir = fs::temp_directory_path() / ("xarb_venue_cmd_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    config = (dir / "venues.toml").string();
    std::ofstream(config) << "[venues.binance]\nws_url = \"wss://127.0.0.1:1\"\nrest_url = \""
                          << binance.url() << "\"\nca_file = \"" << binance.ca_file()
                          << "\"\n[venues.upbit]\nws_url = \"wss://127.0.0.1:1\"\nrest_url = \""
                          << upbit.url() << "\"\nca_file = \"" << upbit.ca_file()
                          << "\"\n[[symbols]]\nbase = \"BTC\"\ntrade_qty = \"0.01\"\n";
    ::setenv("XARB_BINANCE_API_KEY", "bkey-0123456789", 1);
    ::setenv("XARB_BINANCE_API_SECRET", "bsecret", 1);
    ::setenv("XARB_UPBIT_ACCESS_KEY", "ukey-0123456789", 1);
    ::setenv("XARB_UPBIT_SECRET_KEY", "usecret", 1);
  }
  ~VenueCommandsTest() override {
    for (const char* v : {"XARB_BINANCE_API_KEY", "XARB_BINANCE_API_SECRET",
                          "XARB_UPBIT_ACCESS_KEY", "XARB_UPBIT_SECRET_KEY"}) {
      ::unsetenv(v);
    }
    fs::remove_all(dir);
  }

  int run(const VenueCommand& cmd) {
    out.str("");
    err.str("");
    return run_venue_command(config, cmd, out, err);
  }

  test::BinanceStub binance;
  test::UpbitStub upbit;
  fs::path dir;
  std::string config;
  std::ostringstream out, err;
};

TEST_F(VenueCommandsTest, BalancesOfBothVenues) {
  ASSERT_EQ(run({"balances", {}, "", "", "", "", "ioc", ""}), 0) << err.str();
  EXPECT_NE(out.str().find("binance balances"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("USDT     free 10000"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("upbit balances"), std::string::npos);
  EXPECT_NE(out.str().find("KRW      free 100000000"), std::string::npos) << out.str();
  EXPECT_EQ(out.str().find("bsecret"), std::string::npos);
}

TEST_F(VenueCommandsTest, PlaceGetAndCancelOneOrder) {
  ASSERT_EQ(run({"place", {venues::kBinance}, "BTC", "buy", "100000", "0.01", "ioc", "op-1"}), 0)
      << err.str();
  EXPECT_NE(out.str().find("binance  BTCUSDT  op-1  filled  filled 0.01 of 0.01 at 100000"),
            std::string::npos)
      << out.str();
  ASSERT_EQ(run({"get", {venues::kBinance}, "BTC", "", "", "", "ioc", "op-1"}), 0) << err.str();
  EXPECT_NE(out.str().find("op-1  filled"), std::string::npos) << out.str();
  // Cancelling a filled IOC: the venue's own answer.
  EXPECT_EQ(run({"cancel", {venues::kBinance}, "BTC", "", "", "", "ioc", "op-1"}), 1);
  EXPECT_NE(err.str().find("-2011"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("Unknown order sent."), std::string::npos) << err.str();
  // Off the tick: refused before anything is sent.
  const int orders = binance.orders.load();
  EXPECT_EQ(run({"place", {venues::kBinance}, "BTC", "buy", "100000.005", "0.01", "ioc", ""}), 1);
  EXPECT_NE(err.str().find("price not on the tick"), std::string::npos) << err.str();
  EXPECT_EQ(binance.orders.load(), orders);
}

TEST_F(VenueCommandsTest, VenueErrorsReachTheOperator) {
  upbit.script(test::Scripted::error(
      400, R"({"error":{"name":"insufficient_funds_ask","message":"Insufficient balance."}})"));
  EXPECT_EQ(run({"place", {venues::kUpbit}, "BTC", "sell", "140000000", "0.01", "ioc", "op-2"}), 1);
  EXPECT_NE(err.str().find("insufficient_funds_ask"), std::string::npos) << err.str();
  EXPECT_EQ(run({"get", {venues::kUpbit}, "BTC", "", "", "", "ioc", "nope"}), 1);
  EXPECT_NE(err.str().find("order_not_found"), std::string::npos) << err.str();
}

TEST_F(VenueCommandsTest, OpenOrdersAndCancelAll) {
  ASSERT_EQ(run({"open-orders", {}, "", "", "", "", "ioc", ""}), 0) << err.str();
  EXPECT_NE(out.str().find("binance: no open orders"), std::string::npos) << out.str();
  ASSERT_EQ(run({"cancel-all", {venues::kUpbit}, "", "", "", "", "ioc", ""}), 0) << err.str();
}

TEST_F(VenueCommandsTest, CredentialsFromAKeyFileOrAClearError) {
  ::unsetenv("XARB_BINANCE_API_SECRET");
  EXPECT_EQ(run({"balances", {venues::kBinance}, "", "", "", "", "ioc", ""}), 1);
  EXPECT_NE(err.str().find("XARB_BINANCE_API_KEY and XARB_BINANCE_API_SECRET"), std::string::npos)
      << err.str();
  const fs::path key = dir / "binance.key";
  std::ofstream(key) << "bkey-0123456789\nbsecret\n";
  ::chmod(key.c_str(), 0600);
  std::ofstream(config, std::ios::app) << "";
  std::string text;
  {
    std::ifstream in(config);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  text.replace(text.find("[venues.upbit]"), 0, "key_file = \"" + key.string() + "\"\n");
  std::ofstream(config) << text;
  ASSERT_EQ(run({"balances", {venues::kBinance}, "", "", "", "", "ioc", ""}), 0) << err.str();
  EXPECT_NE(out.str().find("USDT"), std::string::npos);
}

}  // namespace
}  // namespace xarb::app
