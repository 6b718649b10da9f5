// Asio, Asio's SSL and Beast compiled once for the whole project (BOOST_ASIO_SEPARATE_COMPILATION
// and BOOST_BEAST_SEPARATE_COMPILATION are set on every target that links xarb_boost), so the
// translation units that use them do not each instantiate the libraries again.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
