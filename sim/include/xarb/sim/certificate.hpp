#pragma once

#include <string>

namespace xarb::sim {

struct Pem {
  std::string cert;
  std::string key;
};

// A self-signed P-256 certificate for 127.0.0.1 and localhost, valid for a day, made with the
// OpenSSL API. Clients verify the simulator by loading `cert` as their CA file. Throws
// std::runtime_error when OpenSSL fails.
[[nodiscard]] Pem make_self_signed_certificate();

}  // namespace xarb::sim
