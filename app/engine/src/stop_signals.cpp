#include <xarb/app/stop_signals.hpp>

#include <csignal>

namespace xarb::app::detail {
namespace {
volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_stop_signal(int) { g_stop = 1; }
}  // namespace

void install_stop_signals() noexcept {
  g_stop = 0;
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
}

void remove_stop_signals() noexcept {
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

bool stop_signalled() noexcept { return g_stop != 0; }

}  // namespace xarb::app::detail
