// Child of consumer_deferred_test's crash test: runs an EventConsumer (deferred
// sync, CountAndEcho effects) against the parent's producer and prints its
// synced cursor every few milliseconds until it is killed.
// Usage: consumer_crash_child <producer host:port> <service token> <db dir>
#include <chrono>
#include <cstdio>
#include <thread>

#include "clock/stop_signal.h"
#include "consumer_deferred_support.h"
#include "prometheus/registry.h"

int main(int argc, char** argv) {
  using namespace aftersales;
  if (argc != 4) return 2;
  auto store = testing::OpenEffectsStore(argv[3]);
  if (!store) return 3;
  prometheus::Registry registry;
  events::ApplyFn count = testing::CountAndEcho(store.get());
  // A little work per event, so the parent can kill it mid-stream.
  events::EventConsumer consumer(
      store.get(), testing::DeferredConsumerOptions(argv[1], argv[2]),
      [&count](const v1::Event& e, store::Batch& b) {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        return count(e, b);
      },
      &registry);
  StopSignal stop;
  std::thread runner([&] { consumer.Run(stop); });
  for (;;) {
    std::printf("cursor %llu\n", static_cast<unsigned long long>(consumer.cursor()));
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}
