// The control socket serves every client with a deadline: a client that connects and says
// nothing, one that sends its line a few bytes at a time, and one that sends garbage hold nobody
// up; a command sent behind them is answered. The socket is the owner's alone (0600).

#include <xarb/app/control.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>

namespace xarb::app {
namespace {

using namespace std::chrono_literals;

// A raw client: connected, and then whatever the test makes it do.
class RawClient {
 public:
  explicit RawClient(const std::string& path) : fd_(::socket(AF_UNIX, SOCK_STREAM, 0)) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    path.copy(a.sun_path, sizeof a.sun_path - 1);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  [[nodiscard]] bool connected() const { return connected_; }
  void send(const std::string& bytes) const {
    ASSERT_EQ(::write(fd_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }
  // Everything the server writes until it closes, waiting at most `timeout`.
  [[nodiscard]] std::string read_all(std::chrono::seconds timeout) const {
    timeval tv{timeout.count(), 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string out;
    char buf[512];
    for (;;) {
      const ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n < 0 && errno == EAGAIN) return out + "<timeout>";
      if (n <= 0) return out;  // closed (reset, when the server left bytes of ours unread)
      out.append(buf, static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_;
  bool connected_ = false;
};

class ControlServerTest : public ::testing::Test {
 protected:
  ControlServerTest()
      : path((std::filesystem::temp_directory_path() /
              ("xarb-control-test-" + std::to_string(::getpid()) + ".sock"))
                 .string()),
        server(path, [this](const std::string& line) {
          ++handled;
          return R"({"ok":true,"command":")" + line + R"("})";
        }) {}

  std::string ask(const std::string& line) {
    std::string answer, error;
    EXPECT_TRUE(control_request(path, line, 3s, answer, error)) << error;
    return answer;
  }

  std::string path;
  std::atomic<int> handled{0};
  ControlServer server;
};

TEST_F(ControlServerTest, TheSocketIsTheOwnersAlone) {
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(ask("status"), R"({"ok":true,"command":"status"})");
}

// The bug: one idle client held the socket until its run ended, and `xarb ctl kill` behind it was
// never carried out.
TEST_F(ControlServerTest, AnIdleClientDoesNotHoldUpAKillBehindIt) {
  RawClient idle(path);
  ASSERT_TRUE(idle.connected());
  RawClient idle2(path);
  ASSERT_TRUE(idle2.connected());
  EXPECT_EQ(ask("kill"), R"({"ok":true,"command":"kill"})");
  EXPECT_EQ(ask("pause"), R"({"ok":true,"command":"pause"})");
  // The idle clients are closed at their deadline, unanswered: they said nothing.
  EXPECT_EQ(idle.read_all(10s), "");
  EXPECT_EQ(handled.load(), 2);
}

TEST_F(ControlServerTest, ASlowClientIsAnsweredAndOthersAreServedMeanwhile) {
  RawClient slow(path);
  ASSERT_TRUE(slow.connected());
  slow.send("fla");
  EXPECT_EQ(ask("status"), R"({"ok":true,"command":"status"})");
  std::this_thread::sleep_for(200ms);
  slow.send("tten BTC\n");
  EXPECT_EQ(slow.read_all(5s), "{\"ok\":true,\"command\":\"flatten BTC\"}\n");
}

TEST_F(ControlServerTest, GarbageGetsAnErrorAndNothingElse) {
  RawClient garbage(path);
  ASSERT_TRUE(garbage.connected());
  garbage.send(std::string(4096, 'x'));
  EXPECT_EQ(garbage.read_all(5s),
            "{\"ok\":false,\"error\":\"a command is one line of at most 1024 bytes\"}\n");
  RawClient binary(path);
  binary.send(std::string("\x00\xff\x01\n", 4));
  EXPECT_NE(binary.read_all(5s).find("\"ok\":true"), std::string::npos)
      << "a line of any bytes reaches the handler, which judges it";
  RawClient hangs_up(path);
  hangs_up.send("stat");
  EXPECT_EQ(ask("resume"), R"({"ok":true,"command":"resume"})");
  EXPECT_EQ(handled.load(), 2);
}

TEST_F(ControlServerTest, ManyClientsAtOnceAreEachAnswered) {
  std::vector<std::thread> clients;
  std::atomic<int> answered{0};
  for (int i = 0; i < 16; ++i) {
    clients.emplace_back([&, i] {
      std::string answer, error;
      if (control_request(path, "status " + std::to_string(i), 5s, answer, error) &&
          answer == R"({"ok":true,"command":"status )" + std::to_string(i) + R"("})") {
        ++answered;
      }
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(answered.load(), 16);
}

}  // namespace
}  // namespace xarb::app
