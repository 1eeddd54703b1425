#include "intake/domain/priority.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace aftersales::intake::domain {
namespace {

constexpr int kMaxMatchedTerms = 32;

bool IsAsciiWordChar(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)); }

// Case-insensitive search of an already lowercased keyword in an already
// lowercased text, with word boundaries on ASCII-alphanumeric keyword edges.
bool ContainsLowered(absl::string_view text, absl::string_view keyword) {
  if (keyword.empty()) return false;
  const bool bound_front = IsAsciiWordChar(keyword.front());
  const bool bound_back = IsAsciiWordChar(keyword.back());
  for (size_t pos = text.find(keyword); pos != absl::string_view::npos;
       pos = text.find(keyword, pos + 1)) {
    const size_t end = pos + keyword.size();
    if (bound_front && pos > 0 && IsAsciiWordChar(text[pos - 1])) continue;
    if (bound_back && end < text.size() && IsAsciiWordChar(text[end])) continue;
    return true;
  }
  return false;
}

// Collects reasons and terms without duplicates.
class Matches {
 public:
  void Reason(v1::PriorityReason reason) {
    if (std::find(reasons_.begin(), reasons_.end(), reason) == reasons_.end()) {
      reasons_.push_back(reason);
    }
  }
  void Term(const std::string& term) {
    if (terms_.size() < kMaxMatchedTerms &&
        std::find(terms_.begin(), terms_.end(), term) == terms_.end()) {
      terms_.push_back(term);
    }
  }
  void Raise(v1::Priority p) { priority_ = std::max(priority_, p); }

  v1::Priority priority() const { return priority_; }
  bool empty() const { return reasons_.empty(); }
  std::vector<v1::PriorityReason>& reasons() { return reasons_; }
  const std::vector<std::string>& terms() const { return terms_; }

 private:
  v1::Priority priority_ = v1::PRIORITY_NORMAL;
  std::vector<v1::PriorityReason> reasons_;
  std::vector<std::string> terms_;
};

}  // namespace

bool ContainsTerm(absl::string_view text, absl::string_view keyword) {
  return ContainsLowered(absl::AsciiStrToLower(text), absl::AsciiStrToLower(keyword));
}

v1::Priority RaisePriority(v1::Priority priority, int levels) {
  int p = priority == v1::PRIORITY_UNSPECIFIED ? v1::PRIORITY_NORMAL : priority;
  p = std::clamp(p + std::max(levels, 0), static_cast<int>(v1::PRIORITY_NORMAL),
                 static_cast<int>(v1::PRIORITY_EMERGENCY));
  return static_cast<v1::Priority>(p);
}

v1::PriorityDecision DecidePriority(const PriorityInput& input,
                                    const v1::PriorityPolicy& policy,
                                    const v1::PolicyRef& ref) {
  const std::string text = absl::AsciiStrToLower(input.fault_text);
  const std::string code =
      absl::AsciiStrToLower(absl::StripAsciiWhitespace(input.fault_code));
  Matches m;

  for (const std::string& keyword : policy.safety_keywords()) {
    if (ContainsLowered(text, absl::AsciiStrToLower(keyword))) {
      m.Reason(v1::PRIORITY_REASON_SAFETY_KEYWORD);
      m.Term(keyword);
      m.Raise(v1::PRIORITY_EMERGENCY);
    }
  }
  if (!code.empty()) {
    for (const std::string& prefix : policy.safety_fault_code_prefixes()) {
      if (!prefix.empty() && absl::StartsWith(code, absl::AsciiStrToLower(prefix))) {
        m.Reason(v1::PRIORITY_REASON_SAFETY_FAULT_CODE);
        m.Term(prefix);
        m.Raise(v1::PRIORITY_EMERGENCY);
      }
    }
  }
  for (const v1::CoreFunctionRule& rule : policy.core_function_rules()) {
    if (!absl::EqualsIgnoreCase(rule.appliance_category(), input.appliance_category)) continue;
    if (!rule.months().empty() &&
        std::find(rule.months().begin(), rule.months().end(), input.local_month) ==
            rule.months().end()) {
      continue;
    }
    for (const std::string& keyword : rule.keywords()) {
      if (ContainsLowered(text, absl::AsciiStrToLower(keyword))) {
        m.Reason(v1::PRIORITY_REASON_CORE_FUNCTION_HARM);
        m.Term(keyword);
        m.Raise(rule.priority() == v1::PRIORITY_UNSPECIFIED ? v1::PRIORITY_EMERGENCY
                                                            : rule.priority());
      }
    }
  }
  for (const std::string& keyword : policy.key_function_keywords()) {
    if (ContainsLowered(text, absl::AsciiStrToLower(keyword))) {
      m.Reason(v1::PRIORITY_REASON_KEY_FUNCTION_LOST);
      m.Term(keyword);
      m.Raise(v1::PRIORITY_URGENT);
    }
  }
  if (policy.vip_is_urgent() && input.tier == v1::CUSTOMER_TIER_VIP) {
    m.Reason(v1::PRIORITY_REASON_VIP_CUSTOMER);
    m.Raise(v1::PRIORITY_URGENT);
  }
  if (policy.rework_is_urgent() && input.is_rework) {
    m.Reason(v1::PRIORITY_REASON_REWORK);
    m.Raise(v1::PRIORITY_URGENT);
  }

  v1::Priority priority = m.priority();
  if (input.has_priority_right && priority < v1::PRIORITY_EMERGENCY) {
    priority = RaisePriority(priority, 1);
    m.Reason(v1::PRIORITY_REASON_PRIORITY_SERVICE_RIGHT);
  }
  if (m.empty()) m.Reason(v1::PRIORITY_REASON_DEFAULT);
  std::sort(m.reasons().begin(), m.reasons().end());

  v1::PriorityDecision decision;
  decision.set_priority(priority);
  decision.set_previous(v1::PRIORITY_UNSPECIFIED);
  for (v1::PriorityReason reason : m.reasons()) decision.add_reasons(reason);
  for (const std::string& term : m.terms()) decision.add_matched_terms(term);
  *decision.mutable_policy() = ref;
  decision.mutable_decided_by()->set_principal_id("system");
  decision.mutable_decided_by()->set_role(v1::ROLE_SYSTEM);
  return decision;
}

bool UsesPriorityRight(const v1::PriorityDecision& decision) {
  return std::find(decision.reasons().begin(), decision.reasons().end(),
                   v1::PRIORITY_REASON_PRIORITY_SERVICE_RIGHT) != decision.reasons().end();
}

}  // namespace aftersales::intake::domain
