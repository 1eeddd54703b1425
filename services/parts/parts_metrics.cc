#include "parts/parts_metrics.h"

#include "absl/strings/strip.h"

namespace aftersales::parts {
namespace {

const prometheus::Histogram::BucketBoundaries& BackorderAgeBuckets() {
  // 10 s … 14 days; 72 h is the industry's average stock-out (SPEC §4).
  static const auto* b = new prometheus::Histogram::BucketBoundaries{
      10, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 24 * 3600, 48 * 3600, 72 * 3600,
      7 * 24 * 3600, 14 * 24 * 3600};
  return *b;
}

std::string KindLabel(v1::LocationKind k) {
  return std::string(absl::StripPrefix(v1::LocationKind_Name(k), "LOCATION_KIND_"));
}

}  // namespace

PartsMetrics::PartsMetrics(prometheus::Registry& registry)
    : reservations_(prometheus::BuildCounter()
                        .Name("aftersales_parts_reservations_total")
                        .Help("Reserve requests by outcome (reserved at once / backordered) "
                              "and the kind of location that served them")
                        .Register(registry)),
      ended_(prometheus::BuildCounter()
                 .Name("aftersales_parts_reservations_ended_total")
                 .Help("Reservations that ended, by outcome (consumed, released, expired)")
                 .Register(registry)),
      expired_(prometheus::BuildCounter()
                   .Name("aftersales_parts_reservations_expired_total")
                   .Help("Reservations not consumed before their expiry")
                   .Register(registry)
                   .Add({})),
      fill_rate_(prometheus::BuildGauge()
                     .Name("aftersales_parts_fill_rate_ratio")
                     .Help("Reserve requests satisfied immediately / all reserve requests "
                           "(SPEC target >= 0.98)")
                     .Register(registry)
                     .Add({})),
      backorder_age_(prometheus::BuildHistogram()
                         .Name("aftersales_parts_backorder_age_seconds")
                         .Help("How long backorders waited, by how they ended "
                               "(allocated, cancelled)")
                         .Register(registry)),
      waiting_(prometheus::BuildGauge()
                   .Name("aftersales_parts_backorders_waiting")
                   .Help("Backorders waiting for stock")
                   .Register(registry)
                   .Add({})),
      low_stock_(prometheus::BuildGauge()
                     .Name("aftersales_parts_low_stock_levels")
                     .Help("(location, SKU) levels with available below the reorder point")
                     .Register(registry)
                     .Add({})),
      low_signals_(prometheus::BuildCounter()
                       .Name("aftersales_parts_low_stock_signals_total")
                       .Help("LowStock events: a level fell below its reorder point")
                       .Register(registry)
                       .Add({})),
      units_(prometheus::BuildCounter()
                 .Name("aftersales_parts_stock_units_total")
                 .Help("Units moved, by movement")
                 .Register(registry)),
      value_(prometheus::BuildGauge()
                 .Name("aftersales_parts_stock_value_minor")
                 .Help("Value of the stock on hand at unit prices, in minor currency units")
                 .Register(registry)),
      refused_(prometheus::BuildCounter()
                   .Name("aftersales_parts_stock_changes_refused_total")
                   .Help("Stock changes refused because a count would go negative or "
                         "available below zero")
                   .Register(registry)
                   .Add({})),
      violations_(prometheus::BuildCounter()
                      .Name("aftersales_parts_invariant_violations_total")
                      .Help("Stock levels or SKU ledgers found breaking their invariant "
                            "(never stored; must stay 0)")
                      .Register(registry)
                      .Add({})) {
  reservations_.Add({{"outcome", "backordered"}, {"location_kind", "NONE"}});
  for (const char* o : {"consumed", "released", "expired"}) ended_.Add({{"outcome", o}});
  for (const char* o : {"allocated", "cancelled"}) {
    backorder_age_.Add({{"outcome", o}}, BackorderAgeBuckets());
  }
  fill_rate_.Set(1.0);
}

void PartsMetrics::Init(const std::vector<v1::SkuSummary>& ledgers, int64_t low_stock_levels,
                        const std::map<std::string, v1::Money>& prices) {
  absl::MutexLock lock(&mu_);
  int64_t waiting = 0;
  for (const auto& g : ledgers) {
    requests_ += g.reserve_requests();
    immediate_ += g.reserved_immediately();
    waiting += g.backorders_waiting();
    values_[g.sku()].units = g.on_hand();
  }
  for (const auto& [sku, price] : prices) values_[sku].price = price;
  for (const auto& [sku, v] : values_) UpdateValueLocked(sku);
  waiting_.Set(static_cast<double>(waiting));
  low_stock_.Set(static_cast<double>(low_stock_levels));
  fill_rate_.Set(requests_ == 0 ? 1.0 : static_cast<double>(immediate_) / requests_);
}

void PartsMetrics::UpdateValueLocked(const std::string& sku) {
  SkuValue& v = values_[sku];
  const double now = static_cast<double>(v.units) * static_cast<double>(v.price.amount_minor());
  if (v.price.currency_code().empty()) {
    v.counted = 0;
    return;
  }
  value_.Add({{"currency", v.price.currency_code()}}).Increment(now - v.counted);
  v.counted = now;
}

void PartsMetrics::SetPrice(const std::string& sku, const v1::Money& price) {
  absl::MutexLock lock(&mu_);
  SkuValue& v = values_[sku];
  if (!v.price.currency_code().empty() && v.counted != 0) {
    value_.Add({{"currency", v.price.currency_code()}}).Decrement(v.counted);
  }
  v.counted = 0;
  v.price = price;
  UpdateValueLocked(sku);
}

void PartsMetrics::Observe(const TxEffects& e) {
  for (auto kind : e.reserved_at) {
    reservations_.Add({{"outcome", "reserved"}, {"location_kind", KindLabel(kind)}}).Increment();
  }
  if (e.backordered > 0) {
    reservations_.Add({{"outcome", "backordered"}, {"location_kind", "NONE"}})
        .Increment(e.backordered);
  }
  for (auto age : e.allocated_ages) {
    backorder_age_.Add({{"outcome", "allocated"}}, BackorderAgeBuckets())
        .Observe(absl::ToDoubleSeconds(age));
  }
  for (auto age : e.cancelled_ages) {
    backorder_age_.Add({{"outcome", "cancelled"}}, BackorderAgeBuckets())
        .Observe(absl::ToDoubleSeconds(age));
  }
  if (e.released) ended_.Add({{"outcome", "released"}}).Increment(e.released);
  if (e.consumed) ended_.Add({{"outcome", "consumed"}}).Increment(e.consumed);
  if (e.expired) {
    ended_.Add({{"outcome", "expired"}}).Increment(e.expired);
    expired_.Increment(e.expired);
  }
  if (e.low_entered) {
    low_stock_.Increment(e.low_entered);
    low_signals_.Increment(e.low_entered);
  }
  if (e.low_left) low_stock_.Decrement(e.low_left);
  for (const auto& [movement, n] : e.units) {
    if (n > 0) units_.Add({{"movement", movement}}).Increment(static_cast<double>(n));
  }
  ObserveFailed(e);
  absl::MutexLock lock(&mu_);
  for (const auto& [before, after] : e.ledgers) {
    requests_ += after.reserve_requests() - before.reserve_requests();
    immediate_ += after.reserved_immediately() - before.reserved_immediately();
    waiting_.Increment(
        static_cast<double>(after.backorders_waiting() - before.backorders_waiting()));
    if (after.on_hand() != before.on_hand()) {
      values_[after.sku()].units = after.on_hand();
      UpdateValueLocked(after.sku());
    }
  }
  fill_rate_.Set(requests_ == 0 ? 1.0 : static_cast<double>(immediate_) / requests_);
}

void PartsMetrics::ObserveFailed(const TxEffects& e) {
  if (e.stock_refused) refused_.Increment(e.stock_refused);
  if (e.invariant_violations) violations_.Increment(e.invariant_violations);
}

}  // namespace aftersales::parts
