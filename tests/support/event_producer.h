#ifndef AFTERSALES_TESTS_SUPPORT_EVENT_PRODUCER_H_
#define AFTERSALES_TESTS_SUPPORT_EVENT_PRODUCER_H_

#include <memory>
#include <string>

#include "auth/auth.h"
#include "clock/stop_signal.h"
#include "events/event_stream.h"
#include "grpcpp/grpcpp.h"
#include "store/store.h"

namespace aftersales::testing {

// A real event log served on a loopback port: a RocksDB store plus the
// EventStream service, standing in for a peer service whose own events a test
// needs to script (e.g. dispatch's offers before dispatch makes them).
class EventProducer {
 public:
  EventProducer(const std::string& path, const auth::TokenRegistry* tokens);
  ~EventProducer();

  // Starts serving (port 0 = any free port; a restart passes the old port).
  void Up(int port = 0);
  // Stops serving; the log stays.
  void Down();
  // Commits one event.
  void Emit(v1::Event event);

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  store::Store& store() { return *store_; }

 private:
  std::unique_ptr<store::Store> store_;
  const auth::TokenRegistry* tokens_;
  std::unique_ptr<StopSignal> stop_;
  std::unique_ptr<events::EventStreamService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace aftersales::testing

#endif  // AFTERSALES_TESTS_SUPPORT_EVENT_PRODUCER_H_
