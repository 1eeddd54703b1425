#include "complaint/domain/policy.h"

#include <optional>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "rpc/rpc.h"
#include "server/policy_holder.h"
#include "rpc/validate.h"

namespace aftersales::complaint::domain {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

std::string At(absl::string_view field, int index) {
  return absl::StrCat(field, "[", index, "]");
}

std::optional<absl::Duration> DurationOf(const google::protobuf::Duration& d) {
  if (d.nanos() <= -1'000'000'000 || d.nanos() >= 1'000'000'000) return std::nullopt;
  if ((d.seconds() > 0 && d.nanos() < 0) || (d.seconds() < 0 && d.nanos() > 0)) {
    return std::nullopt;
  }
  return rpc::FromProto(d);
}

absl::Status CheckDuration(absl::string_view field, bool present,
                           const google::protobuf::Duration& d, absl::Duration lo,
                           absl::Duration hi, absl::string_view range_text) {
  if (!present) return Invalid(field, "required");
  std::optional<absl::Duration> value = DurationOf(d);
  if (!value || *value < lo || *value > hi) {
    return Invalid(field, absl::StrCat("must be in ", range_text));
  }
  return absl::OkStatus();
}

absl::Status CheckKeywordList(absl::string_view field,
                              const google::protobuf::RepeatedPtrField<std::string>& list,
                              int max_items) {
  if (list.size() > max_items) {
    return Invalid(field, absl::StrCat("at most ", max_items, " entries"));
  }
  for (int i = 0; i < list.size(); ++i) {
    const std::string item = At(field, i);
    if (!list[i].empty() && absl::StripAsciiWhitespace(list[i]).empty()) {
      return Invalid(item, "must not be blank");
    }
    if (absl::Status s = rpc::Validator().Text(item, list[i], 64, true).status(); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

bool KnownGrade(v1::ComplaintGrade g) {
  return g >= v1::COMPLAINT_GRADE_G1_GENERAL && g <= v1::COMPLAINT_GRADE_G4_CRITICAL;
}

bool KnownLevel(int level) {
  return v1::OwnerLevel_IsValid(level) && level != v1::OWNER_LEVEL_UNSPECIFIED;
}

absl::Status CheckRule(const std::string& path, const v1::GradingRule& rule) {
  rpc::Validator v;
  v.Id(path + ".rule_id", rule.rule_id(), 64)
      .Enum(path + ".kind", rule.kind(), v1::GradingRuleKind_IsValid(rule.kind()))
      .Text(path + ".description", rule.description(), 500, true);
  if (!v.status().ok()) return v.status();
  switch (rule.effect()) {
    case v1::RULE_EFFECT_FLOOR:
      if (!KnownGrade(rule.floor())) return Invalid(path + ".floor", "must be G1..G4 for a FLOOR rule");
      break;
    case v1::RULE_EFFECT_STEP:
      if (rule.floor() != v1::COMPLAINT_GRADE_UNSPECIFIED) {
        return Invalid(path + ".floor", "must be unset for a STEP rule");
      }
      break;
    default:
      return Invalid(path + ".effect", "must be FLOOR or STEP");
  }
  if (rule.kind() == v1::GRADING_RULE_KIND_CATEGORY) {
    if (rule.categories_size() < 1 || rule.categories_size() > 9) {
      return Invalid(path + ".categories", "a CATEGORY rule names 1..9 categories");
    }
    for (int i = 0; i < rule.categories_size(); ++i) {
      const int c = rule.categories(i);
      if (!v1::ComplaintCategory_IsValid(c) || c == v1::COMPLAINT_CATEGORY_UNSPECIFIED) {
        return Invalid(At(path + ".categories", i), "unknown category");
      }
    }
  } else if (rule.categories_size() > 0) {
    return Invalid(path + ".categories", "only CATEGORY rules name categories");
  }
  if (rule.kind() == v1::GRADING_RULE_KIND_CHANNEL) {
    if (rule.channels_size() < 1 || rule.channels_size() > 9) {
      return Invalid(path + ".channels", "a CHANNEL rule names 1..9 channels");
    }
    for (int i = 0; i < rule.channels_size(); ++i) {
      const int c = rule.channels(i);
      if (!v1::ComplaintChannel_IsValid(c) || c == v1::COMPLAINT_CHANNEL_UNSPECIFIED) {
        return Invalid(At(path + ".channels", i), "unknown channel");
      }
    }
  } else if (rule.channels_size() > 0) {
    return Invalid(path + ".channels", "only CHANNEL rules name channels");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::ComplaintPolicy> ParseComplaintPolicy(absl::string_view text_proto) {
  v1::ComplaintPolicy policy;
  if (absl::Status s = server::ParseTextPolicy(text_proto, &policy); !s.ok()) return s;
  if (absl::Status s = ValidateComplaintPolicy(policy); !s.ok()) return s;
  return policy;
}

absl::Status ValidateComplaintPolicy(const v1::ComplaintPolicy& policy) {
  absl::Status s = rpc::Validator()
                       .Id("ref.name", policy.ref().name(), 64)
                       .Id("ref.version", policy.ref().version(), 64)
                       .status();
  if (!s.ok()) return s;

  if (policy.grades_size() != 4) return Invalid("grades", "exactly 4 entries, G1..G4");
  std::set<int> grades;
  for (int i = 0; i < policy.grades_size(); ++i) {
    const v1::GradeTarget& g = policy.grades(i);
    const std::string path = At("grades", i);
    if (!KnownGrade(g.grade())) return Invalid(path + ".grade", "must be G1..G4");
    if (!grades.insert(g.grade()).second) return Invalid(path + ".grade", "duplicate grade");
    if (!KnownLevel(g.owner())) return Invalid(path + ".owner", "required");
    if (s = CheckDuration(path + ".acknowledge", g.has_acknowledge(), g.acknowledge(),
                          absl::Minutes(1), absl::Hours(24 * 30), "[1 min, 30 days]");
        !s.ok()) {
      return s;
    }
    if (s = CheckDuration(path + ".resolve", g.has_resolve(), g.resolve(), absl::Minutes(1),
                          absl::Hours(24 * 30), "[1 min, 30 days]");
        !s.ok()) {
      return s;
    }
  }

  if (s = CheckKeywordList("safety_keywords", policy.safety_keywords(), 512); !s.ok()) return s;
  if (s = CheckKeywordList("public_pressure_keywords", policy.public_pressure_keywords(), 512);
      !s.ok()) {
    return s;
  }
  if (s = CheckKeywordList("strong_emotion_keywords", policy.strong_emotion_keywords(), 512);
      !s.ok()) {
    return s;
  }
  if (policy.same_model_threshold() < 1 || policy.same_model_threshold() > 1000) {
    return Invalid("same_model_threshold", "must be in [1, 1000]");
  }
  if (s = CheckDuration("same_model_window", policy.has_same_model_window(),
                        policy.same_model_window(), absl::Hours(1), absl::Hours(24 * 90),
                        "[1 h, 90 days]");
      !s.ok()) {
    return s;
  }
  if (policy.repeat_complainant_threshold() < 1 || policy.repeat_complainant_threshold() > 100) {
    return Invalid("repeat_complainant_threshold", "must be in [1, 100]");
  }
  if (s = CheckDuration("repeat_complainant_window", policy.has_repeat_complainant_window(),
                        policy.repeat_complainant_window(), absl::Hours(24),
                        absl::Hours(24 * 365), "[1 day, 365 days]");
      !s.ok()) {
    return s;
  }

  if (policy.rules_size() < 1 || policy.rules_size() > 64) {
    return Invalid("rules", "1..64 rules");
  }
  std::set<std::string> ids;
  for (int i = 0; i < policy.rules_size(); ++i) {
    const std::string path = At("rules", i);
    if (s = CheckRule(path, policy.rules(i)); !s.ok()) return s;
    if (!ids.insert(policy.rules(i).rule_id()).second) {
      return Invalid(path + ".rule_id",
                     absl::StrCat("duplicate rule id \"", policy.rules(i).rule_id(), "\""));
    }
  }

  if (policy.escalation_ladder_size() < 1 || policy.escalation_ladder_size() > 4) {
    return Invalid("escalation_ladder", "1..4 owner levels");
  }
  for (int i = 0; i < policy.escalation_ladder_size(); ++i) {
    const int level = policy.escalation_ladder(i);
    if (!KnownLevel(level)) return Invalid(At("escalation_ladder", i), "unknown owner level");
    if (i > 0 && level <= policy.escalation_ladder(i - 1)) {
      return Invalid(At("escalation_ladder", i), "levels must be strictly ascending");
    }
  }
  for (int i = 0; i < policy.grades_size(); ++i) {
    bool on_ladder = false;
    for (int level : policy.escalation_ladder()) on_ladder |= level == policy.grades(i).owner();
    if (!on_ladder) return Invalid(At("grades", i) + ".owner", "not on the escalation_ladder");
  }

  if (policy.category_keywords_size() > 16) {
    return Invalid("category_keywords", "at most 16 entries");
  }
  for (int i = 0; i < policy.category_keywords_size(); ++i) {
    const v1::CategoryKeywords& ck = policy.category_keywords(i);
    const std::string path = At("category_keywords", i);
    if (!v1::ComplaintCategory_IsValid(ck.category()) ||
        ck.category() == v1::COMPLAINT_CATEGORY_UNSPECIFIED) {
      return Invalid(path + ".category", "required");
    }
    if (ck.keywords_size() < 1) return Invalid(path + ".keywords", "at least one keyword");
    if (s = CheckKeywordList(path + ".keywords", ck.keywords(), 512); !s.ok()) return s;
  }
  if (!(policy.at_risk_fraction() > 0 && policy.at_risk_fraction() < 1)) {
    return Invalid("at_risk_fraction", "must be in (0, 1)");
  }
  return absl::OkStatus();
}

const v1::GradeTarget& TargetFor(const v1::ComplaintPolicy& policy, v1::ComplaintGrade grade) {
  for (const auto& g : policy.grades()) {
    if (g.grade() == grade) return g;
  }
  static const v1::GradeTarget* none = new v1::GradeTarget;
  return *none;
}

v1::OwnerLevel NextOwnerLevel(const v1::ComplaintPolicy& policy, v1::OwnerLevel level) {
  for (int l : policy.escalation_ladder()) {
    if (l > level) return static_cast<v1::OwnerLevel>(l);
  }
  return level;
}

}  // namespace aftersales::complaint::domain
