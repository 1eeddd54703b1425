#include "complaint/domain/grading.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "complaint/domain/policy.h"
#include "complaint/domain/text_match.h"
#include "rpc/rpc.h"

namespace aftersales::complaint::domain {
namespace {

constexpr size_t kMaxEvidence = 32;
constexpr size_t kMaxEvidenceChars = 128;

std::string Short(const std::string& enum_name, absl::string_view prefix) {
  return std::string(absl::StripPrefix(enum_name, prefix));
}

// "72h", "30d", "90m"
std::string WindowText(absl::Duration d) {
  if (d % absl::Hours(24) == absl::ZeroDuration()) return absl::StrCat(d / absl::Hours(24), "d");
  if (d % absl::Hours(1) == absl::ZeroDuration()) return absl::StrCat(d / absl::Hours(1), "h");
  return absl::StrCat(absl::ToInt64Minutes(d), "m");
}

// Truncates to at most kMaxEvidenceChars UTF-8 characters.
std::string Clip(absl::string_view s) {
  size_t chars = 0, i = 0;
  while (i < s.size() && chars < kMaxEvidenceChars) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    i += c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : 4;
    ++chars;
  }
  return std::string(s.substr(0, std::min(i, s.size())));
}

// Complaints created in (now - window, now], oldest first.
std::vector<EarlierComplaint> InWindow(const std::vector<EarlierComplaint>& all,
                                       absl::Time now, absl::Duration window) {
  std::vector<EarlierComplaint> out;
  for (const auto& c : all) {
    if (c.created_at > now - window && c.created_at <= now) out.push_back(c);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.created_at < b.created_at ||
           (a.created_at == b.created_at && a.complaint_id < b.complaint_id);
  });
  return out;
}

struct Evaluation {
  bool fired = false;
  std::vector<std::string> evidence;
};

Evaluation Evaluate(const v1::GradingRule& rule, const GradeInput& in,
                    const CategoryDecision& category, const v1::ComplaintPolicy& policy,
                    absl::Time now) {
  Evaluation e;
  switch (rule.kind()) {
    case v1::GRADING_RULE_KIND_SAFETY_KEYWORDS:
      e.evidence = MatchedTerms(in.text, policy.safety_keywords(), kMaxEvidence);
      e.fired = !e.evidence.empty();
      break;
    case v1::GRADING_RULE_KIND_PUBLIC_PRESSURE_KEYWORDS:
      e.evidence = MatchedTerms(in.text, policy.public_pressure_keywords(), kMaxEvidence);
      e.fired = !e.evidence.empty();
      break;
    case v1::GRADING_RULE_KIND_STRONG_EMOTION:
      e.evidence = MatchedTerms(in.text, policy.strong_emotion_keywords(), kMaxEvidence);
      e.fired = !e.evidence.empty();
      break;
    case v1::GRADING_RULE_KIND_SAME_MODEL_CLUSTER: {
      if (in.appliance_model.empty()) break;
      const absl::Duration window = rpc::FromProto(policy.same_model_window());
      const auto earlier = InWindow(in.same_model_history, now, window);
      const int64_t total = static_cast<int64_t>(earlier.size()) + 1;  // this one included
      if (total < policy.same_model_threshold()) break;
      e.fired = true;
      e.evidence.push_back(absl::StrCat("model=", in.appliance_model));
      e.evidence.push_back(absl::StrCat("complaints=", total, " within ", WindowText(window)));
      for (const auto& c : earlier) e.evidence.push_back(c.complaint_id);
      break;
    }
    case v1::GRADING_RULE_KIND_ORDER_SLA_BREACHED:
      if (in.order == nullptr || !in.order->sla_breached()) break;
      e.fired = true;
      e.evidence.push_back(absl::StrCat("order=", in.order->order_id()));
      for (int k : in.order->breached_clocks()) {
        e.evidence.push_back(
            Short(v1::SlaClockKind_Name(static_cast<v1::SlaClockKind>(k)), "SLA_CLOCK_KIND_"));
      }
      break;
    case v1::GRADING_RULE_KIND_ORDER_REWORK:
      if (in.order == nullptr || !in.order->is_rework()) break;
      e.fired = true;
      e.evidence.push_back(absl::StrCat("order=", in.order->order_id()));
      break;
    case v1::GRADING_RULE_KIND_CATEGORY:
      for (int c : rule.categories()) {
        if (c != category.category) continue;
        e.fired = true;
        e.evidence.push_back(absl::StrCat(
            "category=", Short(v1::ComplaintCategory_Name(category.category),
                               "COMPLAINT_CATEGORY_")));
        if (category.inferred) {
          e.evidence.push_back(
              absl::StrCat("inferred from: ", absl::StrJoin(category.evidence, ", ")));
        }
      }
      break;
    case v1::GRADING_RULE_KIND_REPEAT_COMPLAINANT: {
      const auto earlier = InWindow(in.customer_history, now,
                                    rpc::FromProto(policy.repeat_complainant_window()));
      if (static_cast<int64_t>(earlier.size()) < policy.repeat_complainant_threshold()) break;
      e.fired = true;
      for (const auto& c : earlier) e.evidence.push_back(c.complaint_id);
      break;
    }
    case v1::GRADING_RULE_KIND_CHANNEL:
      for (int ch : rule.channels()) {
        if (ch != in.channel) continue;
        e.fired = true;
        e.evidence.push_back(absl::StrCat(
            "channel=", Short(v1::ComplaintChannel_Name(in.channel), "COMPLAINT_CHANNEL_")));
      }
      break;
    case v1::GRADING_RULE_KIND_VIP_CUSTOMER:
      if (!policy.vip_step() || in.tier != v1::CUSTOMER_TIER_VIP) break;
      e.fired = true;
      e.evidence.push_back("customer_tier=VIP");
      break;
    default:
      break;
  }
  if (e.evidence.size() > kMaxEvidence) e.evidence.resize(kMaxEvidence);
  for (auto& s : e.evidence) s = Clip(s);
  return e;
}

}  // namespace

CategoryDecision DecideCategory(absl::string_view text, v1::ComplaintCategory filed,
                                const v1::ComplaintPolicy& policy) {
  CategoryDecision d;
  if (filed != v1::COMPLAINT_CATEGORY_UNSPECIFIED) {
    d.category = filed;
    return d;
  }
  d.inferred = true;
  for (const auto& ck : policy.category_keywords()) {
    std::vector<std::string> words = MatchedTerms(text, ck.keywords(), kMaxEvidence);
    if (words.empty()) continue;
    d.category = ck.category();
    d.evidence = std::move(words);
    for (auto& w : d.evidence) w = Clip(w);
    return d;
  }
  d.category = v1::COMPLAINT_CATEGORY_OTHER;
  return d;
}

v1::GradingResult Grade(const GradeInput& input, const v1::ComplaintPolicy& policy,
                        absl::Time now) {
  const CategoryDecision category = DecideCategory(input.text, input.category, policy);
  struct Hit {
    const v1::GradingRule* rule;
    Evaluation evaluation;
  };
  std::vector<Hit> floors, steps;
  for (const v1::GradingRule& rule : policy.rules()) {
    if (rule.disabled()) continue;
    Evaluation e = Evaluate(rule, input, category, policy, now);
    if (!e.fired) continue;
    (rule.effect() == v1::RULE_EFFECT_FLOOR ? floors : steps).push_back({&rule, std::move(e)});
  }

  v1::GradingResult result;
  int grade = v1::COMPLAINT_GRADE_G1_GENERAL;
  auto record = [&](const Hit& hit) {
    v1::FiredRule* fired = result.add_rules();
    fired->set_rule_id(hit.rule->rule_id());
    fired->set_description(hit.rule->description());
    fired->set_effect(hit.rule->effect());
    if (hit.rule->effect() == v1::RULE_EFFECT_FLOOR) fired->set_floor(hit.rule->floor());
    fired->set_grade_after(static_cast<v1::ComplaintGrade>(grade));
    for (const auto& s : hit.evaluation.evidence) fired->add_evidence(s);
  };
  for (const Hit& hit : floors) {
    grade = std::max<int>(grade, hit.rule->floor());
    record(hit);
  }
  for (const Hit& hit : steps) {
    grade = std::min<int>(grade + 1, v1::COMPLAINT_GRADE_G4_CRITICAL);
    record(hit);
  }
  const auto final_grade = static_cast<v1::ComplaintGrade>(grade);
  result.set_grade(final_grade);
  *result.mutable_policy() = policy.ref();
  *result.mutable_graded_at() = rpc::ToProto(now);
  const v1::GradeTarget& target = TargetFor(policy, final_grade);
  result.set_owner_level(target.owner());
  *result.mutable_acknowledge_budget() = target.acknowledge();
  *result.mutable_resolve_budget() = target.resolve();
  result.set_category(category.category);
  result.set_category_inferred(category.inferred);
  for (const auto& w : category.evidence) result.add_category_evidence(w);
  return result;
}

bool Fired(const v1::GradingResult& result, absl::string_view rule_id) {
  for (const auto& r : result.rules()) {
    if (r.rule_id() == rule_id) return true;
  }
  return false;
}

}  // namespace aftersales::complaint::domain
