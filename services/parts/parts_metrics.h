#ifndef AFTERSALES_SERVICES_PARTS_PARTS_METRICS_H_
#define AFTERSALES_SERVICES_PARTS_PARTS_METRICS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "aftersales/v1/parts.pb.h"
#include "parts/stock_tx.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace aftersales::parts {

// Parts KPIs (SPEC §4, §7.1), fed from what each transaction did:
//   aftersales_parts_reservations_total{outcome,location_kind}  Reserve outcomes
//   aftersales_parts_reservations_ended_total{outcome}          consumed/released/expired
//   aftersales_parts_reservations_expired_total                 expired reservations
//   aftersales_parts_fill_rate_ratio                            reserved at once / requested
//   aftersales_parts_backorder_age_seconds{outcome}             time queued (allocated/cancelled)
//   aftersales_parts_backorders_waiting                         WAITING backorders
//   aftersales_parts_low_stock_levels                           levels below their reorder point
//   aftersales_parts_low_stock_signals_total                    LowStock events
//   aftersales_parts_stock_units_total{movement}                units moved
//   aftersales_parts_stock_value_minor{currency}                on hand x unit price
//   aftersales_parts_stock_changes_refused_total                changes the invariant refused
//   aftersales_parts_invariant_violations_total                 broken levels/ledgers found (must stay 0)
// Gauges start from the stored ledgers (one row per SKU), so they survive
// restarts. Labels are bounded (enums only). Thread-safe.
class PartsMetrics {
 public:
  explicit PartsMetrics(prometheus::Registry& registry);

  // Start-up state: every SKU ledger, the low-stock row count, unit prices.
  void Init(const std::vector<v1::SkuSummary>& ledgers, int64_t low_stock_levels,
            const std::map<std::string, v1::Money>& prices);
  // A transaction was staged.
  void Observe(const TxEffects& effects);
  // A transaction failed: only refusals and violations count.
  void ObserveFailed(const TxEffects& effects);
  void SetPrice(const std::string& sku, const v1::Money& price);

 private:
  void UpdateValueLocked(const std::string& sku) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  prometheus::Family<prometheus::Counter>& reservations_;
  prometheus::Family<prometheus::Counter>& ended_;
  prometheus::Counter& expired_;
  prometheus::Gauge& fill_rate_;
  prometheus::Family<prometheus::Histogram>& backorder_age_;
  prometheus::Gauge& waiting_;
  prometheus::Gauge& low_stock_;
  prometheus::Counter& low_signals_;
  prometheus::Family<prometheus::Counter>& units_;
  prometheus::Family<prometheus::Gauge>& value_;
  prometheus::Counter& refused_;
  prometheus::Counter& violations_;

  absl::Mutex mu_;
  int64_t requests_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t immediate_ ABSL_GUARDED_BY(mu_) = 0;
  struct SkuValue {
    int64_t units = 0;
    v1::Money price;
    double counted = 0;  // what this SKU adds to its currency's gauge now
  };
  std::map<std::string, SkuValue> values_ ABSL_GUARDED_BY(mu_);
};

}  // namespace aftersales::parts

#endif  // AFTERSALES_SERVICES_PARTS_PARTS_METRICS_H_
