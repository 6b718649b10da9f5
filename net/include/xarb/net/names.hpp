#pragma once

// The short names of Asio and Beast that every network source uses, said once. A source writes
// `using namespace xarb::net::names;` instead of its own aliases.

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

namespace boost::asio::ssl {}
namespace boost::beast::http {}
namespace boost::beast::websocket {}

namespace xarb::net::names {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using error_code = boost::system::error_code;

}  // namespace xarb::net::names

namespace xarb::net {
using namespace names;  // NOLINT(google-build-using-namespace): the library's own names
}  // namespace xarb::net
