// Shared by consumer_deferred_test and its crash child: a consumer whose
// effect per event is a counter row in "effects" plus one "echo" event in its
// own log (as dispatch appends OfferMade), so a duplicate, a lost effect or an
// effect without its event shows after a crash.
#ifndef AFTERSALES_TESTS_UNIT_CONSUMER_DEFERRED_SUPPORT_H_
#define AFTERSALES_TESTS_UNIT_CONSUMER_DEFERRED_SUPPORT_H_

#include <memory>
#include <string>

#include "events/consumer.h"
#include "store/keys.h"
#include "store/store.h"

namespace aftersales::testing {

inline constexpr char kDeferredConsumerName[] = "test<-producer";

inline std::unique_ptr<store::Store> OpenEffectsStore(const std::string& path) {
  store::Store::Options options;
  options.path = path;
  options.column_families = {"effects"};
  auto opened = store::Store::Open(options);
  return opened.ok() ? *std::move(opened) : nullptr;
}

// Counts the event's subject in "effects" and appends an echo event.
inline events::ApplyFn CountAndEcho(store::Store* store) {
  return [store](const v1::Event& e, store::Batch& b) -> absl::Status {
    auto current = store->Get(store->Family("effects"), e.subject_id());
    if (!current.ok()) return current.status();
    const uint64_t n = current->has_value() ? store::DecodeU64(**current).value_or(0) : 0;
    b.Put(store->Family("effects"), e.subject_id(), store::EncodeU64(n + 1));
    v1::Event echo;
    echo.set_producer("consumer");
    echo.set_subject_id(e.subject_id());
    b.AppendEvent(echo);
    return absl::OkStatus();
  };
}

inline events::ConsumerOptions DeferredConsumerOptions(const std::string& target,
                                                       const std::string& token) {
  events::ConsumerOptions options;
  options.name = kDeferredConsumerName;
  options.target = target;
  options.token = token;
  options.max_backoff = absl::Milliseconds(300);
  return options;
}

}  // namespace aftersales::testing

#endif  // AFTERSALES_TESTS_UNIT_CONSUMER_DEFERRED_SUPPORT_H_
