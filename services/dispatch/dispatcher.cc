#include "dispatch/dispatcher.h"

#include <algorithm>
#include <functional>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "metrics/metrics.h"
#include "rpc/rpc.h"
#include "store/keys.h"

namespace aftersales::dispatch {
namespace {

constexpr char kOrders[] = "orders";
constexpr char kOrdersByState[] = "orders_by_state";
constexpr char kEngineers[] = "engineers";
constexpr char kPartners[] = "partners";
constexpr char kOffers[] = "offers";
constexpr char kOfferIndex[] = "offer_index";
constexpr char kExpiry[] = "offer_expiry";
constexpr char kQueue[] = "unassigned";
constexpr char kFeed[] = "offer_feed";
constexpr char kRemote[] = "remote_experts";
constexpr char kDispatcherLock[] = "dispatcher";

// How many nearest engineers a decision evaluates. The grid returns them in
// distance order after a cheap eligibility filter, so this bounds the work
// of one decision whatever the number of engineers.
constexpr size_t kCandidatesPerDecision = 64;

// Grid cells of ~1 km: a city spans many cells, so a nearest-K query visits
// only the engineers around the order (docs/dispatch-benchmark.md: 0.25°
// cells made a 100k-engineer decision 165x the 1k cost, 0.01° cells 5.5x).
constexpr double kGridCellDeg = 0.01;

std::string StateKey(v1::DispatchState s) { return v1::DispatchState_Name(s); }

int64_t Micros(const google::protobuf::Timestamp& t) {
  return absl::ToUnixMicros(rpc::FromProto(t));
}

std::string OfferRow(absl::string_view dim, absl::string_view value, const v1::Offer& o) {
  std::string row = store::CompositeKey({dim, value});
  row.push_back('\0');
  return row + store::NewestFirstKey(Micros(o.made_at())) + o.offer_id();
}

std::string ExpiryRow(const v1::Offer& o) {
  return store::EncodeU64(static_cast<uint64_t>(std::max<int64_t>(Micros(o.expires_at()), 0))) +
         o.offer_id();
}

std::string QueueKey(const v1::DispatchOrder& o) {
  const int64_t deadline = o.has_arrival_deadline() ? Micros(o.arrival_deadline())
                                                    : Micros(o.order_created_at());
  return store::EncodeU64(static_cast<uint64_t>(std::max<int64_t>(deadline, 0))) +
         o.order_id();
}

std::string FeedKey(const std::string& partner, uint64_t cursor) {
  std::string k = partner;
  k.push_back('\0');
  return k + store::EncodeU64(cursor);
}

geo::Point PointOf(const v1::GeoPoint& p) { return {p.lat_deg(), p.lng_deg()}; }

// Where the grid keeps an engineer: the live location, else the centre of
// the coverage circle.
std::optional<geo::Point> GridPoint(const v1::Engineer& e) {
  if (e.has_location_reported_at()) return PointOf(e.location());
  if (e.coverage().radius_km() > 0) return PointOf(e.coverage().center());
  return std::nullopt;
}

bool Terminal(v1::DispatchState s) {
  return s == v1::DISPATCH_STATE_CANCELLED || s == v1::DISPATCH_STATE_COMPLETED ||
         s == v1::DISPATCH_STATE_NOT_REQUIRED;
}

// The registration fields a partner controls; the rest is dispatch's.
v1::Engineer StaticPart(const v1::Engineer& e) {
  v1::Engineer s;
  s.set_engineer_id(e.engineer_id());
  s.set_partner_id(e.partner_id());
  s.set_home_outlet_id(e.home_outlet_id());
  s.set_display_name(e.display_name());
  s.set_phone(e.phone());
  s.set_photo_ref(e.photo_ref());
  *s.mutable_skills() = e.skills();
  s.set_cross_brand(e.cross_brand());
  *s.mutable_coverage() = e.coverage();
  *s.mutable_shifts() = e.shifts();
  *s.mutable_capacity() = e.capacity();
  s.set_backup(e.backup());
  s.set_home_region_code(e.home_region_code());
  return s;
}

v1::EngineerPublicProfile PublicProfile(const v1::Engineer& e, const std::string& category) {
  v1::EngineerPublicProfile p;
  p.set_engineer_id(e.engineer_id());
  p.set_display_name(e.display_name());
  p.set_photo_ref(e.photo_ref());
  p.set_certification_level(domain::LevelFor(e, category));
  p.set_rating(e.rating_count() > 0 ? e.rating() : 0);
  return p;
}

}  // namespace

struct Dispatcher::Pending {
  store::Batch* batch;
  std::vector<std::function<void()>> after_commit;  // metrics of what committed
};

std::vector<std::string> Dispatcher::ColumnFamilies() {
  return {kOrders, kOrdersByState, kEngineers, kPartners, kOffers,
          kOfferIndex, kExpiry, kQueue, kFeed, kRemote};
}

Dispatcher::Dispatcher(server::ServiceHost& host, std::unique_ptr<DispatchPolicyHolder> policy)
    : host_(host),
      policy_(std::move(policy)),
      store_(host.store()),
      orders_(&store_, kOrders),
      orders_by_state_(&store_, kOrdersByState),
      engineers_(&store_, kEngineers),
      partners_(&store_, kPartners),
      offers_(&store_, kOffers),
      remote_(&store_, kRemote),
      queue_(&store_, kQueue),
      offer_index_(store_.Family(kOfferIndex)),
      expiry_index_(&store_, kExpiry),
      feed_(store_.Family(kFeed)) {
  auto& r = host.registry();
  const prometheus::Histogram::BucketBoundaries fast = {
      0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 900, 1800, 3600};
  time_to_offer_ = &prometheus::BuildHistogram()
                        .Name("aftersales_dispatch_time_to_offer_seconds")
                        .Help("Order creation to its first offer")
                        .Register(r)
                        .Add({}, fast);
  time_to_accept_ = &prometheus::BuildHistogram()
                         .Name("aftersales_dispatch_time_to_acceptance_seconds")
                         .Help("Order creation to an accepted offer")
                         .Register(r)
                         .Add({}, fast);
  offers_per_order_ = &prometheus::BuildHistogram()
                           .Name("aftersales_dispatch_offers_per_order")
                           .Help("Offers made until an order was accepted")
                           .Register(r)
                           .Add({}, prometheus::Histogram::BucketBoundaries{1, 2, 3, 5, 8, 13});
  offer_outcomes_ = &prometheus::BuildCounter()
                 .Name("aftersales_dispatch_offers_total")
                 .Help("Offers by final outcome (made, accepted, rejected, timed_out, withdrawn)")
                 .Register(r);
  partner_offers_ = &prometheus::BuildCounter()
                        .Name("aftersales_dispatch_partner_offers_total")
                        .Help("Offers by partner network and outcome (made, accepted, "
                              "rejected, timed_out, withdrawn)")
                        .Register(r);
  accepted_ = &prometheus::BuildCounter()
                   .Name("aftersales_dispatch_acceptances_total")
                   .Help("Accepted offers; first_offer=true is dispatch accuracy's numerator")
                   .Register(r);
  queue_depth_ = &prometheus::BuildGauge()
                      .Name("aftersales_dispatch_unassigned_orders")
                      .Help("Orders waiting in the unassigned queue")
                      .Register(r)
                      .Add({});
  queue_oldest_ = &prometheus::BuildGauge()
                       .Name("aftersales_dispatch_unassigned_oldest_age_seconds")
                       .Help("Age of the longest-waiting unassigned order")
                       .Register(r)
                       .Add({});
  utilisation_ = &prometheus::BuildGauge()
                      .Name("aftersales_dispatch_engineer_utilisation_ratio")
                      .Help("Jobs held by engineers on duty / their capacity")
                      .Register(r)
                      .Add({});
  past_deadline_ = &prometheus::BuildCounter()
                        .Name("aftersales_dispatch_past_deadline_total")
                        .Help("Orders still unassigned at their dispatch deadline "
                              "(backup pool and neighbours tried; alert)")
                        .Register(r)
                        .Add({});
}

absl::Status Dispatcher::Load() {
  auto guard = store_.locks().Lock({kDispatcherLock});
  return Reload();
}

absl::Status Dispatcher::Reload() {
  engineers_cache_.clear();
  engineer_index_.clear();
  partners_cache_.clear();
  pending_offers_.clear();
  feed_cursor_.clear();
  grid_ = geo::GridIndex(kGridCellDeg);
  category_grids_.clear();
  absl::Status s = engineers_.Scan("", "", [&](absl::string_view, const v1::Engineer& e) {
    IndexEngineer(CacheEngineer(e), GridPoint(e));
    return true;
  });
  if (!s.ok()) return s;
  s = partners_.Scan("", "", [&](absl::string_view, const v1::Partner& p) {
    partners_cache_[p.partner_id()] = p;
    return true;
  });
  if (!s.ok()) return s;
  // Pending offers are exactly the rows of the expiry index.
  return expiry_index_.Scan("", [&](absl::string_view row, absl::string_view) {
    auto offer = offers_.Get(row.substr(8));
    if (offer.ok() && offer->has_value() &&
        (*offer)->state() == v1::OFFER_STATE_PENDING) {
      ++pending_offers_[(*offer)->engineer_id()];
    }
    return true;
  });
}

v1::Event Dispatcher::NewEvent(const std::string& subject) const {
  v1::Event e;
  e.set_producer("dispatch");
  *e.mutable_occurred_at() = rpc::ToProto(host_.clock().Now());
  e.set_subject_id(subject);
  return e;
}

absl::Status Dispatcher::Commit(Pending& p) {
  absl::Status s = store_.Commit(*p.batch);
  if (!s.ok()) {
    // The caches ran ahead of the store: rebuild them from what is durable.
    Reload().IgnoreError();
    return s;
  }
  for (auto& f : p.after_commit) f();
  return s;
}

void Dispatcher::PutOrder(Pending& p, const v1::DispatchOrder* before,
                          v1::DispatchOrder& after) {
  after.set_version(after.version() + 1);
  *after.mutable_updated_at() = rpc::ToProto(host_.clock().Now());
  orders_.Put(*p.batch, after.order_id(), after);
  if (before == nullptr || before->state() != after.state()) {
    if (before != nullptr) orders_by_state_.Remove(*p.batch, StateKey(before->state()), after.order_id());
    orders_by_state_.Add(*p.batch, StateKey(after.state()), after.order_id());
  }
}

void Dispatcher::PutOffer(Pending& p, const v1::Offer* before, const v1::Offer& after) {
  offers_.Put(*p.batch, after.offer_id(), after);
  if (before == nullptr) {
    p.batch->Put(offer_index_, OfferRow("order", after.order_id(), after), "");
    p.batch->Put(offer_index_, OfferRow("engineer", after.engineer_id(), after), "");
    p.batch->Put(offer_index_, OfferRow("partner", after.partner_id(), after), "");
  }
  if (after.state() == v1::OFFER_STATE_PENDING) {
    expiry_index_.Put(*p.batch, ExpiryRow(after));
  } else if (before != nullptr && before->state() == v1::OFFER_STATE_PENDING) {
    expiry_index_.Delete(*p.batch, ExpiryRow(*before));
  }
  // Every change of an offer goes to its partner's feed, in the same batch.
  const uint64_t cursor = FeedHeadLocked(after.partner_id()) + 1;
  feed_cursor_[after.partner_id()] = cursor;
  v1::OfferFeedMessage item;
  item.set_cursor(cursor);
  *item.mutable_offer() = after;
  *item.mutable_server_time() = rpc::ToProto(host_.clock().Now());
  p.batch->Put(feed_, FeedKey(after.partner_id(), cursor), item.SerializeAsString());
  store_.PutMeta(*p.batch, "feed_cursor/" + after.partner_id(), store::EncodeU64(cursor));
}

void Dispatcher::PutEngineer(Pending& p, const v1::Engineer& engineer) {
  engineers_.Put(*p.batch, engineer.engineer_id(), engineer);
}

uint64_t Dispatcher::FeedHead(const std::string& partner) {
  auto guard = store_.locks().Lock({kDispatcherLock});
  return FeedHeadLocked(partner);
}

uint64_t Dispatcher::FeedHeadLocked(const std::string& partner) {
  auto it = feed_cursor_.find(partner);
  if (it != feed_cursor_.end()) return it->second;
  uint64_t cursor = 0;
  auto stored = store_.GetMeta("feed_cursor/" + partner);
  if (stored.ok() && stored->has_value()) cursor = store::DecodeU64(**stored).value_or(0);
  feed_cursor_[partner] = cursor;
  return cursor;
}

absl::StatusOr<std::vector<v1::OfferFeedMessage>> Dispatcher::Feed(const std::string& partner,
                                                                   uint64_t after,
                                                                   size_t limit) const {
  std::string prefix = partner;
  prefix.push_back('\0');
  std::vector<v1::OfferFeedMessage> items;
  absl::Status parse;
  absl::Status s = store_.Scan(
      feed_, FeedKey(partner, after + 1), store::PrefixSuccessor(prefix),
      [&](absl::string_view, absl::string_view value) {
        v1::OfferFeedMessage m;
        if (!m.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          parse = absl::DataLossError("unparseable feed item");
          return false;
        }
        items.push_back(std::move(m));
        return items.size() < limit;
      });
  if (!s.ok()) return s;
  if (!parse.ok()) return parse;
  return items;
}

absl::StatusOr<v1::Engineer*> Dispatcher::CachedEngineer(const std::string& id) {
  auto it = engineers_cache_.find(id);
  if (it == engineers_cache_.end()) {
    return absl::NotFoundError("engineer_id: no such engineer");
  }
  return &it->second;
}

const v1::Engineer* Dispatcher::FindEngineer(absl::string_view id) const {
  auto it = engineer_index_.find(id);
  return it == engineer_index_.end() ? nullptr : it->second;
}

v1::Engineer& Dispatcher::CacheEngineer(const v1::Engineer& e) {
  auto [it, inserted] = engineers_cache_.insert_or_assign(e.engineer_id(), e);
  engineer_index_[absl::string_view(it->first)] = &it->second;
  return it->second;
}

void Dispatcher::IndexEngineer(const v1::Engineer& e, std::optional<geo::Point> point) {
  if (point) grid_.Upsert(e.engineer_id(), *point);
  const std::optional<geo::Point> at = grid_.Find(e.engineer_id());
  auto has_skill = [&](absl::string_view category) {
    for (const v1::Skill& s : e.skills()) {
      if (s.appliance_category() == category) return true;
    }
    return false;
  };
  for (auto& [category, grid] : category_grids_) {
    if (!at || !has_skill(category)) grid.Remove(e.engineer_id());
  }
  if (!at) return;
  for (const v1::Skill& s : e.skills()) {
    auto it = category_grids_.find(s.appliance_category());
    if (it == category_grids_.end()) {
      it = category_grids_.emplace(s.appliance_category(), geo::GridIndex(kGridCellDeg)).first;
    }
    it->second.Upsert(e.engineer_id(), *at);
  }
}

domain::Situation Dispatcher::SituationFor(const v1::Engineer& e, const v1::DispatchOrder& order,
                                           absl::Time now,
                                           const v1::DispatchPolicy* policy) const {
  domain::Situation s;
  s.now = now;
  s.policy = policy;
  auto partner = partners_cache_.find(e.partner_id());
  s.partner = partner == partners_cache_.end() ? nullptr : &partner->second;
  s.load.active = e.active_order_ids_size();
  s.load.queued = e.queued_order_ids_size();
  auto pending = pending_offers_.find(e.engineer_id());
  s.load.pending_offers = pending == pending_offers_.end() ? 0 : pending->second;
  auto today = jobs_today_.find(e.engineer_id());
  s.load.jobs_today = today == jobs_today_.end() ? 0 : today->second;
  s.past_dispatch_deadline =
      order.has_dispatch_deadline() && s.now > rpc::FromProto(order.dispatch_deadline());
  s.neighbour_region = s.past_dispatch_deadline && !domain::Covers(e.coverage(), order.service_area());
  return s;
}

domain::Situation Dispatcher::SituationFor(const v1::Engineer& e,
                                           const v1::DispatchOrder& order) const {
  return SituationFor(e, order, host_.clock().Now(), policy_->Current().get());
}

std::vector<Dispatcher::Ranked> Dispatcher::RankCandidates(const v1::DispatchOrder& order,
                                                           size_t k, bool include_ineligible,
                                                           size_t top) {
  // Keep the policy alive while situations point into it; every candidate
  // is judged at the same instant.
  auto policy = policy_->Current();
  const absl::Time now = host_.clock().Now();
  const geo::Point at = PointOf(order.service_area().location());
  const int capacity_default = policy->default_capacity().max_active() +
                               policy->default_capacity().max_queued();
  // Cheap checks in the grid walk; the full constraint list runs on the hits.
  geo::GridIndex::Filter filter = [&](absl::string_view id, const geo::Point&) {
    const v1::Engineer* found = FindEngineer(id);
    if (found == nullptr) return false;
    const v1::Engineer& e = *found;
    if (e.status() == v1::ENGINEER_STATUS_SUSPENDED ||
        e.status() == v1::ENGINEER_STATUS_OFF_DUTY) {
      return false;
    }
    if (domain::LevelFor(e, order.appliance_category()) == v1::CERTIFICATION_LEVEL_UNSPECIFIED) {
      return false;
    }
    for (const auto& x : order.excluded_engineer_ids()) {
      if (x == e.engineer_id()) return false;
    }
    const int cap = e.capacity().max_active() + e.capacity().max_queued();
    auto pending = pending_offers_.find(e.engineer_id());
    const int load = e.active_order_ids_size() + e.queued_order_ids_size() +
                     (pending == pending_offers_.end() ? 0 : pending->second);
    return load < (cap > 0 ? cap : capacity_default);
  };
  // With the filter, only engineers with a skill for the category can pass:
  // walk that category's index (an unknown category has no candidates).
  std::vector<geo::Hit> hits;
  if (include_ineligible) {
    hits = grid_.Nearest(at, k);
  } else if (auto grid = category_grids_.find(order.appliance_category());
             grid != category_grids_.end()) {
    hits = grid->second.Nearest(at, k, std::numeric_limits<double>::infinity(), filter);
  }
  std::vector<Ranked> out;
  out.reserve(hits.size());
  double peer_jobs = 0;
  for (const auto& h : hits) {
    const v1::Engineer* e = FindEngineer(h.id);
    if (e == nullptr) continue;  // the grid and the cache are kept in step
    out.push_back(Ranked{e, SituationFor(*e, order, now, policy.get()), {}});
    peer_jobs += out.back().situation.load.jobs_today;
  }
  if (!out.empty()) peer_jobs /= static_cast<double>(out.size());
  for (Ranked& r : out) {
    r.situation.peer_jobs_today = peer_jobs;
    r.score = domain::ScoreOf(*r.engineer, order, r.situation);
  }
  auto before = [](const Ranked& a, const Ranked& b) {
    return domain::RankedBefore(a.score, b.score);
  };
  top = std::min(top, out.size());
  if (top == 1) {
    std::iter_swap(out.begin(), std::min_element(out.begin(), out.end(), before));
  } else {
    std::partial_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(top), out.end(),
                      before);
  }
  return out;
}

v1::Candidate Dispatcher::Explain(const Ranked& r, const v1::DispatchOrder& order, int rank) {
  v1::Candidate c = domain::Evaluate(*r.engineer, order, r.situation);
  c.set_rank(c.eligible() ? rank : 0);
  return c;
}

void Dispatcher::TryOffer(Pending& p, v1::DispatchOrder& order) {
  if (order.state() != v1::DISPATCH_STATE_AWAITING_ASSIGNMENT &&
      order.state() != v1::DISPATCH_STATE_UNASSIGNABLE) {
    return;
  }
  const v1::DispatchOrder before = order;
  auto policy = policy_->Current();
  const absl::Time now = host_.clock().Now();
  const bool past_deadline =
      order.has_dispatch_deadline() && now > rpc::FromProto(order.dispatch_deadline());
  if (past_deadline && !order.backup_pool_tried()) {
    // SPEC §3: past the dispatch deadline the backup pool and neighbouring
    // regions are tried (Situation relaxes both), and an alert fires.
    order.set_backup_pool_tried(true);
    order.set_neighbour_regions_tried(true);
    p.after_commit.push_back([this] { past_deadline_->Increment(); });
  }
  const std::vector<Ranked> ranked = RankCandidates(order, kCandidatesPerDecision, false, 1);
  const bool any = !ranked.empty() && ranked.front().score.eligible;
  if (!any || order.attempts() >= policy->max_attempts()) {
    const bool newly = order.state() != v1::DISPATCH_STATE_UNASSIGNABLE;
    if (newly) {
      order.set_state(v1::DISPATCH_STATE_UNASSIGNABLE);
      order.set_unassignable_reason(order.excluded_engineer_ids_size() > 0
                                        ? v1::UNASSIGNABLE_REASON_ALL_DECLINED
                                        : v1::UNASSIGNABLE_REASON_NO_ELIGIBLE_ENGINEER);
      *order.mutable_unassignable_since() = rpc::ToProto(now);
      v1::UnassignedEntry entry;
      entry.set_order_id(order.order_id());
      entry.set_priority(order.priority());
      entry.set_region_code(order.service_area().region_code());
      *entry.mutable_deadline() = order.arrival_deadline();
      *entry.mutable_queued_at() = rpc::ToProto(now);
      entry.set_attempts(order.attempts());
      entry.set_reason(order.unassignable_reason());
      queue_.Put(*p.batch, QueueKey(order), entry);
    }
    if (newly || order.backup_pool_tried() != before.backup_pool_tried()) {
      v1::Event e = NewEvent(order.order_id());
      auto* u = e.mutable_order_unassignable();
      u->set_order_id(order.order_id());
      u->set_reason(order.unassignable_reason());
      u->set_attempts(order.attempts());
      u->set_backup_pool_tried(order.backup_pool_tried());
      u->set_neighbour_regions_tried(order.neighbour_regions_tried());
      u->set_region_code(order.service_area().region_code());
      p.batch->AppendEvent(e);
      PutOrder(p, &before, order);
    }
    return;
  }
  if (order.state() == v1::DISPATCH_STATE_UNASSIGNABLE) {
    queue_.Delete(*p.batch, QueueKey(order));
    order.clear_unassignable_reason();
    order.clear_unassignable_since();
  }
  // Only the offered candidate's explanation is built (rank 1: the best).
  const v1::Candidate best = Explain(ranked.front(), order, 1);
  const v1::Engineer& engineer = *ranked.front().engineer;
  v1::Offer offer;
  offer.set_offer_id(absl::StrCat(order.order_id(), "-O", order.attempts() + 1));
  offer.set_order_id(order.order_id());
  offer.set_engineer_id(engineer.engineer_id());
  offer.set_partner_id(engineer.partner_id());
  offer.set_attempt(order.attempts() + 1);
  *offer.mutable_made_at() = rpc::ToProto(now);
  *offer.mutable_expires_at() = rpc::ToProto(now + domain::OfferTimeout(order, *policy));
  *offer.mutable_eta() = best.predicted_arrival();
  offer.set_state(v1::OFFER_STATE_PENDING);
  *offer.mutable_candidate() = best;
  auto* job = offer.mutable_job();
  job->set_priority(order.priority());
  *job->mutable_service_area() = order.service_area();
  job->set_appliance_category(order.appliance_category());
  job->set_appliance_brand(order.appliance_brand());
  job->set_appliance_model(order.appliance_model());
  job->set_fault_kind(order.fault_kind());
  job->set_complexity(order.complexity());
  *job->mutable_appointment() = order.appointment();
  *job->mutable_arrival_deadline() = order.arrival_deadline();
  job->set_is_rework(order.is_rework());
  *offer.mutable_policy() = policy->ref();

  order.set_state(v1::DISPATCH_STATE_OFFERED);
  order.set_current_offer_id(offer.offer_id());
  order.set_attempts(order.attempts() + 1);
  order.add_offer_ids(offer.offer_id());
  ++pending_offers_[engineer.engineer_id()];
  PutOffer(p, nullptr, offer);
  PutOrder(p, &before, order);

  v1::Event e = NewEvent(order.order_id());
  auto* made = e.mutable_offer_made();
  made->set_offer_id(offer.offer_id());
  made->set_order_id(order.order_id());
  made->set_engineer_id(offer.engineer_id());
  made->set_partner_id(offer.partner_id());
  made->set_attempt(offer.attempt());
  *made->mutable_expires_at() = offer.expires_at();
  *made->mutable_eta() = offer.eta();
  p.batch->AppendEvent(e);
  if (offer.attempt() == 1) {
    const double secs = absl::ToDoubleSeconds(now - rpc::FromProto(order.order_created_at()));
    p.after_commit.push_back([this, secs, partner = offer.partner_id()] {
      time_to_offer_->Observe(std::max(0.0, secs));
      offer_outcomes_->Add({{"outcome", "made"}}).Increment();
      partner_offers_->Add({{"partner", partner}, {"outcome", "made"}}).Increment();
    });
  } else {
    p.after_commit.push_back([this, partner = offer.partner_id()] {
      offer_outcomes_->Add({{"outcome", "made"}}).Increment();
      partner_offers_->Add({{"partner", partner}, {"outcome", "made"}}).Increment();
    });
  }
}

void Dispatcher::ServeQueue(Pending& p, size_t limit) {
  std::vector<v1::DispatchOrder> waiting;
  absl::Status s = queue_.Scan("", [&](absl::string_view, const v1::UnassignedEntry& e) {
    auto o = orders_.Get(e.order_id());
    if (o.ok() && o->has_value()) waiting.push_back(**o);
    return waiting.size() < 1000;
  });
  if (!s.ok()) return;
  std::sort(waiting.begin(), waiting.end(), domain::ServedBefore);
  size_t tried = 0;
  for (auto& order : waiting) {
    if (tried++ == limit) break;
    TryOffer(p, order);
  }
}

void Dispatcher::DecideOffer(Pending& p, v1::Offer& offer, v1::OfferState state,
                             v1::DispatchOrder& order) {
  const v1::Offer before = offer;
  offer.set_state(state);
  *offer.mutable_decided_at() = rpc::ToProto(host_.clock().Now());
  if (--pending_offers_[offer.engineer_id()] <= 0) pending_offers_.erase(offer.engineer_id());
  PutOffer(p, &before, offer);
  const char* outcome = state == v1::OFFER_STATE_REJECTED    ? "rejected"
                        : state == v1::OFFER_STATE_TIMED_OUT ? "timed_out"
                                                              : "withdrawn";
  p.after_commit.push_back([this, outcome, partner = offer.partner_id()] {
    offer_outcomes_->Add({{"outcome", outcome}}).Increment();
    partner_offers_->Add({{"partner", partner}, {"outcome", outcome}}).Increment();
  });
  if (state == v1::OFFER_STATE_WITHDRAWN) return;

  const v1::DispatchOrder order_before = order;
  order.add_excluded_engineer_ids(offer.engineer_id());
  order.clear_current_offer_id();
  order.set_state(v1::DISPATCH_STATE_AWAITING_ASSIGNMENT);
  v1::Event e = NewEvent(order.order_id());
  if (state == v1::OFFER_STATE_REJECTED) {
    auto* r = e.mutable_offer_rejected();
    r->set_offer_id(offer.offer_id());
    r->set_order_id(order.order_id());
    r->set_engineer_id(offer.engineer_id());
    r->set_partner_id(offer.partner_id());
    r->set_attempt(offer.attempt());
    r->set_reason(offer.reject_reason());
  } else {
    auto* t = e.mutable_offer_timed_out();
    t->set_offer_id(offer.offer_id());
    t->set_order_id(order.order_id());
    t->set_engineer_id(offer.engineer_id());
    t->set_partner_id(offer.partner_id());
    t->set_attempt(offer.attempt());
    *t->mutable_expired_at() = offer.expires_at();
  }
  p.batch->AppendEvent(e);
  PutOrder(p, &order_before, order);
  TryOffer(p, order);  // the next candidate
}

void Dispatcher::Assign(Pending& p, v1::Offer& offer, v1::DispatchOrder& order) {
  const absl::Time now = host_.clock().Now();
  const v1::Offer before = offer;
  const bool was_pending = offer.state() == v1::OFFER_STATE_PENDING;
  offer.set_state(v1::OFFER_STATE_ACCEPTED);
  *offer.mutable_decided_at() = rpc::ToProto(now);
  if (was_pending && --pending_offers_[offer.engineer_id()] <= 0) {
    pending_offers_.erase(offer.engineer_id());
  }
  PutOffer(p, offer.manual_override() && !was_pending ? nullptr : &before, offer);

  const v1::DispatchOrder order_before = order;
  order.set_state(v1::DISPATCH_STATE_ASSIGNED);
  order.set_assigned_engineer_id(offer.engineer_id());
  order.set_assigned_partner_id(offer.partner_id());
  order.clear_current_offer_id();
  *order.mutable_eta() = offer.eta();
  PutOrder(p, &order_before, order);

  v1::Engineer& engineer = engineers_cache_.at(offer.engineer_id());
  engineer.add_queued_order_ids(order.order_id());
  engineer.set_version(engineer.version() + 1);
  *engineer.mutable_updated_at() = rpc::ToProto(now);
  PutEngineer(p, engineer);
  const absl::CivilDay today = absl::ToCivilDay(now, absl::UTCTimeZone());
  if (today != jobs_day_) {
    jobs_today_.clear();
    jobs_day_ = today;
  }
  ++jobs_today_[engineer.engineer_id()];

  v1::Event e = NewEvent(order.order_id());
  auto* a = e.mutable_offer_accepted();
  a->set_offer_id(offer.offer_id());
  a->set_order_id(order.order_id());
  a->set_engineer_id(offer.engineer_id());
  a->set_partner_id(offer.partner_id());
  a->set_attempt(offer.attempt());
  *a->mutable_accepted_at() = rpc::ToProto(now);
  *a->mutable_eta() = offer.eta();
  *a->mutable_engineer() = PublicProfile(engineer, order.appliance_category());
  a->set_manual_override(offer.manual_override());
  if (offer.manual_override()) *a->mutable_override_actor() = offer.override_actor();
  p.batch->AppendEvent(e);

  const double secs = absl::ToDoubleSeconds(now - rpc::FromProto(order.order_created_at()));
  const int attempts = offer.attempt();
  p.after_commit.push_back([this, secs, attempts, partner = offer.partner_id()] {
    time_to_accept_->Observe(std::max(0.0, secs));
    offers_per_order_->Observe(attempts);
    offer_outcomes_->Add({{"outcome", "accepted"}}).Increment();
    partner_offers_->Add({{"partner", partner}, {"outcome", "accepted"}}).Increment();
    accepted_->Add({{"first_offer", attempts == 1 ? "true" : "false"}}).Increment();
  });
}

void Dispatcher::ReleaseEngineerJob(Pending& p, const std::string& engineer_id,
                                    const std::string& order_id) {
  auto it = engineers_cache_.find(engineer_id);
  if (it == engineers_cache_.end()) return;
  v1::Engineer& e = it->second;
  bool changed = false;
  for (auto* list : {e.mutable_active_order_ids(), e.mutable_queued_order_ids()}) {
    for (int i = list->size() - 1; i >= 0; --i) {
      if ((*list)[i] == order_id) {
        list->erase(list->begin() + i);
        changed = true;
      }
    }
  }
  if (!changed) return;
  e.set_version(e.version() + 1);
  *e.mutable_updated_at() = rpc::ToProto(host_.clock().Now());
  PutEngineer(p, e);
}

// ---------------------------------------------------------------------------
// Partners and engineers

absl::StatusOr<v1::Partner> Dispatcher::UpsertPartner(const v1::Partner& partner) {
  auto guard = store_.locks().Lock({kDispatcherLock});
  v1::Partner partner_now = partner;
  *partner_now.mutable_updated_at() = rpc::ToProto(host_.clock().Now());
  store::Batch batch;
  Pending p{&batch, {}};
  partners_.Put(batch, partner_now.partner_id(), partner_now);
  partners_cache_[partner_now.partner_id()] = partner_now;
  ServeQueue(p, 50);  // a newly allowed partner may unblock orders
  if (absl::Status s = Commit(p); !s.ok()) return s;
  return partner_now;
}

absl::StatusOr<std::optional<v1::Partner>> Dispatcher::GetPartner(const std::string& id) const {
  return partners_.Get(id);
}

absl::StatusOr<v1::Engineer> Dispatcher::RegisterEngineer(const v1::Engineer& request) {
  auto guard = store_.locks().Lock({kDispatcherLock});
  auto policy = policy_->Current();
  const absl::Time now = host_.clock().Now();
  v1::Engineer e = StaticPart(request);
  auto existing = engineers_cache_.find(e.engineer_id());
  if (existing != engineers_cache_.end()) {
    if (google::protobuf::util::MessageDifferencer::Equals(StaticPart(existing->second), e)) {
      return existing->second;
    }
    return absl::AlreadyExistsError(
        "engineer.engineer_id: already registered with different details");
  }
  if (!e.has_capacity() || e.capacity().max_active() == 0) {
    *e.mutable_capacity() = policy->default_capacity();
  }
  if (request.has_location()) {
    // The first position may come with the registration.
    *e.mutable_location() = request.location();
    *e.mutable_location_reported_at() = rpc::ToProto(now);
  }
  e.set_status(v1::ENGINEER_STATUS_AVAILABLE);
  e.set_rating(4.0);
  e.set_first_time_fix_rate(request.first_time_fix_rate() > 0 ? request.first_time_fix_rate()
                                                              : 0.9);
  e.set_diagnosis_accuracy(request.diagnosis_accuracy() > 0 ? request.diagnosis_accuracy()
                                                            : 0.9);
  *e.mutable_created_at() = rpc::ToProto(now);
  *e.mutable_updated_at() = rpc::ToProto(now);
  e.set_version(1);
  store::Batch batch;
  Pending p{&batch, {}};
  PutEngineer(p, e);
  IndexEngineer(CacheEngineer(e), GridPoint(e));
  ServeQueue(p, 50);  // new capacity
  if (absl::Status s = Commit(p); !s.ok()) return s;
  return e;
}

absl::StatusOr<v1::Engineer> Dispatcher::UpdateEngineer(const v1::UpdateEngineerRequest& r) {
  auto guard = store_.locks().Lock({kDispatcherLock});
  auto cached = CachedEngineer(r.engineer().engineer_id());
  if (!cached.ok()) return cached.status();
  v1::Engineer& e = **cached;
  if (r.expected_version() != 0 && r.expected_version() != e.version()) {
    return absl::AbortedError(absl::StrCat("expected_version: engineer is at version ",
                                           e.version()));
  }
  if (r.engineer().partner_id() != e.partner_id()) {
    return absl::InvalidArgumentError("engineer.partner_id: cannot move to another partner");
  }
  v1::Engineer updated = e;
  const v1::Engineer& in = r.engineer();
  const bool all = r.update_mask().paths_size() == 0;
  auto wants = [&](const std::string& path) {
    if (all) return true;
    for (const auto& p : r.update_mask().paths()) {
      if (p == path) return true;
    }
    return false;
  };
  for (const auto& path : r.update_mask().paths()) {
    static const char* kStatic[] = {"home_outlet_id", "display_name", "phone", "photo_ref",
                                    "skills", "cross_brand", "coverage", "shifts",
                                    "capacity", "backup", "home_region_code"};
    if (std::find_if(std::begin(kStatic), std::end(kStatic),
                     [&](const char* s) { return path == s; }) == std::end(kStatic)) {
      return absl::InvalidArgumentError(
          absl::StrCat("update_mask: \"", path, "\" is not an updatable field"));
    }
  }
  if (wants("home_outlet_id")) updated.set_home_outlet_id(in.home_outlet_id());
  if (wants("display_name")) updated.set_display_name(in.display_name());
  if (wants("phone")) updated.set_phone(in.phone());
  if (wants("photo_ref")) updated.set_photo_ref(in.photo_ref());
  if (wants("skills")) *updated.mutable_skills() = in.skills();
  if (wants("cross_brand")) updated.set_cross_brand(in.cross_brand());
  if (wants("coverage")) *updated.mutable_coverage() = in.coverage();
  if (wants("shifts")) *updated.mutable_shifts() = in.shifts();
  if (wants("capacity") && in.capacity().max_active() > 0) {
    *updated.mutable_capacity() = in.capacity();
  }
  if (wants("backup")) updated.set_backup(in.backup());
  if (wants("home_region_code")) updated.set_home_region_code(in.home_region_code());
  updated.set_version(e.version() + 1);
  *updated.mutable_updated_at() = rpc::ToProto(host_.clock().Now());
  store::Batch batch;
  Pending p{&batch, {}};
  PutEngineer(p, updated);
  e = updated;
  IndexEngineer(e, GridPoint(e));
  ServeQueue(p, 50);
  if (absl::Status s = Commit(p); !s.ok()) return s;
  return updated;
}

absl::StatusOr<v1::Engineer> Dispatcher::SuspendEngineer(const std::string& id, bool reinstate,
                                                         const std::string& reason) {
  auto guard = store_.locks().Lock({kDispatcherLock});
  auto cached = CachedEngineer(id);
  if (!cached.ok()) return cached.status();
  v1::Engineer& e = **cached;
  if (reinstate) {
    if (e.status() != v1::ENGINEER_STATUS_SUSPENDED) return e;  // idempotent
    e.set_status(v1::ENGINEER_STATUS_AVAILABLE);
    e.clear_suspension_reason();
  } else {
    if (e.status() == v1::ENGINEER_STATUS_SUSPENDED) return e;
    e.set_status(v1::ENGINEER_STATUS_SUSPENDED);
    e.set_suspension_reason(reason);
  }
  e.set_version(e.version() + 1);
  *e.mutable_updated_at() = rpc::ToProto(host_.clock().Now());
  store::Batch batch;
  Pending p{&batch, {}};
  PutEngineer(p, e);
  if (reinstate) ServeQueue(p, 50);
  if (absl::Status s = Commit(p); !s.ok()) return s;
  return e;
}

absl::StatusOr<bool> Dispatcher::ReportLocation(const v1::ReportLocationRequest& r) {
  auto guard = store_.locks().Lock({kDispatcherLock});
  auto cached = CachedEngineer(r.engineer_id());
  if (!cached.ok()) return cached.status();
  v1::Engineer& e = **cached;
  // Reports arrive out of order from terminals that were offline: the
  // newest device time wins.
  if (e.has_location_reported_at() &&
      rpc::FromProto(r.reported_at()) <= rpc::FromProto(e.location_reported_at())) {
    return false;
  }
  *e.mutable_location() = r.location();
  *e.mutable_location_reported_at() = r.reported_at();
  e.set_version(e.version() + 1);
  *e.mutable_updated_at() = rpc::ToProto(host_.clock().Now());
  IndexEngineer(e, PointOf(e.location()));
  store::Batch batch;
  Pending p{&batch, {}};
  PutEngineer(p, e);
  ServeQueue(p, 20);
  if (absl::Status s = Commit(p); !s.ok()) return s;
  return true;
}

absl::StatusOr<std::optional<v1::Engineer>> Dispatcher::GetEngineer(
    const std::string& id) const {
  return engineers_.Get(id);
}

std::vector<v1::Engineer> Dispatcher::ListEngineers(const v1::ListEngineersRequest& f,
                                                    const std::string& after_id, size_t limit,
                                                    std::string* last_id) {
  std::vector<v1::Engineer> out;
  last_id->clear();
  auto guard = store_.locks().Lock({kDispatcherLock});
  for (auto it = engineers_cache_.upper_bound(after_id); it != engineers_cache_.end(); ++it) {
    const v1::Engineer& e = it->second;
    if (!f.partner_id().empty() && e.partner_id() != f.partner_id()) continue;
    if (f.status() != v1::ENGINEER_STATUS_UNSPECIFIED && e.status() != f.status()) continue;
    if (f.backup_only() && !e.backup()) continue;
    if (!f.appliance_category().empty() &&
        domain::LevelFor(e, f.appliance_category()) == v1::CERTIFICATION_LEVEL_UNSPECIFIED) {
      continue;
    }
    if (!f.region_code().empty()) {
      v1::ServiceArea area;
      area.set_region_code(f.region_code());
      if (!domain::Covers(e.coverage(), area)) continue;
    }
    if (out.size() == limit) {
      *last_id = out.back().engineer_id();
      break;
    }
    out.push_back(e);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Orders and offers

absl::StatusOr<std::optional<v1::DispatchOrder>> Dispatcher::GetOrder(
    const std::string& id) const {
  return orders_.Get(id);
}

absl::StatusOr<store::Table<v1::DispatchOrder>::Page> Dispatcher::ListOrders(
    v1::DispatchState state, const std::string& after_key, size_t limit) const {
  if (state == v1::DISPATCH_STATE_UNSPECIFIED) return orders_.List("", after_key, limit);
  auto ids = orders_by_state_.Lookup(StateKey(state), limit + 1, after_key);
  if (!ids.ok()) return ids.status();
  store::Table<v1::DispatchOrder>::Page page;
  for (size_t i = 0; i < ids->size() && i < limit; ++i) {
    auto order = orders_.Get((*ids)[i]);
    if (!order.ok()) return order.status();
    if (order->has_value()) page.records.push_back(**order);
  }
  if (ids->size() > limit) page.last_key = (*ids)[limit - 1];
  return page;
}

absl::StatusOr<v1::RecommendResponse> Dispatcher::Recommend(const std::string& order_id,
                                                            int limit,
                                                            bool include_ineligible) {
  auto guard = store_.locks().Lock({kDispatcherLock});
  auto order = orders_.Get(order_id);
  if (!order.ok()) return order.status();
  if (!order->has_value()) return absl::NotFoundError("order_id: dispatch has no such order");
  const size_t want = limit == 0 ? 10 : static_cast<size_t>(limit);
  // Explanations only for what the response returns: the best `want`
  // eligible ones and, when asked, every ineligible one.
  const size_t k = std::max(kCandidatesPerDecision, want * 4);
  const std::vector<Ranked> ranked =
      RankCandidates(**order, k, include_ineligible, include_ineligible ? k : want);
  v1::RecommendResponse response;
  response.set_order_id(order_id);
  size_t eligible = 0;
  for (const Ranked& r : ranked) {
    if (r.score.eligible) {
      if (eligible < want) *response.add_candidates() = Explain(r, **order, ++eligible);
    } else if (include_ineligible) {
      *response.add_candidates() = Explain(r, **order, 0);
    } else {
      break;  // ineligible ones sort last
    }
  }
  *response.mutable_policy() = policy_->Current()->ref();
  *response.mutable_computed_at() = rpc::ToProto(host_.clock().Now());
  *response.mutable_arrival_deadline() = (*order)->arrival_deadline();
  return response;
}

bool Dispatcher::MayActOnOffer(const auth::Principal& caller, const v1::Offer& offer) const {
  switch (caller.role) {
    case auth::Role::kEngineer:
      return caller.engineer_id == offer.engineer_id() &&
             caller.partner_id == offer.partner_id();
    case auth::Role::kPartner:
      return caller.partner_id == offer.partner_id();
    default:
      return true;  // agents, services, admins
  }
}

absl::StatusOr<v1::Offer> Dispatcher::AcceptOffer(const auth::Principal& caller,
                                                  const v1::AcceptOfferRequest& r) {
  auto guard = store_.locks().Lock({kDispatcherLock});
  auto loaded = offers_.Get(r.offer_id());
  if (!loaded.ok()) return loaded.status();
  // Another partner's offer answers like a missing one.
  if (!loaded->has_value() || !MayActOnOffer(caller, **loaded)) {
    return absl::NotFoundError("offer_id: no such offer");
  }
  v1::Offer offer = **loaded;
  if (offer.engineer_id() != r.engineer_id()) {
    return absl::InvalidArgumentError("engineer_id: not the engineer of this offer");
  }
  if (offer.state() == v1::OFFER_STATE_ACCEPTED) return offer;  // a retry
  if (offer.state() != v1::OFFER_STATE_PENDING) {
    return absl::FailedPreconditionError(absl::StrCat(
        "offer is ", v1::OfferState_Name(offer.state()), ": cannot accept"));
  }
  auto order = orders_.Get(offer.order_id());
  if (!order.ok()) return order.status();
  if (!order->has_value()) return absl::InternalError("offer without its order");
  v1::DispatchOrder o = **order;
  store::Batch batch;
  Pending p{&batch, {}};
  if (host_.clock().Now() > rpc::FromProto(offer.expires_at())) {
    // Too late: the timer would have moved on; do it now.
    DecideOffer(p, offer, v1::OFFER_STATE_TIMED_OUT, o);
    if (absl::Status s = Commit(p); !s.ok()) return s;
    return absl::FailedPreconditionError("offer is TIMED_OUT: cannot accept");
  }
  Assign(p, offer, o);
  if (absl::Status s = Commit(p); !s.ok()) return s;
  return offer;
}

absl::StatusOr<v1::Offer> Dispatcher::RejectOffer(const auth::Principal& caller,
                                                  const v1::RejectOfferRequest& r) {
  auto guard = store_.locks().Lock({kDispatcherLock});
  auto loaded = offers_.Get(r.offer_id());
  if (!loaded.ok()) return loaded.status();
  if (!loaded->has_value() || !MayActOnOffer(caller, **loaded)) {
    return absl::NotFoundError("offer_id: no such offer");
  }
  v1::Offer offer = **loaded;
  if (offer.engineer_id() != r.engineer_id()) {
    return absl::InvalidArgumentError("engineer_id: not the engineer of this offer");
  }
  if (offer.state() == v1::OFFER_STATE_REJECTED) return offer;  // a retry
  if (offer.state() != v1::OFFER_STATE_PENDING) {
    return absl::FailedPreconditionError(absl::StrCat(
        "offer is ", v1::OfferState_Name(offer.state()), ": cannot reject"));
  }
  auto order = orders_.Get(offer.order_id());
  if (!order.ok()) return order.status();
  if (!order->has_value()) return absl::InternalError("offer without its order");
  v1::DispatchOrder o = **order;
  offer.set_reject_reason(r.reason());
  offer.set_reject_note(r.note());
  store::Batch batch;
  Pending p{&batch, {}};
  DecideOffer(p, offer, v1::OFFER_STATE_REJECTED, o);
  ServeQueue(p, 10);  // the rejecting engineer's freed slot serves the queue
  if (absl::Status s = Commit(p); !s.ok()) return s;
  return offer;
}

absl::StatusOr<v1::DispatchOrder> Dispatcher::OverrideAssignment(
    const auth::Principal& agent, const v1::OverrideAssignmentRequest& r) {
  auto guard = store_.locks().Lock({kDispatcherLock});
  auto order = orders_.Get(r.order_id());
  if (!order.ok()) return order.status();
  if (!order->has_value()) return absl::NotFoundError("order_id: dispatch has no such order");
  v1::DispatchOrder o = **order;
  if (Terminal(o.state())) {
    return absl::FailedPreconditionError(
        absl::StrCat("order is ", v1::DispatchState_Name(o.state()), ": cannot override"));
  }
  auto engineer = CachedEngineer(r.engineer_id());
  if (!engineer.ok()) return engineer.status();
  if ((*engineer)->status() == v1::ENGINEER_STATUS_SUSPENDED) {
    return absl::FailedPreconditionError("engineer_id: engineer is SUSPENDED");
  }
  store::Batch batch;
  Pending p{&batch, {}};
  if (!o.current_offer_id().empty()) {
    auto pending = offers_.Get(o.current_offer_id());
    if (pending.ok() && pending->has_value() &&
        (*pending)->state() == v1::OFFER_STATE_PENDING) {
      v1::Offer withdrawn = **pending;
      DecideOffer(p, withdrawn, v1::OFFER_STATE_WITHDRAWN, o);
    }
  }
  if (o.state() == v1::DISPATCH_STATE_ASSIGNED) {
    ReleaseEngineerJob(p, o.assigned_engineer_id(), o.order_id());
  }
  if (o.state() == v1::DISPATCH_STATE_UNASSIGNABLE) queue_.Delete(batch, QueueKey(o));
  const absl::Time now = host_.clock().Now();
  v1::DispatchOrder probe = o;
  domain::Situation s = SituationFor(**engineer, probe);
  const domain::Arrival arrival = domain::PredictArrival(**engineer, probe, s);
  v1::Offer offer;
  offer.set_offer_id(absl::StrCat(o.order_id(), "-O", o.attempts() + 1));
  offer.set_order_id(o.order_id());
  offer.set_engineer_id((*engineer)->engineer_id());
  offer.set_partner_id((*engineer)->partner_id());
  offer.set_attempt(o.attempts() + 1);
  *offer.mutable_made_at() = rpc::ToProto(now);
  *offer.mutable_expires_at() = rpc::ToProto(now);
  *offer.mutable_eta() = rpc::ToProto(arrival.at);
  offer.set_state(v1::OFFER_STATE_ACCEPTED);
  offer.set_manual_override(true);
  auto* actor = offer.mutable_override_actor();
  actor->set_principal_id(agent.id);
  actor->set_role(v1::ROLE_AGENT);
  *actor->mutable_server_time() = rpc::ToProto(now);
  actor->set_reason(r.reason());
  *offer.mutable_policy() = policy_->Current()->ref();
  o.set_attempts(o.attempts() + 1);
  o.add_offer_ids(offer.offer_id());
  Assign(p, offer, o);
  if (absl::Status st = Commit(p); !st.ok()) return st;
  return o;
}

absl::StatusOr<v1::EtaEstimate> Dispatcher::Eta(const std::string& order_id) {
  auto guard = store_.locks().Lock({kDispatcherLock});
  auto order = orders_.Get(order_id);
  if (!order.ok()) return order.status();
  if (!order->has_value()) return absl::NotFoundError("order_id: dispatch has no such order");
  const v1::DispatchOrder& o = **order;
  std::string engineer_id = o.assigned_engineer_id();
  if (engineer_id.empty()) {
    const std::vector<Ranked> ranked = RankCandidates(o, kCandidatesPerDecision, false, 1);
    if (!ranked.empty() && ranked.front().score.eligible) {
      engineer_id = ranked.front().engineer->engineer_id();
    }
  }
  if (engineer_id.empty()) {
    return absl::FailedPreconditionError("order_id: no engineer can take this order now");
  }
  auto engineer = CachedEngineer(engineer_id);
  if (!engineer.ok()) return engineer.status();
  domain::Situation s = SituationFor(**engineer, o);
  const domain::Arrival arrival = domain::PredictArrival(**engineer, o, s);
  v1::EtaEstimate eta;
  eta.set_order_id(order_id);
  eta.set_engineer_id(engineer_id);
  *eta.mutable_eta() = rpc::ToProto(arrival.at);
  eta.set_distance_km(arrival.distance_km);
  *eta.mutable_travel() = rpc::ToProto(arrival.travel);
  *eta.mutable_queued_work() = rpc::ToProto(arrival.queued_work);
  *eta.mutable_computed_at() = rpc::ToProto(s.now);
  if (o.has_appointment() && arrival.at > rpc::FromProto(o.appointment().end())) {
    eta.set_late_for_window(true);
    // The next half-hour-aligned two-hour window starting after the ETA.
    const int64_t start = (absl::ToUnixSeconds(arrival.at) / 1800 + 1) * 1800;
    eta.mutable_proposed_window()->mutable_start()->set_seconds(start);
    eta.mutable_proposed_window()->mutable_end()->set_seconds(start + 7200);
  }
  return eta;
}

absl::StatusOr<v1::RemoteExpertRequest> Dispatcher::RequestRemoteExpert(
    const v1::RequestRemoteExpertRequest& r) {
  auto guard = store_.locks().Lock({kDispatcherLock});
  const std::string key = store::CompositeKey({r.order_id(), r.request_id()});
  auto existing = remote_.Get(key);
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) return **existing;
  auto order = orders_.Get(r.order_id());
  if (!order.ok()) return order.status();
  if (!order->has_value()) return absl::NotFoundError("order_id: dispatch has no such order");
  const std::string category = (*order)->appliance_category();
  // A SENIOR in the category, distance ignored: best rated, then id.
  const v1::Engineer* best = nullptr;
  for (const auto& [id, e] : engineers_cache_) {
    if (e.status() == v1::ENGINEER_STATUS_SUSPENDED || id == r.engineer_id()) continue;
    if (domain::LevelFor(e, category) != v1::CERTIFICATION_LEVEL_SENIOR) continue;
    if (best == nullptr || e.rating() > best->rating()) best = &e;
  }
  v1::RemoteExpertRequest req;
  req.set_remote_request_id(absl::StrCat(r.order_id(), "-X-", r.request_id()));
  req.set_request_id(r.request_id());
  req.set_order_id(r.order_id());
  req.set_appliance_category(category);
  req.set_requested_by_engineer_id(r.engineer_id());
  req.set_reason(r.reason());
  *req.mutable_requested_at() = rpc::ToProto(host_.clock().Now());
  if (best != nullptr) {
    req.set_expert_engineer_id(best->engineer_id());
    req.set_state(v1::REMOTE_EXPERT_STATE_MATCHED);
    *req.mutable_matched_at() = req.requested_at();
  } else {
    req.set_state(v1::REMOTE_EXPERT_STATE_NO_EXPERT);
  }
  store::Batch batch;
  remote_.Put(batch, key, req);
  if (absl::Status s = store_.Commit(batch); !s.ok()) return s;
  return req;
}

absl::StatusOr<std::optional<v1::Offer>> Dispatcher::GetOffer(const std::string& id) const {
  return offers_.Get(id);
}

absl::StatusOr<std::vector<v1::Offer>> Dispatcher::ListOffers(
    const v1::ListOffersRequest& f, const std::string& after_key, size_t limit,
    std::string* last_key) const {
  std::string prefix;
  if (!f.order_id().empty()) {
    prefix = store::CompositeKey({"order", f.order_id()});
  } else if (!f.engineer_id().empty()) {
    prefix = store::CompositeKey({"engineer", f.engineer_id()});
  } else {
    prefix = store::CompositeKey({"partner", f.partner_id()});
  }
  prefix.push_back('\0');
  if (!after_key.empty() && after_key.compare(0, prefix.size(), prefix) != 0) {
    return absl::InvalidArgumentError("page.page_token: belongs to a different filter");
  }
  const std::string start = after_key.empty() ? prefix : after_key + std::string(1, '\0');
  std::vector<v1::Offer> out;
  last_key->clear();
  std::string last;
  bool more = false;
  absl::Status s = store_.Scan(
      offer_index_, start, store::PrefixSuccessor(prefix),
      [&](absl::string_view row, absl::string_view) {
        if (out.size() == limit) {
          more = true;
          return false;
        }
        last = std::string(row);
        auto o = offers_.Get(row.substr(prefix.size() + 8));
        if (!o.ok() || !o->has_value()) return true;
        const v1::Offer& offer = **o;
        if (!f.engineer_id().empty() && offer.engineer_id() != f.engineer_id()) return true;
        if (!f.partner_id().empty() && offer.partner_id() != f.partner_id()) return true;
        if (f.state() != v1::OFFER_STATE_UNSPECIFIED && offer.state() != f.state()) return true;
        out.push_back(offer);
        return true;
      });
  if (!s.ok()) return s;
  if (more) *last_key = last;
  return out;
}

absl::StatusOr<std::vector<v1::UnassignedEntry>> Dispatcher::ListUnassigned(
    const std::string& region_code, const std::string& after_key, size_t limit,
    std::string* last_key) const {
  std::vector<v1::UnassignedEntry> out;
  last_key->clear();
  std::string last;
  bool more = false;
  absl::Status s = queue_.table().Scan(
      "", after_key, [&](absl::string_view key, const v1::UnassignedEntry& e) {
        if (out.size() == limit) {
          more = true;
          return false;
        }
        last = std::string(key);
        if (region_code.empty() || e.region_code() == region_code) out.push_back(e);
        return true;
      });
  if (!s.ok()) return s;
  if (more) *last_key = last;
  return out;
}

// ---------------------------------------------------------------------------
// Events and timers

v1::DispatchOrder Dispatcher::OrderFromIntake(const v1::WorkOrder& wo, uint64_t seq) const {
  v1::DispatchOrder d;
  d.set_order_id(wo.order_id());
  d.set_state(v1::DISPATCH_STATE_AWAITING_ASSIGNMENT);
  d.set_priority(wo.priority());
  *d.mutable_service_area() = wo.service_area();
  d.set_appliance_category(wo.appliance().category());
  d.set_appliance_brand(wo.appliance().brand());
  d.set_appliance_model(wo.appliance().model());
  d.set_fault_kind(wo.fault().kind());
  d.set_complexity(wo.fault().complexity());
  d.set_order_type(wo.order_type());
  d.set_is_rework(wo.is_rework());
  d.set_rework_of_engineer_id(wo.rework_of_engineer_id());
  if (!wo.rework_of_engineer_id().empty()) {
    auto it = engineers_cache_.find(wo.rework_of_engineer_id());
    if (it != engineers_cache_.end()) {
      d.set_rework_of_level(domain::LevelFor(it->second, wo.appliance().category()));
    }
  }
  d.set_customer_tier(wo.customer().tier());
  if (wo.has_appointment()) *d.mutable_appointment() = wo.appointment();
  for (const auto& c : wo.sla_clocks()) {
    if (c.kind() == v1::SLA_CLOCK_KIND_DISPATCH) *d.mutable_dispatch_deadline() = c.deadline();
    if (c.kind() == v1::SLA_CLOCK_KIND_ARRIVAL) *d.mutable_arrival_deadline() = c.deadline();
  }
  *d.mutable_order_created_at() = wo.created_at();
  *d.mutable_received_at() = rpc::ToProto(host_.clock().Now());
  d.set_source_event_seq(seq);
  d.set_last_source_event_seq(seq);
  d.set_remote_first(wo.handling_mode() == v1::HANDLING_MODE_REMOTE);
  d.set_required_level(domain::RequiredLevel(d));
  if (wo.order_type() == v1::ORDER_TYPE_CONSULTATION) {
    d.set_state(v1::DISPATCH_STATE_NOT_REQUIRED);
  }
  return d;
}

absl::Status Dispatcher::ApplyIntakeEvent(const v1::Event& event, store::Batch& batch) {
  batch.HoldUntilDone(store_.locks().Lock({kDispatcherLock}));
  Pending p{&batch, {}};
  auto load = [&](const std::string& id) -> absl::StatusOr<v1::DispatchOrder> {
    auto o = orders_.Get(id);
    if (!o.ok()) return o.status();
    if (!o->has_value()) return absl::NotFoundError("order unknown to dispatch");
    return **o;
  };
  switch (event.body_case()) {
    case v1::Event::kOrderCreated: {
      const v1::WorkOrder& wo = event.order_created().order();
      if (wo.order_id().empty()) {
        return absl::InvalidArgumentError("order_created.order.order_id: empty");
      }
      auto existing = orders_.Get(wo.order_id());
      if (!existing.ok()) return existing.status();
      if (existing->has_value()) return absl::OkStatus();
      v1::DispatchOrder d = OrderFromIntake(wo, event.seq());
      PutOrder(p, nullptr, d);
      TryOffer(p, d);
      break;
    }
    case v1::Event::kOrderPriorityChanged: {
      const auto& c = event.order_priority_changed();
      auto o = load(c.order_id());
      if (!o.ok()) return o.status();
      if (Terminal(o->state())) return absl::OkStatus();
      const v1::DispatchOrder before = *o;
      if (o->state() == v1::DISPATCH_STATE_UNASSIGNABLE) queue_.Delete(batch, QueueKey(*o));
      o->set_priority(c.to_priority());
      if (c.has_dispatch_deadline()) *o->mutable_dispatch_deadline() = c.dispatch_deadline();
      if (c.has_arrival_deadline()) *o->mutable_arrival_deadline() = c.arrival_deadline();
      o->set_last_source_event_seq(event.seq());
      if (o->state() == v1::DISPATCH_STATE_UNASSIGNABLE) {
        // Re-queue under the new deadline, then try again with the new priority.
        o->set_state(v1::DISPATCH_STATE_AWAITING_ASSIGNMENT);
      }
      PutOrder(p, &before, *o);
      TryOffer(p, *o);
      break;
    }
    case v1::Event::kOrderCancelled: {
      auto o = load(event.order_cancelled().order_id());
      if (!o.ok()) return o.status();
      if (Terminal(o->state())) return absl::OkStatus();
      const v1::DispatchOrder before = *o;
      if (!o->current_offer_id().empty()) {
        auto pending = offers_.Get(o->current_offer_id());
        if (pending.ok() && pending->has_value() &&
            (*pending)->state() == v1::OFFER_STATE_PENDING) {
          v1::Offer withdrawn = **pending;
          DecideOffer(p, withdrawn, v1::OFFER_STATE_WITHDRAWN, *o);
        }
      }
      if (!o->assigned_engineer_id().empty()) {
        ReleaseEngineerJob(p, o->assigned_engineer_id(), o->order_id());
      }
      if (o->state() == v1::DISPATCH_STATE_UNASSIGNABLE) queue_.Delete(batch, QueueKey(*o));
      o->set_state(v1::DISPATCH_STATE_CANCELLED);
      o->clear_current_offer_id();
      o->set_last_source_event_seq(event.seq());
      PutOrder(p, &before, *o);
      ServeQueue(p, 50);
      break;
    }
    case v1::Event::kOrderStateChanged: {
      const auto& c = event.order_state_changed();
      auto o = load(c.order_id());
      if (!o.ok()) return o.status();
      const std::string& engineer = o->assigned_engineer_id();
      if (engineer.empty()) return absl::OkStatus();
      switch (c.to_state()) {
        case v1::ORDER_STATE_EN_ROUTE:
        case v1::ORDER_STATE_ON_SITE:
        case v1::ORDER_STATE_REMOTE_SESSION: {
          // The job becomes the engineer's active one.
          auto it = engineers_cache_.find(engineer);
          if (it == engineers_cache_.end()) break;
          v1::Engineer& e = it->second;
          bool active = false;
          for (const auto& id : e.active_order_ids()) active |= id == o->order_id();
          if (active) break;
          ReleaseEngineerJob(p, engineer, o->order_id());
          e.add_active_order_ids(o->order_id());
          PutEngineer(p, e);
          break;
        }
        case v1::ORDER_STATE_REPAIRED:
        case v1::ORDER_STATE_CLOSED: {
          const v1::DispatchOrder before = *o;
          ReleaseEngineerJob(p, engineer, o->order_id());
          if (o->state() == v1::DISPATCH_STATE_ASSIGNED) {
            o->set_state(v1::DISPATCH_STATE_COMPLETED);
            o->set_last_source_event_seq(event.seq());
            PutOrder(p, &before, *o);
          }
          ServeQueue(p, 50);  // capacity appeared
          break;
        }
        default:
          break;
      }
      break;
    }
    case v1::Event::kOrderReopened: {
      auto o = load(event.order_reopened().order_id());
      if (!o.ok()) return o.status();
      const v1::DispatchOrder before = *o;
      if (!o->assigned_engineer_id().empty()) {
        ReleaseEngineerJob(p, o->assigned_engineer_id(), o->order_id());
      }
      o->clear_assigned_engineer_id();
      o->clear_assigned_partner_id();
      o->set_state(v1::DISPATCH_STATE_AWAITING_ASSIGNMENT);
      o->set_last_source_event_seq(event.seq());
      PutOrder(p, &before, *o);
      TryOffer(p, *o);
      break;
    }
    default:
      return absl::OkStatus();
  }
  for (auto& f : p.after_commit) f();
  return absl::OkStatus();
}

absl::Status Dispatcher::ApplySatisfactionEvent(const v1::Event& event, store::Batch& batch) {
  if (!event.has_engineer_rating_changed()) return absl::OkStatus();
  batch.HoldUntilDone(store_.locks().Lock({kDispatcherLock}));
  const auto& r = event.engineer_rating_changed();
  auto it = engineers_cache_.find(r.engineer_id());
  if (it == engineers_cache_.end()) return absl::NotFoundError("engineer unknown to dispatch");
  v1::Engineer& e = it->second;
  e.set_rating(r.rating());
  e.set_rating_count(static_cast<int32_t>(r.response_count()));
  e.set_version(e.version() + 1);
  *e.mutable_updated_at() = rpc::ToProto(host_.clock().Now());
  engineers_.Put(batch, e.engineer_id(), e);
  return absl::OkStatus();
}

absl::Status Dispatcher::Tick() {
  auto guard = store_.locks().Lock({kDispatcherLock});
  const absl::Time now = host_.clock().Now();
  std::vector<std::string> expired;
  const std::string end =
      store::EncodeU64(static_cast<uint64_t>(std::max<int64_t>(absl::ToUnixMicros(now), 0)) + 1);
  absl::Status s = expiry_index_.Scan(end, [&](absl::string_view row, absl::string_view) {
    expired.emplace_back(row.substr(8));
    return expired.size() < 200;
  });
  if (!s.ok()) return s;
  store::Batch batch;
  Pending p{&batch, {}};
  for (const std::string& id : expired) {
    auto offer = offers_.Get(id);
    if (!offer.ok() || !offer->has_value() || (*offer)->state() != v1::OFFER_STATE_PENDING) {
      continue;
    }
    auto order = orders_.Get((*offer)->order_id());
    if (!order.ok() || !order->has_value()) continue;
    v1::Offer o = **offer;
    v1::DispatchOrder d = **order;
    DecideOffer(p, o, v1::OFFER_STATE_TIMED_OUT, d);
  }
  ServeQueue(p, 50);
  if (!batch.empty()) {
    if (absl::Status c = Commit(p); !c.ok()) return c;
  }
  // Gauges from what is now durable.
  int depth = 0;
  absl::Time oldest = now;
  queue_.Scan("", [&](absl::string_view, const v1::UnassignedEntry& e) {
    ++depth;
    oldest = std::min(oldest, rpc::FromProto(e.queued_at()));
    return true;
  }).IgnoreError();
  queue_depth_->Set(depth);
  queue_oldest_->Set(absl::ToDoubleSeconds(now - oldest));
  double held = 0, capacity = 0;
  for (const auto& [id, e] : engineers_cache_) {
    if (e.status() == v1::ENGINEER_STATUS_SUSPENDED || e.status() == v1::ENGINEER_STATUS_OFF_DUTY) {
      continue;
    }
    held += e.active_order_ids_size() + e.queued_order_ids_size();
    capacity += e.capacity().max_active() + e.capacity().max_queued();
  }
  utilisation_->Set(capacity > 0 ? held / capacity : 0);
  return absl::OkStatus();
}

absl::Time Dispatcher::NextTick() const {
  absl::Time next = host_.clock().Now() + absl::Minutes(1);
  expiry_index_.Scan("", [&](absl::string_view row, absl::string_view) {
    if (auto micros = store::DecodeU64(row.substr(0, 8))) {
      next = std::min(next, absl::FromUnixMicros(static_cast<int64_t>(*micros)));
    }
    return false;
  }).IgnoreError();
  return next;
}

}  // namespace aftersales::dispatch
