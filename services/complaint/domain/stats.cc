#include "complaint/domain/stats.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "absl/strings/strip.h"
#include "rpc/rpc.h"

namespace aftersales::complaint::domain {
namespace {

struct Accumulator {
  int64_t complaints = 0;
  int64_t by_grade[4] = {0, 0, 0, 0};
  std::vector<absl::Duration> ack, resolve;
  int64_t resolved = 0, reopened = 0, breaches = 0;
};

absl::Duration Mean(const std::vector<absl::Duration>& v) {
  if (v.empty()) return absl::ZeroDuration();
  absl::Duration sum;
  for (auto d : v) sum += d;
  return sum / static_cast<int64_t>(v.size());
}

absl::Duration P90(std::vector<absl::Duration> v) {
  if (v.empty()) return absl::ZeroDuration();
  std::sort(v.begin(), v.end());
  const size_t rank = static_cast<size_t>(std::ceil(0.9 * static_cast<double>(v.size())));
  return v[std::max<size_t>(rank, 1) - 1];
}

std::optional<absl::Duration> Ran(const v1::SlaClock& clock) {
  if (!clock.has_stopped_at() || !clock.has_started_at()) return std::nullopt;
  return std::max(absl::ZeroDuration(),
                  rpc::FromProto(clock.stopped_at()) - rpc::FromProto(clock.started_at()));
}

}  // namespace

std::string CategoryKey(v1::ComplaintCategory category) {
  return std::string(
      absl::StripPrefix(v1::ComplaintCategory_Name(category), "COMPLAINT_CATEGORY_"));
}

std::vector<v1::ComplaintStatsRow> ComputeStats(
    const std::vector<StatsEntry>& entries, const std::map<std::string, int64_t>& orders_by_key) {
  std::map<std::string, Accumulator> acc;
  for (const StatsEntry& e : entries) {
    const v1::Complaint& c = *e.complaint;
    Accumulator& a = acc[e.key];
    ++a.complaints;
    if (c.grade() >= v1::COMPLAINT_GRADE_G1_GENERAL && c.grade() <= v1::COMPLAINT_GRADE_G4_CRITICAL) {
      ++a.by_grade[c.grade() - 1];
    }
    bool ack_seen = false, resolve_seen = false;
    for (const auto& clock : c.clocks()) {
      if (clock.outcome() == v1::SLA_OUTCOME_BREACHED) ++a.breaches;
      if (clock.kind() == v1::SLA_CLOCK_KIND_COMPLAINT_ACKNOWLEDGE && !ack_seen) {
        ack_seen = true;
        if (auto d = Ran(clock)) a.ack.push_back(*d);
      } else if (clock.kind() == v1::SLA_CLOCK_KIND_COMPLAINT_RESOLVE && !resolve_seen) {
        resolve_seen = true;
        if (auto d = Ran(clock)) a.resolve.push_back(*d);
      }
    }
    if (c.has_resolution() || c.reopen_count() > 0) ++a.resolved;
    if (c.reopen_count() > 0) ++a.reopened;
  }
  std::vector<v1::ComplaintStatsRow> rows;
  for (const auto& [key, a] : acc) {
    v1::ComplaintStatsRow row;
    row.set_key(key);
    row.set_complaints(a.complaints);
    auto it = orders_by_key.find(key);
    const int64_t orders = it == orders_by_key.end() ? 0 : it->second;
    row.set_orders(orders);
    row.set_per_thousand_orders(orders > 0 ? static_cast<double>(a.complaints) * 1000.0 /
                                                 static_cast<double>(orders)
                                           : 0.0);
    for (int64_t n : a.by_grade) row.add_by_grade(n);
    *row.mutable_mean_acknowledge() = rpc::ToProto(Mean(a.ack));
    *row.mutable_mean_resolve() = rpc::ToProto(Mean(a.resolve));
    *row.mutable_p90_resolve() = rpc::ToProto(P90(a.resolve));
    row.set_reopen_rate(a.resolved > 0 ? static_cast<double>(a.reopened) /
                                             static_cast<double>(a.resolved)
                                       : 0.0);
    row.set_breaches(a.breaches);
    rows.push_back(std::move(row));
  }
  std::sort(rows.begin(), rows.end(), [](const auto& x, const auto& y) {
    return x.complaints() != y.complaints() ? x.complaints() > y.complaints() : x.key() < y.key();
  });
  return rows;
}

}  // namespace aftersales::complaint::domain
