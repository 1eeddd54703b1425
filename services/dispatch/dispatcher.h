#ifndef AFTERSALES_SERVICES_DISPATCH_DISPATCHER_H_
#define AFTERSALES_SERVICES_DISPATCH_DISPATCHER_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "aftersales/v1/dispatch.pb.h"
#include "aftersales/v1/events.pb.h"
#include "auth/auth.h"
#include "dispatch/domain/ranking.h"
#include "geo/geo.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "server/host.h"
#include "server/policy_holder.h"
#include "store/queue_index.h"
#include "store/store.h"

namespace aftersales::dispatch {

using DispatchPolicyHolder = server::PolicyHolder<v1::DispatchPolicy>;

// Dispatch's state and every decision that changes it: engineers (with an
// in-memory cache and spatial index, rebuilt from RocksDB at start), orders
// from intake's stream, offers with their timeouts, the unassigned queue and
// each partner's offer feed. Decisions run one at a time under the dispatcher
// lock and each commits one synced batch (state + feed + events), so an
// engineer is never offered beyond capacity. Ranking asks the spatial index
// for the nearest engineers, never all of them.
class Dispatcher {
 public:
  Dispatcher(server::ServiceHost& host, std::unique_ptr<DispatchPolicyHolder> policy);
  static std::vector<std::string> ColumnFamilies();

  // Loads engineers, pending offers and feed cursors into memory.
  absl::Status Load();

  server::ServiceHost& host() { return host_; }
  DispatchPolicyHolder& policy() { return *policy_; }

  // ---- partners and engineers ----
  absl::StatusOr<v1::Partner> UpsertPartner(const v1::Partner& partner);
  absl::StatusOr<std::optional<v1::Partner>> GetPartner(const std::string& id) const;
  // ALREADY_EXISTS if the id is taken by a different body.
  absl::StatusOr<v1::Engineer> RegisterEngineer(const v1::Engineer& engineer);
  absl::StatusOr<v1::Engineer> UpdateEngineer(const v1::UpdateEngineerRequest& request);
  absl::StatusOr<v1::Engineer> SuspendEngineer(const std::string& id, bool reinstate,
                                              const std::string& reason);
  absl::StatusOr<bool> ReportLocation(const v1::ReportLocationRequest& request);
  absl::StatusOr<std::optional<v1::Engineer>> GetEngineer(const std::string& id) const;
  std::vector<v1::Engineer> ListEngineers(const v1::ListEngineersRequest& filter,
                                          const std::string& after_id, size_t limit,
                                          std::string* last_id);

  // ---- orders and offers ----
  absl::StatusOr<std::optional<v1::DispatchOrder>> GetOrder(const std::string& id) const;
  absl::StatusOr<store::Table<v1::DispatchOrder>::Page> ListOrders(
      v1::DispatchState state, const std::string& after_key, size_t limit) const;
  absl::StatusOr<v1::RecommendResponse> Recommend(const std::string& order_id, int limit,
                                                  bool include_ineligible);
  // `caller` must be the offer's engineer, its partner, or an internal role.
  absl::StatusOr<v1::Offer> AcceptOffer(const auth::Principal& caller,
                                        const v1::AcceptOfferRequest& request);
  absl::StatusOr<v1::Offer> RejectOffer(const auth::Principal& caller,
                                        const v1::RejectOfferRequest& request);
  absl::StatusOr<v1::DispatchOrder> OverrideAssignment(const auth::Principal& agent,
                                                       const v1::OverrideAssignmentRequest& r);
  absl::StatusOr<v1::EtaEstimate> Eta(const std::string& order_id);
  absl::StatusOr<v1::RemoteExpertRequest> RequestRemoteExpert(
      const v1::RequestRemoteExpertRequest& request);
  absl::StatusOr<std::optional<v1::Offer>> GetOffer(const std::string& id) const;
  // Offers of an order / engineer / partner, newest first.
  absl::StatusOr<std::vector<v1::Offer>> ListOffers(const v1::ListOffersRequest& filter,
                                                    const std::string& after_key, size_t limit,
                                                    std::string* last_key) const;
  absl::StatusOr<std::vector<v1::UnassignedEntry>> ListUnassigned(
      const std::string& region_code, const std::string& after_key, size_t limit,
      std::string* last_key) const;

  // ---- partner feed ----
  // Feed items of `partner` with cursor > after (at most `limit`).
  absl::StatusOr<std::vector<v1::OfferFeedMessage>> Feed(const std::string& partner,
                                                         uint64_t after, size_t limit) const;
  // The partner's latest cursor (where a "from now" watch starts).
  uint64_t FeedHead(const std::string& partner);

  // ---- events and timers ----
  absl::Status ApplyIntakeEvent(const v1::Event& event, store::Batch& batch);
  absl::Status ApplySatisfactionEvent(const v1::Event& event, store::Batch& batch);
  // Times out expired offers and retries the unassigned queue (backup pool
  // and neighbouring engineers once an order is past its dispatch deadline).
  absl::Status Tick();
  // When Tick next has something to do (earliest offer expiry), capped.
  absl::Time NextTick() const;

 private:
  struct Pending;  // what one decision changes, committed together

  // Rebuilds the caches from the store (the dispatcher lock is held).
  absl::Status Reload();
  uint64_t FeedHeadLocked(const std::string& partner);

  // Tries to offer `order` to the best eligible engineer; else queues it.
  void TryOffer(Pending& p, v1::DispatchOrder& order);
  // Offers queued orders, best served first (bounded per call).
  void ServeQueue(Pending& p, size_t limit);
  // One candidate of a decision: scored (what ranking needs), not yet
  // explained; Explain builds its Candidate proto when a caller returns it.
  struct Ranked {
    const v1::Engineer* engineer;
    domain::Situation situation;
    domain::Score score;
  };
  // The k engineers nearest to the order (only those passing the cheap
  // filter unless include_ineligible), scored at one instant; the first
  // `top` in rank order (eligible best first, then ineligible by id), the
  // rest unordered after them.
  std::vector<Ranked> RankCandidates(const v1::DispatchOrder& order, size_t k,
                                     bool include_ineligible, size_t top);
  // The ranking explanation of one scored candidate (domain::Evaluate with
  // the same situation), with its rank.
  static v1::Candidate Explain(const Ranked& r, const v1::DispatchOrder& order, int rank);
  domain::Situation SituationFor(const v1::Engineer& e, const v1::DispatchOrder& order,
                                 absl::Time now, const v1::DispatchPolicy* policy) const;
  domain::Situation SituationFor(const v1::Engineer& e, const v1::DispatchOrder& order) const;
  const v1::Engineer* FindEngineer(absl::string_view id) const;
  v1::Engineer& CacheEngineer(const v1::Engineer& e);
  // Puts the engineer at `point` (if any) in grid_, then into the category
  // indexes of its skills at its grid_ position, and out of the others.
  void IndexEngineer(const v1::Engineer& e, std::optional<geo::Point> point);
  void DecideOffer(Pending& p, v1::Offer& offer, v1::OfferState state,
                   v1::DispatchOrder& order);
  void Assign(Pending& p, v1::Offer& offer, v1::DispatchOrder& order);
  void ReleaseEngineerJob(Pending& p, const std::string& engineer_id,
                          const std::string& order_id);
  absl::Status Commit(Pending& p);

  void PutOrder(Pending& p, const v1::DispatchOrder* before, v1::DispatchOrder& after);
  void PutOffer(Pending& p, const v1::Offer* before, const v1::Offer& after);
  void PutEngineer(Pending& p, const v1::Engineer& engineer);
  v1::Event NewEvent(const std::string& subject) const;
  v1::DispatchOrder OrderFromIntake(const v1::WorkOrder& order, uint64_t seq) const;
  absl::StatusOr<v1::Engineer*> CachedEngineer(const std::string& id);
  bool MayActOnOffer(const auth::Principal& caller, const v1::Offer& offer) const;

  server::ServiceHost& host_;
  std::unique_ptr<DispatchPolicyHolder> policy_;
  store::Store& store_;
  store::Table<v1::DispatchOrder> orders_;
  store::Index orders_by_state_;
  store::Table<v1::Engineer> engineers_;
  store::Table<v1::Partner> partners_;
  store::Table<v1::Offer> offers_;
  store::Table<v1::RemoteExpertRequest> remote_;
  store::RecordQueue<v1::UnassignedEntry> queue_;  // by arrival deadline
  rocksdb::ColumnFamilyHandle* offer_index_;
  store::QueueIndex expiry_index_;
  rocksdb::ColumnFamilyHandle* feed_;

  // Caches, guarded by the dispatcher lock (store().locks() key "dispatcher").
  // engineers_cache_ is ordered for listing; decisions look engineers up by
  // id through engineer_index_ (hash, keys viewing the map's own keys: map
  // nodes never move, and engineers are never erased but by Reload).
  std::map<std::string, v1::Engineer> engineers_cache_;
  absl::flat_hash_map<absl::string_view, v1::Engineer*> engineer_index_;
  absl::node_hash_map<std::string, v1::Partner> partners_cache_;
  geo::GridIndex grid_{0.01};  // reset with the same cell size by Reload()
  // The same points as grid_, one index per appliance category holding the
  // engineers with a skill for it: a decision's filter rejects every other
  // engineer, so its nearest-K walk visits only these (same hits).
  absl::flat_hash_map<std::string, geo::GridIndex> category_grids_;
  absl::flat_hash_map<std::string, int> pending_offers_;  // engineer -> pending offers
  absl::flat_hash_map<std::string, int> jobs_today_;      // engineer -> accepted today
  std::map<std::string, uint64_t> feed_cursor_;  // partner -> last cursor
  absl::CivilDay jobs_day_;

  prometheus::Histogram* time_to_offer_;
  prometheus::Histogram* time_to_accept_;
  prometheus::Histogram* offers_per_order_;
  prometheus::Family<prometheus::Counter>* offer_outcomes_;
  // Offers by partner network (admin-registered, so a bounded set) and outcome.
  prometheus::Family<prometheus::Counter>* partner_offers_;
  prometheus::Family<prometheus::Counter>* accepted_;
  prometheus::Gauge* queue_depth_;
  prometheus::Gauge* queue_oldest_;
  prometheus::Gauge* utilisation_;
  prometheus::Counter* past_deadline_;
};

}  // namespace aftersales::dispatch

#endif  // AFTERSALES_SERVICES_DISPATCH_DISPATCHER_H_
