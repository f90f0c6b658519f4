// The Asio vocabulary the actors share. Only src/actors includes this (and
// through it Boost.Asio); everything else in freshet is Asio-free.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace freshet {

namespace asio = boost::asio;
using Executor = asio::any_io_executor;
using Strand = asio::strand<asio::io_context::executor_type>;
template <typename T>
using Awaitable = asio::awaitable<T>;

}  // namespace freshet
