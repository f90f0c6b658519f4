// Where a run meets the outside world at its two ends, for the Pipeline's
// wiring: SIGTERM/SIGINT in (as messages to RunControl, which decides what
// they mean), and, once RunControl says the run is over, everything
// closed in order.
#pragma once

#include <functional>
#include <future>
#include <tuple>
#include <vector>

#include <boost/asio/signal_set.hpp>

#include "actors/io.h"
#include "actors/mailbox.h"
#include "actors/messages.h"
#include "admin/admin_endpoint.h"

namespace freshet {

struct SignalForwarder {
  asio::signal_set* signals;
  Mailbox<ControlMsg>* control;
  void operator()(const boost::system::error_code& ec, int sig) const {
    if (ec) return;  // cancelled: the run is over
    MustDeliver(control->Post(SignalReceived{sig}));
    signals->async_wait(*this);
  }
};

// RunControl's exit: on its strand, once the run is over. Closing the
// mailboxes ends every receive loop; the run is over for Run() (`over`)
// once the admin server has closed its listener and connections, so no
// client connects to a socket nobody serves any more.
struct StopEverything {
  AdminEndpoint* endpoint;
  asio::signal_set* signals;
  std::promise<void>* over;
  std::vector<std::function<void()>> close;
  template <typename... Boxes>
  StopEverything(AdminEndpoint* e, asio::signal_set* s, std::promise<void>* o, std::tuple<Boxes*...> boxes)
      : endpoint(e), signals(s), over(o) {
    std::apply([this](auto*... b) { (close.push_back([b] { b->Close(); }), ...); }, boxes);
  }
  void operator()() const {
    signals->cancel();
    for (const auto& c : close) c();
    endpoint->Stop([o = over] { o->set_value(); });
  }
};

}  // namespace freshet
