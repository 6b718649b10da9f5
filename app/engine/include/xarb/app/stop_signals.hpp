#pragma once

// SIGINT and SIGTERM as a stop request for the long-running commands (run, watch, record): the
// handler only sets a flag, which the command polls.

namespace xarb::app::detail {

// Clears the flag and routes SIGINT and SIGTERM to it.
void install_stop_signals() noexcept;
// Gives both signals their default action back.
void remove_stop_signals() noexcept;
// True once SIGINT or SIGTERM arrived after install_stop_signals().
[[nodiscard]] bool stop_signalled() noexcept;

}  // namespace xarb::app::detail
